package dev.batchserve.pipelines.recommend;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.transforms.inference.ModelStaging;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * Top-k recommendations per user with a model exported by {@link TopKExporter}: {@code KV<user,
 * Row>} (rows of {@link RecommendSample#USER_SCHEMA}: embedding and purchased item ids) to one
 * {@code KV<user, Prediction>} per user whose {@code items} are item ids, best first, and {@code
 * scores} their scores.
 *
 * <p>Users are batched inside the bundle, per window (up to {@link #withMaxBatchSize}, default 256,
 * flushed when full and in {@code @FinishBundle}) and scored by one {@code predictNamed} call per
 * batch with the purchased items masked before top-k, so a user never gets an item they already
 * bought and still gets k items while the catalog allows. The model comes from the per-JVM shared
 * cache ({@code @Setup}/{@code @Teardown}). A user without an embedding (a new user) gets the
 * {@link #withColdStart} fallback (e.g. {@link Fallback#popularity}) with reason {@code cold_start};
 * an embedding of the wrong size is a dead letter ({@code wrong_feature_count}); purchased ids not
 * in the catalog are ignored and counted ({@code unknown_purchased_items}).
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

  private final String modelUri;
  private final @Nullable RunInfo run;
  private final Fallback coldStart;
  private final int maxBatchSize;

  private Recommend(String modelUri, @Nullable RunInfo run, Fallback coldStart, int maxBatchSize) {
    this.modelUri = modelUri;
    this.run = run;
    this.coldStart = coldStart;
    this.maxBatchSize = maxBatchSize;
  }

  public static Recommend withModel(String modelUri) {
    checkArgument(modelUri != null && !modelUri.isEmpty(), "modelUri must be set, but was '%s'", modelUri);
    return new Recommend(modelUri, null, Fallback.abstain(), 256);
  }

  /** The run every prediction is stamped with (required). */
  public Recommend withRunInfo(RunInfo r) {
    return new Recommend(modelUri, Objects.requireNonNull(r, "run"), coldStart, maxBatchSize);
  }

  /** What a user without an embedding gets (default {@link Fallback#abstain()}). */
  public Recommend withColdStart(Fallback f) {
    return new Recommend(modelUri, run, Objects.requireNonNull(f, "fallback"), maxBatchSize);
  }

  /** Users per model call, 1 to 100,000 (default 256); the exclusion mask is batch x catalog floats. */
  public Recommend withMaxBatchSize(int n) {
    checkArgument(n >= 1 && n <= 100_000, "maxBatchSize must be in [1, 100000], but was %s", n);
    return new Recommend(modelUri, run, coldStart, n);
  }

  @Override
  public Result expand(PCollection<KV<String, Row>> input) {
    checkState(run != null, "Recommend needs withRunInfo(run) so predictions carry a run id");
    TupleTag<KV<String, Prediction>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    PCollectionTuple out = input.apply("TopK",
        ParDo.of(new TopKFn(modelUri, run, coldStart, maxBatchSize, ok, dead)).withOutputTags(ok, TupleTagList.of(dead)));
    return new Result(input.getPipeline(),
        out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())),
        out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of()));
  }

  /** Predictions (model and cold-start fallbacks) and dead letters. */
  public static final class Result implements POutput {
    private final Pipeline pipeline;
    private final PCollection<KV<String, Prediction>> predictions;
    private final PCollection<DeadLetter> deadLetters;

    Result(Pipeline pipeline, PCollection<KV<String, Prediction>> predictions, PCollection<DeadLetter> deadLetters) {
      this.pipeline = pipeline;
      this.predictions = predictions;
      this.deadLetters = deadLetters;
    }

    public PCollection<KV<String, Prediction>> predictions() {
      return predictions;
    }

    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    @Override
    public Pipeline getPipeline() {
      return pipeline;
    }

    @Override
    public Map<TupleTag<?>, PValue> expand() {
      Map<TupleTag<?>, PValue> m = new HashMap<>();
      m.put(new TupleTag<>("predictions"), predictions);
      m.put(new TupleTag<>("deadLetters"), deadLetters);
      return m;
    }

    @Override
    public void finishSpecifyingOutput(String transformName, PInput input, PTransform<?, ?> transform) {}
  }

  private static final class Pending {
    final List<KV<String, Row>> users = new ArrayList<>();
    Instant maxTimestamp = BoundedWindow.TIMESTAMP_MIN_VALUE;
  }

  static final class TopKFn extends DoFn<KV<String, Row>, KV<String, Prediction>> {
    private final String modelUri;
    private final RunInfo run;
    private final Fallback coldStart;
    private final int maxBatchSize;
    private final TupleTag<KV<String, Prediction>> ok;
    private final TupleTag<DeadLetter> dead;
    private final Counter recommended = Metrics.counter(METRICS_NAMESPACE, "users_recommended");
    private final Counter coldStarts = Metrics.counter(METRICS_NAMESPACE, "cold_starts");
    private final Counter unknownPurchases = Metrics.counter(METRICS_NAMESPACE, "unknown_purchased_items");
    private final Distribution batchLatencyUs = Metrics.distribution(METRICS_NAMESPACE, "batch_latency_us");

    private transient @Nullable ModelHandle handle;
    private transient List<String> itemIds;
    private transient Map<String, Integer> itemIndex;
    private transient int dim;
    private transient Map<BoundedWindow, Pending> pending;

    TopKFn(String modelUri, RunInfo run, Fallback coldStart, int maxBatchSize,
        TupleTag<KV<String, Prediction>> ok, TupleTag<DeadLetter> dead) {
      this.modelUri = modelUri;
      this.run = run;
      this.coldStart = coldStart;
      this.maxBatchSize = maxBatchSize;
      this.ok = ok;
      this.dead = dead;
    }

    @Setup
    public void setup() {
      Path dir = ModelStaging.localize(modelUri);
      handle = SharedModelCache.acquire(dir);
      dev.batchserve.models.ModelSignature sig = handle.model().signature();
      if (sig.input(TopKExporter.USER) == null || sig.input(TopKExporter.EXCLUDE) == null
          || sig.output(TopKExporter.ITEMS) == null || sig.output(TopKExporter.SCORES) == null) {
        String found = "inputs " + sig.getInputs() + ", outputs " + sig.getOutputs();
        handle.close();
        handle = null;
        throw new IllegalArgumentException("model " + modelUri + " is not a top-k model exported by TopKExporter"
            + " (inputs user, exclude; outputs items, scores), but has " + found);
      }
      dim = (int) sig.input(TopKExporter.USER).lastDimension();
      itemIds = TopKExporter.readItemIds(dir);
      itemIndex = new HashMap<>();
      for (int i = 0; i < itemIds.size(); i++) {
        itemIndex.put(itemIds.get(i), i);
      }
    }

    @Teardown
    public void teardown() {
      if (handle != null) {
        handle.close();
        handle = null;
      }
    }

    @StartBundle
    public void startBundle() {
      pending = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element KV<String, Row> user, @Timestamp Instant ts, BoundedWindow window, MultiOutputReceiver out) {
      java.util.Collection<Float> emb = user.getValue().getArray("embedding");
      if (emb == null) {
        coldStarts.inc();
        out.get(ok).output(KV.of(user.getKey(),
            coldStart.fallback(user.getKey(), "cold_start", run, manifest().getVersion(), null)));
        return;
      }
      if (emb.size() != dim) {
        out.get(dead).output(DeadLetter.of("recommend", user.getKey(), user.getValue().toString(), "embedding",
            "wrong_feature_count", "the model expects " + dim + " values, the embedding has " + emb.size()));
        return;
      }
      Pending p = pending.computeIfAbsent(window, w -> new Pending());
      p.users.add(user);
      if (ts.isAfter(p.maxTimestamp)) {
        p.maxTimestamp = ts;
      }
      if (p.users.size() >= maxBatchSize) {
        pending.remove(window);
        Instant at = p.maxTimestamp;
        for (KV<String, Prediction> kv : score(p.users)) {
          out.get(ok).outputWithTimestamp(kv, at);
        }
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (Map.Entry<BoundedWindow, Pending> e : pending.entrySet()) {
        for (KV<String, Prediction> kv : score(e.getValue().users)) {
          c.output(ok, kv, e.getValue().maxTimestamp, e.getKey());
        }
      }
      pending.clear();
    }

    private ModelManifest manifest() {
      return Objects.requireNonNull(handle).manifest();
    }

    private List<KV<String, Prediction>> score(List<KV<String, Row>> users) {
      int n = users.size();
      float[][] u = new float[n][dim];
      float[][] exclude = new float[n][itemIds.size()];
      for (int i = 0; i < n; i++) {
        Row r = users.get(i).getValue();
        int d = 0;
        for (Float v : r.<Float>getArray("embedding")) {
          u[i][d++] = v;
        }
        java.util.Collection<String> bought = r.getArray("purchased");
        if (bought != null) {
          for (String item : bought) {
            Integer idx = itemIndex.get(item);
            if (idx == null) {
              unknownPurchases.inc();
            } else {
              exclude[i][idx] = 1f;
            }
          }
        }
      }
      long t0 = System.nanoTime();
      Map<String, float[][]> out = Objects.requireNonNull(handle).model()
          .predictNamed(Map.of(TopKExporter.USER, u, TopKExporter.EXCLUDE, exclude));
      batchLatencyUs.update((System.nanoTime() - t0) / 1000);
      float[][] items = out.get(TopKExporter.ITEMS);
      float[][] scores = out.get(TopKExporter.SCORES);
      ModelManifest m = manifest();
      List<KV<String, Prediction>> result = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        List<String> ids = new ArrayList<>(items[i].length);
        float[] kept = new float[items[i].length];
        for (int j = 0; j < items[i].length; j++) {
          if (scores[i][j] <= -TopKExporter.EXCLUDED / 2) {
            break; // excluded items rank last: only when fewer than k items remain
          }
          kept[ids.size()] = scores[i][j];
          ids.add(itemIds.get((int) items[i][j]));
        }
        result.add(KV.of(users.get(i).getKey(), Prediction.builder()
            .items(ids)
            .scores(Arrays.copyOf(kept, ids.size()))
            .model(m.getName(), m.getVersion())
            .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
            .runId(run.runId())
            .build()));
      }
      recommended.inc(n);
      return result;
    }
  }
}
