package dev.batchserve.pipelines.recommend;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.TopKModelFiles;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.inference.ModelStaging;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.TransformResult;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Top-k recommendations per user with a top-k model ({@link TopKModelFiles}, exported by
 * batchserve-training's {@code TopKExporter}): {@code KV<user, Row>} (rows of {@link #USER_SCHEMA}:
 * embedding and purchased item ids) to one
 * {@code KV<user, Prediction>} per user whose {@code items} are item ids, best first, and {@code
 * scores} their scores.
 *
 * <p>Each user with an embedding becomes a vector ({@link TopKAdapter.Bound#row}: the embedding and
 * the catalog indices of the purchased items) scored by {@link BatchInfer} through
 * {@link TopKAdapter}: batches of up to {@link #withMaxBatchSize} users (default 256) inside the
 * bundle, one {@code predictNamed} call per batch with the purchased items masked before top-k, so
 * a user never gets an item they already bought and still gets k items while the catalog allows.
 * The model comes from the per-JVM shared cache. A batch the model refuses is bisected: a user it
 * refuses alone (e.g. a NaN in the embedding) is a dead letter ({@code inference},
 * {@code inference_error}) and the rest of the batch is recommended.
 *
 * <p>A user without an embedding (a new user) gets the {@link #withColdStart} fallback (e.g.
 * {@link Fallback#popularity}) with reason {@code cold_start}; an embedding of the wrong size is a
 * dead letter ({@code recommend}, {@code wrong_feature_count}, field {@code embedding}); purchased
 * ids not in the catalog are ignored and counted ({@code unknown_purchased_items}).
 *
 * <pre>{@code
 * Recommend.Result r = users.apply(Recommend.withModel("/models/recs/1").withRunInfo(run)
 *     .withColdStart(Fallback.popularity(catalog.mostPopular(100), catalog.mostPopularScores(100))));
 * r.predictions().apply(SinkWithMetadata.<String>files("/predictions/recs").withRunInfo(run));
 * }</pre>
 */
public final class Recommend extends PTransform<PCollection<KV<String, Row>>, Recommend.Result> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.recommend";
  /**
   * A user row: id, embedding (null for a new user: cold start) and purchased item ids. Only
   * {@code embedding} and {@code purchased} are read, by name; other fields may follow.
   */
  public static final Schema USER_SCHEMA = Schema.builder()
      .addStringField("user_id")
      .addNullableField("embedding", FieldType.array(FieldType.FLOAT))
      .addArrayField("purchased", FieldType.STRING)
      .build();

  private final String modelUri;
  private @Nullable RunInfo run;
  private Fallback coldStart = Fallback.abstain();
  private int maxBatchSize = 256;

  private Recommend(String modelUri) {
    this.modelUri = modelUri;
  }

  private Recommend copy() {
    Recommend c = new Recommend(modelUri);
    c.run = run;
    c.coldStart = coldStart;
    c.maxBatchSize = maxBatchSize;
    return c;
  }

  public static Recommend withModel(String modelUri) {
    checkArgument(modelUri != null && !modelUri.isEmpty(), "modelUri must be set, but was '%s'", modelUri);
    return new Recommend(modelUri);
  }

  /** The run every prediction is stamped with (required). */
  public Recommend withRunInfo(RunInfo r) {
    Recommend c = copy();
    c.run = Objects.requireNonNull(r, "run");
    return c;
  }

  /** What a user without an embedding gets (default {@link Fallback#abstain()}). */
  public Recommend withColdStart(Fallback f) {
    Recommend c = copy();
    c.coldStart = Objects.requireNonNull(f, "fallback");
    return c;
  }

  /** Users per model call, 1 to 100,000 (default 256); the exclusion mask is batch x catalog floats. */
  public Recommend withMaxBatchSize(int n) {
    checkArgument(n >= 1 && n <= BatchInfer.MAX_BATCH_SIZE_LIMIT,
        "maxBatchSize must be in [1, %s], but was %s", BatchInfer.MAX_BATCH_SIZE_LIMIT, n);
    Recommend c = copy();
    c.maxBatchSize = n;
    return c;
  }

  @Override
  public Result expand(PCollection<KV<String, Row>> input) {
    checkState(run != null, "Recommend needs withRunInfo(run) so predictions carry a run id");
    Coder<KV<String, Prediction>> predictionCoder = KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of());
    TupleTag<KV<String, FeatureVector>> toScore = new TupleTag<>() {};
    TupleTag<KV<String, Prediction>> coldStarts = new TupleTag<>() {};
    TupleTag<DeadLetter> rejected = new TupleTag<>() {};
    PCollectionTuple users = input.apply("EncodeUsers", ParDo.of(new EncodeUsersFn(modelUri, run, coldStart, toScore, coldStarts, rejected))
        .withOutputTags(toScore, TupleTagList.of(coldStarts).and(rejected)));
    BatchInfer.Result<String> scored = users.get(toScore)
        .setCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of()))
        .apply("TopK", BatchInfer.<String>withModel(modelUri).withRunInfo(run).withMaxBatchSize(maxBatchSize)
            .withModelAdapter(new TopKAdapter()));
    PCollection<KV<String, Prediction>> predictions = PCollectionList.of(scored.predictions())
        .and(users.get(coldStarts).setCoder(predictionCoder))
        .apply("Predictions", Flatten.pCollections()).setCoder(predictionCoder);
    PCollection<DeadLetter> deadLetters = PCollectionList.of(users.get(rejected).setCoder(DeadLetter.DeadLetterCoder.of()))
        .and(scored.deadLetters())
        .apply("DeadLetters", Flatten.pCollections()).setCoder(DeadLetter.DeadLetterCoder.of());
    return new Result(input.getPipeline(), predictions, deadLetters);
  }

  /** Predictions (model and cold-start fallbacks) and dead letters. */
  public static final class Result extends TransformResult {
    private final PCollection<KV<String, Prediction>> predictions;
    private final PCollection<DeadLetter> deadLetters;

    Result(Pipeline pipeline, PCollection<KV<String, Prediction>> predictions, PCollection<DeadLetter> deadLetters) {
      super(pipeline);
      this.predictions = output("predictions", predictions);
      this.deadLetters = output("deadLetters", deadLetters);
    }

    /** One per user: the model's top items, or the cold-start fallback. */
    public PCollection<KV<String, Prediction>> predictions() {
      return predictions;
    }

    /** Users whose embedding has the wrong size, and the users the model failed on. */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }
  }

  /**
   * Users to vectors for {@link TopKAdapter}; new users get the cold-start fallback and a wrong-size
   * embedding is a dead letter. Holds the model through the shared cache (the one BatchInfer scores
   * with, loaded once per JVM) for its size, catalog and version.
   */
  static final class EncodeUsersFn extends DoFn<KV<String, Row>, KV<String, FeatureVector>> {
    private final String modelUri;
    private final RunInfo run;
    private final Fallback coldStart;
    private final TupleTag<KV<String, FeatureVector>> toScore;
    private final TupleTag<KV<String, Prediction>> coldStarts;
    private final TupleTag<DeadLetter> rejected;
    private final Counter coldStartCount = Metrics.counter(METRICS_NAMESPACE, "cold_starts");
    private final Counter unknownPurchases = Metrics.counter(METRICS_NAMESPACE, "unknown_purchased_items");

    private transient @Nullable ModelHandle handle;
    private transient TopKAdapter.@Nullable Bound model;

    EncodeUsersFn(String modelUri, RunInfo run, Fallback coldStart, TupleTag<KV<String, FeatureVector>> toScore,
        TupleTag<KV<String, Prediction>> coldStarts, TupleTag<DeadLetter> rejected) {
      this.modelUri = modelUri;
      this.run = run;
      this.coldStart = coldStart;
      this.toScore = toScore;
      this.coldStarts = coldStarts;
      this.rejected = rejected;
    }

    @Setup
    public void setup() {
      Path dir = ModelStaging.localize(modelUri);
      handle = SharedModelCache.acquire(dir);
      try {
        model = TopKAdapter.bind(handle.model(), dir);
      } catch (RuntimeException e) {
        handle.close();
        handle = null;
        throw e;
      }
    }

    @Teardown
    public void teardown() {
      if (handle != null) {
        handle.close();
        handle = null;
      }
    }

    @ProcessElement
    public void process(@Element KV<String, Row> user, MultiOutputReceiver out) {
      TopKAdapter.Bound m = Objects.requireNonNull(model);
      Collection<Float> emb = user.getValue().getArray("embedding");
      if (emb == null) {
        coldStartCount.inc();
        out.get(coldStarts).output(KV.of(user.getKey(), coldStart.fallback(user.getKey(), Reasons.COLD_START, run,
            Objects.requireNonNull(handle).manifest().getVersion(), null)));
        return;
      }
      if (emb.size() != m.dim()) {
        out.get(rejected).output(DeadLetter.of("recommend", user.getKey(), DeadLetter.rowRecord(user.getValue()), "embedding",
            Reasons.WRONG_FEATURE_COUNT, "the model expects " + m.dim() + " values, the embedding has " + emb.size()));
        return;
      }
      float[] embedding = new float[emb.size()];
      int d = 0;
      for (Float v : emb) {
        embedding[d++] = v == null ? Float.NaN : v; // the model refuses it: a dead letter, not a crash
      }
      Collection<String> bought = user.getValue().getArray("purchased");
      int[] excluded = new int[bought == null ? 0 : bought.size()];
      int n = 0;
      if (bought != null) {
        for (String item : bought) {
          int idx = m.indexOf(item);
          if (idx < 0) {
            unknownPurchases.inc();
          } else {
            excluded[n++] = idx;
          }
        }
      }
      out.get(toScore).output(KV.of(user.getKey(), TopKAdapter.Bound.row(embedding, Arrays.copyOf(excluded, n))));
    }
  }
}
