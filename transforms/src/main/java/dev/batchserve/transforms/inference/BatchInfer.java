package dev.batchserve.transforms.inference;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.CodeModel;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import dev.batchserve.transforms.values.TransformResult;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Batched in-worker inference: {@code KV<K, FeatureVector>} to {@code KV<K, Prediction>}.
 *
 * <p>Records are buffered inside the bundle, per window, and sent to the model in batches of up to
 * {@link #withMaxBatchSize} records (and {@link #withMaxBatchBytes} bytes); the buffer is flushed when
 * full and in {@code @FinishBundle}. Nothing is grouped by entity key to batch. The model comes from
 * the per-JVM {@link SharedModelCache}: it is acquired in {@code @Setup} and released in
 * {@code @Teardown}, so all DoFn instances of a worker share one loaded model. Each key is zipped back
 * to its own output row.
 *
 * <p>When a batch fails, it is split in halves until the failing records are isolated: they go to the
 * dead-letter output with the exception, the others are predicted. A batch that runs out of memory is
 * retried in halves too. When the share of failed records seen by a worker exceeds
 * {@link #withFailureThreshold}, the run aborts with a message giving the counts.
 *
 * <p>Batch sizes can instead adapt to the measured model latency between a minimum and a maximum
 * ({@link #withAdaptiveBatchSize}); the engine's threads, device and ONNX Runtime settings reach the
 * workers' model load through {@link #withModelOptions}.
 *
 * <p>Metrics (namespace {@value #METRICS_NAMESPACE}): counters {@code num_inferences},
 * {@code failed_records}, {@code failed_batches}; distributions {@code batch_size},
 * {@code batch_latency_us}, {@code model_load_ms}; with adaptive sizes the gauge
 * {@code batch_size_target}.
 *
 * <pre>{@code
 * BatchInfer.Result<String> r = vectors.apply(
 *     BatchInfer.<String>withModel("/models/fraud/3").withRunInfo(run).withMaxBatchSize(512));
 * PCollection<KV<String, Prediction>> predictions = r.predictions();
 * PCollection<DeadLetter> failed = r.deadLetters();
 * }</pre>
 *
 * <p>The model can also be given in code, as a {@link CodeModel}: any {@link Model} class of your
 * own with a name and a version, and no model directory, manifest or backend. Everything above
 * applies to it alike; see {@link #withModel(CodeModel)}. A model with several named inputs, or
 * whose output rows need more than scores (item ids, say), runs through a {@link ModelAdapter}
 * ({@link #withModelAdapter}), batched and bisected alike.
 */
public final class BatchInfer<K>
    extends PTransform<PCollection<KV<K, FeatureVector>>, BatchInfer.Result<K>> {
  private static final long serialVersionUID = 1L;

  public static final String METRICS_NAMESPACE = "batchserve.inference";
  public static final int MAX_BATCH_SIZE_LIMIT = 100_000;
  /** Failure ratios are judged only once a worker has seen this many records. */
  static final int MIN_RECORDS_FOR_THRESHOLD = 100;

  /** Exactly one of {@code modelUri} and {@code codeModel} is set. */
  private final @Nullable String modelUri;
  private final @Nullable CodeModel codeModel;
  private final int maxBatchSize;
  private final long maxBatchBytes;
  private final @Nullable RunInfo runInfo;
  private final double failureThreshold;
  /** Shards of the {@code GroupIntoBatches} mode; 0 = batch inside the bundle. */
  private final int groupShards;
  private final @Nullable Duration maxBuffering;
  private final ModelOptions modelOptions;
  /** Bounds of {@link #withAdaptiveBatchSize}; 0 = fixed batches of {@code maxBatchSize}. */
  private final int adaptiveMin;
  private final int adaptiveMax;
  private final @Nullable ModelAdapter adapter;

  private BatchInfer(
      @Nullable String modelUri, @Nullable CodeModel codeModel, int maxBatchSize, long maxBatchBytes,
      @Nullable RunInfo runInfo, double failureThreshold, int groupShards, @Nullable Duration maxBuffering,
      ModelOptions modelOptions, int adaptiveMin, int adaptiveMax, @Nullable ModelAdapter adapter) {
    this.modelUri = modelUri;
    this.codeModel = codeModel;
    this.maxBatchSize = maxBatchSize;
    this.maxBatchBytes = maxBatchBytes;
    this.runInfo = runInfo;
    this.failureThreshold = failureThreshold;
    this.groupShards = groupShards;
    this.maxBuffering = maxBuffering;
    this.modelOptions = modelOptions;
    this.adaptiveMin = adaptiveMin;
    this.adaptiveMax = adaptiveMax;
    this.adapter = adapter;
  }

  /** Inference with the model directory at {@code modelUri} (local path or any Beam FileSystems URI). */
  public static <K> BatchInfer<K> withModel(String modelUri) {
    checkArgument(modelUri != null && !modelUri.isEmpty(), "modelUri must be set, but was '%s'", modelUri);
    return new BatchInfer<>(modelUri, null, 256, 0, null, 1.0, 0, null, ModelOptions.defaults(), 0, 0, null);
  }

  /**
   * Inference with a model given in code: no model directory, manifest, {@code ModelBackend} or
   * {@code META-INF/services} entry. Only the {@link CodeModel} (its name, version and serializable
   * {@link dev.batchserve.models.ModelLoader}) travels with the pipeline; each worker JVM runs the
   * loader once, in {@code @Setup} of its first DoFn instance, and shares the model through
   * {@link SharedModelCache} as it does a model read from files. Predictions carry the code model's
   * name and version; its {@link ModelSignature}'s single input gives the expected feature count.
   *
   * <pre>{@code
   * final class FraudRules implements Model {   // thread-safe: one instance serves all threads
   *   public ModelSignature signature() {
   *     return new ModelSignature("rules",
   *         List.of(new TensorInfo("x", "float32", new long[] {-1, 2})),
   *         List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
   *   }
   *   public float[][] predict(float[][] batch) {
   *     float[][] out = new float[batch.length][];
   *     for (int i = 0; i < batch.length; i++) {
   *       out[i] = new float[] {batch[i][0] > 1000f && batch[i][1] < 0.2f ? 1f : 0f};
   *     }
   *     return out;
   *   }
   *   public void close() {}
   * }
   *
   * BatchInfer.Result<String> r = vectors.apply(BatchInfer.<String>withModel(
   *         CodeModel.of("fraud-rules", "2", FraudRules::new))
   *     .withRunInfo(run));
   * }</pre>
   */
  public static <K> BatchInfer<K> withModel(CodeModel model) {
    checkArgument(model != null, "the code model must be set, but was null");
    return new BatchInfer<>(null, model, 256, 0, null, 1.0, 0, null, ModelOptions.defaults(), 0, 0, null);
  }

  /** Largest number of records per model call, 1 to 100,000 (default 256). */
  public BatchInfer<K> withMaxBatchSize(int n) {
    checkMaxBatchSize(n);
    return new BatchInfer<>(modelUri, codeModel, n, maxBatchBytes, runInfo, failureThreshold, groupShards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /**
   * The check of {@link #withMaxBatchSize}, for code that takes a batch size before it builds the
   * transform (a job file): 1 to {@value #MAX_BATCH_SIZE_LIMIT}.
   *
   * <pre>{@code
   * int n = BatchInfer.checkMaxBatchSize(512);
   * }</pre>
   *
   * @throws IllegalArgumentException naming the value, when it is out of range
   */
  public static int checkMaxBatchSize(int n) {
    checkArgument(
        n >= 1 && n <= MAX_BATCH_SIZE_LIMIT, "maxBatchSize must be in [1, %s], but was %s", MAX_BATCH_SIZE_LIMIT, n);
    return n;
  }

  /** Optional cap on the feature bytes of one batch (0 = no cap). */
  public BatchInfer<K> withMaxBatchBytes(long bytes) {
    checkArgument(bytes >= 0, "maxBatchBytes must be >= 0, but was %s", bytes);
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, bytes, runInfo, failureThreshold, groupShards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /** The run whose id and timestamp every prediction carries (required). */
  public BatchInfer<K> withRunInfo(RunInfo run) {
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, Objects.requireNonNull(run, "run"), failureThreshold, groupShards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /** Abort the run when more than this share of records fails inference (default 1.0: never). */
  public BatchInfer<K> withFailureThreshold(double ratio) {
    checkArgument(ratio >= 0 && ratio <= 1, "failureThreshold must be in [0, 1], but was %s", ratio);
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, runInfo, ratio, groupShards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /**
   * For unbounded input: batches with {@code GroupIntoBatches} instead of inside the bundle. Records
   * are spread over {@code shards} keys by a hash of their entity key (never grouped by the entity
   * key itself; the runner may split a shard further, as {@code withShardedKey()} allows) and a batch
   * is flushed when full or after {@code maxBuffering}, so a slow stream still gets its predictions.
   */
  public BatchInfer<K> withGroupIntoBatches(int shards, Duration maxBuffering) {
    checkArgument(shards >= 1 && shards <= 100_000, "shards must be in [1, 100000], but was %s", shards);
    checkArgument(maxBuffering != null && maxBuffering.getMillis() > 0,
        "maxBuffering must be a positive duration, but was %s", maxBuffering);
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, runInfo, failureThreshold, shards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /**
   * Engine settings for loading the model directory on the workers: threads, device, ONNX Runtime's
   * optimisation level and execution provider (see {@link ModelOptions} for what each backend does
   * with them). They are part of the shared cache's key, so a worker loads the model once per
   * distinct options. A model given in code ({@link #withModel(CodeModel)}) is built by its own
   * loader and ignores them. What the loaded model runs with is {@link Model#runtimeSettings()}.
   *
   * <pre>{@code
   * vectors.apply(BatchInfer.<String>withModel("/models/fraud/3").withRunInfo(run)
   *     .withModelOptions(ModelOptions.defaults().withIntraOpThreads(2).withInterOpThreads(1)));
   * }</pre>
   */
  public BatchInfer<K> withModelOptions(ModelOptions options) {
    checkArgument(options != null, "modelOptions must be set, but was null (ModelOptions.defaults() for the engine's own)");
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, runInfo, failureThreshold, groupShards, maxBuffering, options, adaptiveMin, adaptiveMax, adapter);
  }

  /**
   * Sizes batches between {@code min} and {@code max} records from the measured latency of the
   * model calls, instead of the fixed {@link #withMaxBatchSize}, which is then unused. Each DoFn
   * instance starts at {@code min}, doubles the size while the time per record falls by more than
   * 10%, goes back to the best size as soon as it does not, halves again if the time per record
   * later rises by more than half, and tries the climb again after 150 batches at one size (each
   * size measured over three batches, the fastest counting).
   * The size learnt carries over from bundle to bundle of the same DoFn instance; batches are still
   * formed inside a bundle, so a runner's small bundles can keep batches below the chosen size (with
   * {@link #withGroupIntoBatches} the groups hold up to {@code max} records and are cut to the
   * chosen size). {@link #withMaxBatchBytes} still caps every batch. A record's prediction never
   * depends on its batch, so the predictions are those of fixed batching. The size in use is the
   * gauge {@code batch_size_target}; the sizes that ran, the distribution {@code batch_size}.
   *
   * <pre>{@code
   * vectors.apply(BatchInfer.<String>withModel("/models/fraud/3").withRunInfo(run)
   *     .withAdaptiveBatchSize(16, 4096).withMaxBatchBytes(64L << 20));
   * }</pre>
   */
  public BatchInfer<K> withAdaptiveBatchSize(int min, int max) {
    checkArgument(min >= 1 && min <= MAX_BATCH_SIZE_LIMIT,
        "adaptive min batch size must be in [1, %s], but was %s", MAX_BATCH_SIZE_LIMIT, min);
    checkArgument(max >= min && max <= MAX_BATCH_SIZE_LIMIT,
        "adaptive max batch size must be in [min=%s, %s], but was %s", min, MAX_BATCH_SIZE_LIMIT, max);
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, runInfo, failureThreshold, groupShards, maxBuffering, modelOptions, min, max, adapter);
  }

  /**
   * Runs the model through {@code adapter}: it says how a batch of rows is run (several named
   * inputs, say) and how an output row becomes a prediction (item ids, say); batching, bisection of
   * failing batches, the shared model and the envelope stay BatchInfer's. See {@link ModelAdapter}.
   *
   * <pre>{@code
   * // NamedClass: the adapter of ModelAdapter's example (an output row {class index, score})
   * vectors.apply(BatchInfer.<String>withModel("/models/intent/2").withRunInfo(run)
   *     .withModelAdapter(new NamedClass()));
   * }</pre>
   */
  public BatchInfer<K> withModelAdapter(ModelAdapter adapter) {
    checkArgument(adapter != null, "the model adapter must be set, but was null");
    return new BatchInfer<>(modelUri, codeModel, maxBatchSize, maxBatchBytes, runInfo, failureThreshold, groupShards, maxBuffering, modelOptions, adaptiveMin, adaptiveMax, adapter);
  }

  /** The engine settings the model directory is loaded with. */
  public ModelOptions getModelOptions() {
    return modelOptions;
  }

  /** Whether batch sizes adapt ({@link #withAdaptiveBatchSize}). */
  public boolean isAdaptiveBatchSize() {
    return adaptiveMax > 0;
  }

  /** The model directory's URI, or {@code null} when the model is given in code. */
  public @Nullable String getModelUri() {
    return modelUri;
  }

  /** The model given in code, or {@code null} when the model is a directory URI. */
  public @Nullable CodeModel getCodeModel() {
    return codeModel;
  }

  /** The model as messages name it: {@code model <uri>}, or {@code code model <name>:<version>}. */
  String modelDescription() {
    return codeModel != null ? codeModel.toString() : "model " + modelUri;
  }

  public int getMaxBatchSize() {
    return maxBatchSize;
  }

  @Override
  public Result<K> expand(PCollection<KV<K, FeatureVector>> input) {
    checkState(runInfo != null, "BatchInfer needs withRunInfo(run) so predictions carry a run id");
    checkState(
        input.getCoder() instanceof KvCoder,
        "BatchInfer input must use a KvCoder, but was %s",
        input.getCoder());
    @SuppressWarnings("unchecked")
    Coder<K> keyCoder = ((KvCoder<K, FeatureVector>) input.getCoder()).getKeyCoder();
    TupleTag<KV<K, Prediction>> predictions = new TupleTag<KV<K, Prediction>>() {};
    TupleTag<DeadLetter> failures = new TupleTag<DeadLetter>() {};
    PCollectionTuple out;
    if (groupShards == 0) {
      out = input.apply("Infer",
          ParDo.of(new InferFn<K>(this, predictions, failures))
              .withOutputTags(predictions, TupleTagList.of(failures)));
    } else {
      int shards = groupShards;
      out = input
          .apply("AssignShards", ParDo.of(new AssignShardFn<K>(shards)))
          .setCoder(KvCoder.of(VarIntCoder.of(), input.getCoder()))
          .apply("GroupIntoBatches", GroupIntoBatches.<Integer, KV<K, FeatureVector>>ofSize(
              adaptiveMax > 0 ? adaptiveMax : maxBatchSize)
              .withMaxBufferingDuration(Objects.requireNonNull(maxBuffering))
              .withShardedKey())
          .apply("InferBatches", ParDo.of(new InferGroupedFn<K>(this, predictions, failures))
              .withOutputTags(predictions, TupleTagList.of(failures)));
    }
    PCollection<KV<K, Prediction>> preds =
        out.get(predictions).setCoder(KvCoder.of(keyCoder, Prediction.PredictionCoder.of()));
    PCollection<DeadLetter> dead = out.get(failures).setCoder(DeadLetter.DeadLetterCoder.of());
    return new Result<>(input.getPipeline(), preds, predictions, dead, failures);
  }

  /** Turns one model output row into the envelope, following the manifest's output kind. */
  static Prediction toPrediction(float[] out, ModelManifest manifest, RunInfo run) {
    return toPrediction(out, manifest, run.predictionTimestamp().toEpochMilli(), run.runId());
  }

  /**
   * The envelope of one model output row: scores, and by the manifest's output kind a label and a
   * confidence (the top class probability, or max(p, 1-p) for a single score marked as a probability).
   * Shared by the batch job and on-demand predictions, so both describe a score the same way.
   */
  public static Prediction toPrediction(float[] out, ModelManifest manifest, long timestampMillis, String runId) {
    Prediction.Builder b =
        Prediction.builder()
            .scores(out)
            .model(manifest.getName(), manifest.getVersion())
            .predictionTimestampMillis(timestampMillis)
            .runId(runId);
    switch (manifest.getOutputKind()) {
      case SCORE:
        if (out.length == 1 && isProbability(manifest) && out[0] >= 0f && out[0] <= 1f) {
          // A probability of the positive class: confident when far from 0.5 either way.
          b.confidence((double) Math.max(out[0], 1f - out[0]));
        }
        break;
      case PROBABILITIES:
        int best = 0;
        for (int i = 1; i < out.length; i++) {
          if (out[i] > out[best]) {
            best = i;
          }
        }
        if (out.length > 0) {
          String classes = manifest.getMetadata() == null ? null : manifest.getMetadata().get("classes");
          String[] names = classes == null ? null : classes.split(",");
          b.label(names != null && names.length == out.length ? names[best].trim() : Integer.toString(best));
          b.confidence((double) out[best]);
        }
        break;
      case EMBEDDING:
      default:
        break;
    }
    return b.build();
  }

  /**
   * Whether a single score is a probability (the manifest's metadata says {@code "score":
   * "probability"}, as a sigmoid classifier's does): only then does it get a confidence.
   */
  static boolean isProbability(ModelManifest manifest) {
    Map<String, String> meta = manifest.getMetadata();
    return meta != null && SCORE_PROBABILITY.equals(meta.get(SCORE_METADATA_KEY));
  }

  /** Manifest metadata key and value marking a single score as a probability. */
  public static final String SCORE_METADATA_KEY = "score";

  public static final String SCORE_PROBABILITY = "probability";

  /** The two outputs of {@link BatchInfer}. */
  public static final class Result<K> extends TransformResult {
    private final PCollection<KV<K, Prediction>> predictions;
    private final PCollection<DeadLetter> deadLetters;

    Result(
        org.apache.beam.sdk.Pipeline pipeline,
        PCollection<KV<K, Prediction>> predictions,
        TupleTag<KV<K, Prediction>> predictionsTag,
        PCollection<DeadLetter> deadLetters,
        TupleTag<DeadLetter> deadLettersTag) {
      super(pipeline);
      this.predictions = output(predictionsTag, predictions);
      this.deadLetters = output(deadLettersTag, deadLetters);
    }

    /** One prediction per record the model scored, stamped with the model's name and version. */
    public PCollection<KV<K, Prediction>> predictions() {
      return predictions;
    }

    /** The records inference failed on (step {@code inference}), with the error. */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }
  }

  /**
   * What both modes share: the model from the per-JVM cache, bisection of failing batches, the
   * failure threshold and the metrics. The model is never serialized: only its URI is, or the
   * code model's name, version and loader.
   */
  abstract static class InferenceFn<InT, K> extends DoFn<InT, KV<K, Prediction>> {
    private static final long serialVersionUID = 1L;

    final @Nullable String modelUri;
    final @Nullable CodeModel codeModel;
    final String modelDescription;
    final int maxBatchSize;
    final long maxBatchBytes;
    final RunInfo run;
    final double failureThreshold;
    final TupleTag<KV<K, Prediction>> predictionsTag;
    final TupleTag<DeadLetter> failuresTag;
    final ModelOptions modelOptions;
    final int adaptiveMin;
    final int adaptiveMax;
    final @Nullable ModelAdapter adapter;

    private final Counter numInferences = Metrics.counter(METRICS_NAMESPACE, "num_inferences");
    private final Counter failedRecords = Metrics.counter(METRICS_NAMESPACE, "failed_records");
    private final Counter failedBatches = Metrics.counter(METRICS_NAMESPACE, "failed_batches");
    private final Distribution batchSize = Metrics.distribution(METRICS_NAMESPACE, "batch_size");
    private final Distribution batchLatencyUs = Metrics.distribution(METRICS_NAMESPACE, "batch_latency_us");
    private final Distribution modelLoadMs = Metrics.distribution(METRICS_NAMESPACE, "model_load_ms");
    private final Gauge batchSizeTarget = Metrics.gauge(METRICS_NAMESPACE, "batch_size_target");

    private transient @Nullable ModelHandle handle;
    private transient @Nullable Model model;
    private transient @Nullable ModelManifest manifest;
    private transient ModelAdapter.@Nullable Adapted adapted;
    transient int inputSize;
    private transient boolean loadTimeReported;
    private transient long seen;
    private transient long failed;
    private transient @Nullable AdaptiveBatchSize adaptive;
    /** Model time and rows of the last call that predicted a whole batch; rows -1 when it was split. */
    private transient long lastPredictNanos;
    private transient int lastPredictRows;

    InferenceFn(BatchInfer<K> spec, TupleTag<KV<K, Prediction>> predictionsTag, TupleTag<DeadLetter> failuresTag) {
      this.modelUri = spec.modelUri;
      this.codeModel = spec.codeModel;
      this.modelDescription = spec.modelDescription();
      this.maxBatchSize = spec.maxBatchSize;
      this.maxBatchBytes = spec.maxBatchBytes;
      this.run = Objects.requireNonNull(spec.runInfo);
      this.failureThreshold = spec.failureThreshold;
      this.predictionsTag = predictionsTag;
      this.failuresTag = failuresTag;
      this.modelOptions = spec.modelOptions;
      this.adaptiveMin = spec.adaptiveMin;
      this.adaptiveMax = spec.adaptiveMax;
      this.adapter = spec.adapter;
    }

    // Computed once per instance: formatting the run id per record showed up in profiles.
    private transient String runId;
    private transient long predictionTimestampMillis;

    @Setup
    public void setup() {
      runId = run.runId();
      predictionTimestampMillis = run.predictionTimestamp().toEpochMilli();
      @Nullable Path dir = codeModel != null ? null : ModelStaging.localize(Objects.requireNonNull(modelUri));
      handle = dir == null
          ? SharedModelCache.acquire(Objects.requireNonNull(codeModel))
          : SharedModelCache.acquire(dir, modelOptions);
      adaptive = adaptiveMax > 0 ? new AdaptiveBatchSize(adaptiveMin, adaptiveMax) : null;
      try {
        model = handle.model();
        manifest = handle.manifest();
        adapted = adapter != null ? adapter.adapt(model, manifest, dir) : null;
        inputSize = adapted != null
            ? adapted.inputSize()
            : codeModel != null ? featureCount(model.signature(), codeModel) : manifest.getInputFeatures().size();
      } catch (RuntimeException e) {
        handle.close();
        handle = null;
        throw e;
      }
    }

    /**
     * The feature count a code model's signature declares for its single input, or -1 when that
     * dimension is dynamic (the model then checks its rows itself).
     */
    static int featureCount(@Nullable ModelSignature signature, CodeModel codeModel) {
      int inputs = signature == null ? 0 : signature.getInputs().size();
      if (inputs != 1) {
        throw new IllegalStateException(
            codeModel + " declares " + inputs + " inputs in its signature(), but BatchInfer feeds one"
                + " dense input: return a ModelSignature with exactly one input, shaped [-1, features]");
      }
      TensorInfo input = signature.getInputs().get(0);
      long[] shape = input.getShape();
      // A rank-1 input [n] takes one value per row, as in ModelSignature.inputSize().
      return shape != null && shape.length == 1 ? 1 : (int) input.lastDimension();
    }

    /** Records per batch now: the adaptive size, or the fixed maximum. */
    int targetBatchSize() {
      return adaptive != null ? adaptive.size() : maxBatchSize;
    }

    /** Called at the start of each bundle: the model's load time is reported once per instance. */
    void reportLoadTime() {
      if (adaptive != null) {
        batchSizeTarget.set(adaptive.size());
      }
      if (!loadTimeReported && handle != null) {
        modelLoadMs.update(handle.loadTimeMillis());
        loadTimeReported = true;
      }
    }

    @Teardown
    public void teardown() {
      if (handle != null) {
        handle.close();
        handle = null;
        model = null;
        adapted = null;
      }
    }

    /** True when the vector fits the model; otherwise the record is rejected without calling it. */
    boolean accept(KV<K, FeatureVector> element, FailureSink fail) {
      FeatureVector v = element.getValue();
      // inputSize < 0: a code model with a dynamic feature dimension checks its rows itself.
      if (v != null && (inputSize < 0 || v.size() == inputSize)) {
        return true;
      }
      seen++;
      reject(element, "wrong_feature_count",
          "the model expects " + inputSize + " features, the vector has " + (v == null ? "none" : v.size()),
          null, fail);
      return false;
    }

    void flush(List<KV<K, FeatureVector>> batch, PredictionSink<K> ok, FailureSink fail) {
      if (batch.isEmpty()) {
        return;
      }
      lastPredictRows = -1;
      inferIsolating(batch, ok, fail);
      if (adaptive != null && lastPredictRows == batch.size() && adaptive.observe(batch.size(), lastPredictNanos)) {
        batchSizeTarget.set(adaptive.size());
      }
      seen += batch.size();
      if (seen >= MIN_RECORDS_FOR_THRESHOLD && failureThreshold < 1.0 && failed > failureThreshold * seen) {
        throw new IllegalStateException(
            String.format(
                "inference failure ratio %.4f exceeds the threshold %.4f (%d of %d records failed on this"
                    + " worker, %s); aborting the run",
                (double) failed / seen, failureThreshold, failed, seen, modelDescription));
      }
    }

    /** Predicts a batch; on failure splits it in halves until the failing records are isolated. */
    private void inferIsolating(List<KV<K, FeatureVector>> batch, PredictionSink<K> ok, FailureSink fail) {
      float[][] rows = new float[batch.size()][];
      for (int i = 0; i < rows.length; i++) {
        rows[i] = batch.get(i).getValue().toArray();
      }
      float[][] outputs;
      List<Prediction> predictions;
      try {
        long t0 = System.nanoTime();
        outputs = adapted != null ? adapted.predict(rows) : Objects.requireNonNull(model).predict(rows);
        long nanos = System.nanoTime() - t0;
        batchLatencyUs.update(nanos / 1000);
        lastPredictNanos = nanos;
        lastPredictRows = rows.length;
        batchSize.update(batch.size());
        if (outputs.length != rows.length) {
          throw new IllegalStateException(
              "model returned " + outputs.length + " outputs for " + rows.length + " inputs");
        }
        // Inside the try: an adapter's failing output row fails the batch, which is then bisected.
        predictions = new ArrayList<>(outputs.length);
        for (float[] output : outputs) {
          predictions.add(adapted != null
              ? adapted.toPrediction(output, envelope())
              : toPrediction(output, Objects.requireNonNull(manifest), predictionTimestampMillis, runId));
        }
      } catch (OutOfMemoryError oom) {
        if (batch.size() == 1) {
          throw oom;
        }
        failedBatches.inc();
        splitAndRetry(batch, ok, fail);
        return;
      } catch (RuntimeException e) {
        failedBatches.inc();
        if (batch.size() == 1) {
          reject(batch.get(0), "inference_error", String.valueOf(e), e, fail);
          return;
        }
        splitAndRetry(batch, ok, fail);
        return;
      }
      numInferences.inc(batch.size());
      for (int i = 0; i < outputs.length; i++) {
        ok.emit(KV.of(batch.get(i).getKey(), predictions.get(i)));
      }
    }

    /** The model, timestamp and run of every prediction, for an adapter to complete. */
    private Prediction.Builder envelope() {
      ModelManifest m = Objects.requireNonNull(manifest);
      return Prediction.builder().model(m.getName(), m.getVersion())
          .predictionTimestampMillis(predictionTimestampMillis).runId(runId);
    }

    private void splitAndRetry(List<KV<K, FeatureVector>> batch, PredictionSink<K> ok, FailureSink fail) {
      int mid = batch.size() / 2;
      inferIsolating(new ArrayList<>(batch.subList(0, mid)), ok, fail);
      inferIsolating(new ArrayList<>(batch.subList(mid, batch.size())), ok, fail);
    }

    private void reject(
        KV<K, FeatureVector> element, String reason, String message, @Nullable Throwable t, FailureSink fail) {
      failed++;
      failedRecords.inc();
      String key = String.valueOf(element.getKey());
      String record = String.valueOf(element.getValue());
      DeadLetter d =
          t == null
              ? DeadLetter.of("inference", key, record, null, reason, message)
              : DeadLetter.ofException("inference", key, record, reason, t);
      fail.emit(d, null);
    }
  }

  /** Batches inside the bundle, per window; flushes when full and in {@code @FinishBundle}. */
  static final class InferFn<K> extends InferenceFn<KV<K, FeatureVector>, K> {
    private static final long serialVersionUID = 1L;
    private transient Map<BoundedWindow, Batch<K>> buffers;

    InferFn(BatchInfer<K> spec, TupleTag<KV<K, Prediction>> predictionsTag, TupleTag<DeadLetter> failuresTag) {
      super(spec, predictionsTag, failuresTag);
    }

    @StartBundle
    public void startBundle() {
      buffers = new HashMap<>();
      reportLoadTime();
    }

    @ProcessElement
    public void process(
        @Element KV<K, FeatureVector> element,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        MultiOutputReceiver out) {
      if (!accept(element, (d, unused) -> out.get(failuresTag).outputWithTimestamp(d, timestamp))) {
        return;
      }
      Batch<K> batch = buffers.computeIfAbsent(window, w -> new Batch<>());
      batch.add(element, timestamp);
      if (batch.size() >= targetBatchSize() || (maxBatchBytes > 0 && batch.bytes >= maxBatchBytes)) {
        buffers.remove(window);
        // Every buffered element is in this window; the latest timestamp among them keeps all outputs
        // inside the window and never moves an output before the current element.
        Instant ts = batch.maxTimestamp.isAfter(timestamp) ? batch.maxTimestamp : timestamp;
        flush(
            batch.elements,
            (kv) -> out.get(predictionsTag).outputWithTimestamp(kv, ts),
            (d, unused) -> out.get(failuresTag).outputWithTimestamp(d, ts));
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      for (Map.Entry<BoundedWindow, Batch<K>> e : buffers.entrySet()) {
        BoundedWindow w = e.getKey();
        Instant ts = e.getValue().maxTimestamp;
        flush(
            e.getValue().elements,
            kv -> c.output(predictionsTag, kv, ts, w),
            (d, unused) -> c.output(failuresTag, d, ts, w));
      }
      buffers.clear();
    }
  }

  /** Spreads records over a fixed number of shards by a hash of the key's string form. */
  private static final class AssignShardFn<K> extends DoFn<KV<K, FeatureVector>, KV<Integer, KV<K, FeatureVector>>> {
    private final int shards;

    AssignShardFn(int shards) {
      this.shards = shards;
    }

    @ProcessElement
    public void process(@Element KV<K, FeatureVector> kv, OutputReceiver<KV<Integer, KV<K, FeatureVector>>> out) {
      out.output(KV.of(Math.floorMod(String.valueOf(kv.getKey()).hashCode(), shards), kv));
    }
  }

  /** Infers the batches made by {@code GroupIntoBatches} (a batch may still be split by the byte cap). */
  static final class InferGroupedFn<K>
      extends InferenceFn<KV<ShardedKey<Integer>, Iterable<KV<K, FeatureVector>>>, K> {
    private static final long serialVersionUID = 1L;

    InferGroupedFn(BatchInfer<K> spec, TupleTag<KV<K, Prediction>> predictionsTag, TupleTag<DeadLetter> failuresTag) {
      super(spec, predictionsTag, failuresTag);
    }

    @StartBundle
    public void startBundle() {
      reportLoadTime();
    }

    @ProcessElement
    public void process(@Element KV<ShardedKey<Integer>, Iterable<KV<K, FeatureVector>>> group, MultiOutputReceiver out) {
      PredictionSink<K> ok = kv -> out.get(predictionsTag).output(kv);
      FailureSink fail = (d, unused) -> out.get(failuresTag).output(d);
      List<KV<K, FeatureVector>> batch = new ArrayList<>();
      long bytes = 0;
      for (KV<K, FeatureVector> kv : group.getValue()) {
        if (!accept(kv, fail)) {
          continue;
        }
        batch.add(kv);
        bytes += 4L * kv.getValue().size() + 16;
        if (batch.size() >= targetBatchSize() || (maxBatchBytes > 0 && bytes >= maxBatchBytes)) {
          flush(batch, ok, fail);
          batch = new ArrayList<>();
          bytes = 0;
        }
      }
      flush(batch, ok, fail);
    }
  }

  private interface PredictionSink<K> {
    void emit(KV<K, Prediction> kv);
  }

  private interface FailureSink {
    void emit(DeadLetter d, @Nullable Instant unused);
  }

  private static final class Batch<K> implements Serializable {
    private static final long serialVersionUID = 1L;
    final List<KV<K, FeatureVector>> elements = new ArrayList<>();
    Instant maxTimestamp = BoundedWindow.TIMESTAMP_MIN_VALUE;
    long bytes;

    void add(KV<K, FeatureVector> kv, Instant ts) {
      elements.add(kv);
      bytes += 4L * kv.getValue().size() + 16;
      if (ts.isAfter(maxTimestamp)) {
        maxTimestamp = ts;
      }
    }

    int size() {
      return elements.size();
    }
  }
}
