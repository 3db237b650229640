package dev.batchserve.pipelines.recommend;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.models.TopKModelFiles;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.inference.ModelAdapter;
import dev.batchserve.transforms.values.Prediction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Runs a top-k model ({@link TopKModelFiles}: exported by batchserve-training's
 * {@code TopKExporter}) in {@link BatchInfer}: one record per user,
 * its {@link FeatureVector} the user's embedding followed by the catalog indices of the items the
 * user must not get ({@link Bound#row}); one {@link Prediction} per user whose {@code items} are
 * item ids from the model's {@value TopKModelFiles#ITEM_IDS}, best first (ties: the lower catalog
 * index, as TensorFlow's {@code topK}), and {@code scores} their scores. Excluded items are dropped,
 * so a user who bought most of the catalog gets fewer than k items.
 *
 * <p>A batch of rows becomes the model's two inputs, {@code user [b, d]} and a dense
 * {@code exclude [b, items]} mask, in one {@code predictNamed} call. A row the model refuses (a NaN
 * in the embedding) fails its batch, which BatchInfer bisects: that user alone becomes a dead letter
 * ({@code inference}, {@code inference_error}). Counts the users it recommends to in
 * {@code batchserve.recommend/users_recommended}.
 *
 * <pre>{@code
 * // vectors: KV<user id, FeatureVector> built with TopKAdapter.Bound.row(embedding, excludedIndices)
 * BatchInfer.Result<String> r = vectors.apply(BatchInfer.<String>withModel("/models/recs/1")
 *     .withRunInfo(run).withMaxBatchSize(256).withModelAdapter(new TopKAdapter()));
 * }</pre>
 *
 * <p>{@link Recommend} does exactly this, after turning user rows into vectors and giving new users
 * their fallback.
 */
public final class TopKAdapter implements ModelAdapter {
  private static final long serialVersionUID = 1L;

  /** Catalog indices travel as float32 values: exact up to 2^24. */
  static final int MAX_ITEMS = 1 << 24;

  @Override
  public Bound adapt(Model model, ModelManifest manifest, @Nullable Path modelDir) {
    if (modelDir == null) {
      throw new IllegalArgumentException("a top-k model needs its model directory for "
          + TopKModelFiles.ITEM_IDS + ": give BatchInfer the directory TopKExporter wrote, not a code model");
    }
    return bind(model, modelDir);
  }

  /**
   * Checks that {@code model}, loaded from {@code dir}, is a top-k model exported by
   * {@code TopKExporter} (batchserve-training), and reads its item ids.
   *
   * @throws IllegalArgumentException naming what the model has instead
   */
  public static Bound bind(Model model, Path dir) {
    ModelSignature sig = model.signature();
    TensorInfo user = sig.input(TopKModelFiles.USER);
    TensorInfo exclude = sig.input(TopKModelFiles.EXCLUDE);
    if (user == null || exclude == null
        || sig.output(TopKModelFiles.ITEMS) == null || sig.output(TopKModelFiles.SCORES) == null) {
      throw new IllegalArgumentException("model " + dir + " is not a top-k model exported by TopKExporter"
          + " (inputs user, exclude; outputs items, scores), but has inputs " + sig.getInputs()
          + ", outputs " + sig.getOutputs());
    }
    List<String> itemIds = TopKModelFiles.readItemIds(dir);
    long catalog = exclude.lastDimension();
    if (catalog != itemIds.size() || catalog > MAX_ITEMS) {
      throw new IllegalArgumentException("model " + dir + " has " + itemIds.size() + " item ids in "
          + TopKModelFiles.ITEM_IDS + " and an exclude input of " + catalog + " items; re-export it with"
          + " TopKExporter (one id per catalog item, at most " + MAX_ITEMS + " items)");
    }
    return new Bound(model, (int) user.lastDimension(), itemIds);
  }

  /** A top-k model bound to its catalog: the rows it takes, and the predictions it makes. */
  public static final class Bound implements ModelAdapter.Adapted {
    private final Model model;
    private final int dim;
    private final List<String> itemIds;
    private final Map<String, Integer> itemIndex;
    private final Counter recommended = Metrics.counter(Recommend.METRICS_NAMESPACE, "users_recommended");

    Bound(Model model, int dim, List<String> itemIds) {
      this.model = model;
      this.dim = dim;
      this.itemIds = itemIds;
      this.itemIndex = new HashMap<>();
      for (int i = 0; i < itemIds.size(); i++) {
        itemIndex.put(itemIds.get(i), i);
      }
    }

    /** Values of a user embedding. */
    public int dim() {
      return dim;
    }

    /** The catalog index of an item id, or -1 for an id the catalog does not have. */
    public int indexOf(String itemId) {
      Integer i = itemIndex.get(itemId);
      return i == null ? -1 : i;
    }

    /**
     * The vector of one user: the {@link #dim} values of the embedding, then the catalog indices
     * ({@link #indexOf}) of the items to exclude, in any order.
     */
    public static FeatureVector row(float[] embedding, int[] excluded) {
      float[] row = Arrays.copyOf(embedding, embedding.length + excluded.length);
      for (int i = 0; i < excluded.length; i++) {
        row[embedding.length + i] = excluded[i];
      }
      return FeatureVector.of(row);
    }

    /** Rows vary in length (the excluded items): {@link #predict} checks them. */
    @Override
    public int inputSize() {
      return -1;
    }

    /**
     * One {@code predictNamed} call for the batch; each output row is the k item indices, then
     * their k scores.
     *
     * @throws ModelInputException for a row shorter than the embedding or an excluded value that is
     *     no catalog index, and, from the model, for a non-finite embedding value
     */
    @Override
    public float[][] predict(float[][] rows) {
      int n = rows.length;
      float[][] user = new float[n][];
      float[][] exclude = new float[n][itemIds.size()];
      for (int i = 0; i < n; i++) {
        float[] row = rows[i];
        if (row.length < dim) {
          throw new ModelInputException("row " + i + " has " + row.length + " values, fewer than the "
              + dim + " of a user embedding");
        }
        user[i] = Arrays.copyOf(row, dim);
        for (int j = dim; j < row.length; j++) {
          int item = (int) row[j];
          if (item != row[j] || item < 0 || item >= itemIds.size()) {
            throw new ModelInputException("row " + i + ", value " + j + " is " + row[j]
                + ", not a catalog index in [0, " + itemIds.size() + ")");
          }
          exclude[i][item] = 1f;
        }
      }
      Map<String, float[][]> out = model.predictNamed(Map.of(TopKModelFiles.USER, user, TopKModelFiles.EXCLUDE, exclude));
      float[][] items = out.get(TopKModelFiles.ITEMS);
      float[][] scores = out.get(TopKModelFiles.SCORES);
      float[][] result = new float[n][];
      for (int i = 0; i < n; i++) {
        int k = items[i].length;
        result[i] = Arrays.copyOf(items[i], 2 * k);
        System.arraycopy(scores[i], 0, result[i], k, k);
      }
      return result;
    }

    /** The item ids and scores of one output row of {@link #predict}, excluded items dropped. */
    @Override
    public Prediction toPrediction(float[] output, Prediction.Builder envelope) {
      int k = output.length / 2;
      List<String> ids = new ArrayList<>(k);
      float[] kept = new float[k];
      for (int j = 0; j < k; j++) {
        if (output[k + j] <= -TopKModelFiles.EXCLUDED / 2) {
          break; // excluded items rank last: only when fewer than k items remain
        }
        kept[ids.size()] = output[k + j];
        ids.add(itemIds.get((int) output[j]));
      }
      recommended.inc();
      return envelope.items(ids).scores(Arrays.copyOf(kept, ids.size())).build();
    }
  }
}
