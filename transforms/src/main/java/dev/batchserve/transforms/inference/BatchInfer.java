package dev.batchserve.transforms.inference;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.CodeModel;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.InferenceFn.AssignShardFn;
import dev.batchserve.transforms.inference.InferenceFn.InferFn;
import dev.batchserve.transforms.inference.InferenceFn.InferGroupedFn;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.PredictionEnvelope;
import dev.batchserve.transforms.values.RunInfo;
import dev.batchserve.transforms.values.TransformResult;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

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
  private int maxBatchSize = 256;
  private long maxBatchBytes;
  private @Nullable RunInfo runInfo;
  private double failureThreshold = 1.0;
  /** Shards of the {@code GroupIntoBatches} mode; 0 = batch inside the bundle. */
  private int groupShards;
  private @Nullable Duration maxBuffering;
  private ModelOptions modelOptions = ModelOptions.defaults();
  /** Bounds of {@link #withAdaptiveBatchSize}; 0 = fixed batches of {@code maxBatchSize}. */
  private int adaptiveMin;
  private int adaptiveMax;
  private @Nullable ModelAdapter adapter;

  private BatchInfer(@Nullable String modelUri, @Nullable CodeModel codeModel) {
    this.modelUri = modelUri;
    this.codeModel = codeModel;
  }

  private BatchInfer<K> copy() {
    BatchInfer<K> c = new BatchInfer<>(modelUri, codeModel);
    c.maxBatchSize = maxBatchSize;
    c.maxBatchBytes = maxBatchBytes;
    c.runInfo = runInfo;
    c.failureThreshold = failureThreshold;
    c.groupShards = groupShards;
    c.maxBuffering = maxBuffering;
    c.modelOptions = modelOptions;
    c.adaptiveMin = adaptiveMin;
    c.adaptiveMax = adaptiveMax;
    c.adapter = adapter;
    return c;
  }

  /** Inference with the model directory at {@code modelUri} (local path or any Beam FileSystems URI). */
  public static <K> BatchInfer<K> withModel(String modelUri) {
    checkArgument(modelUri != null && !modelUri.isEmpty(), "modelUri must be set, but was '%s'", modelUri);
    return new BatchInfer<>(modelUri, null);
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
    return new BatchInfer<>(null, model);
  }

  /** Largest number of records per model call, 1 to 100,000 (default 256). */
  public BatchInfer<K> withMaxBatchSize(int n) {
    checkMaxBatchSize(n);
    BatchInfer<K> c = copy();
    c.maxBatchSize = n;
    return c;
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
    BatchInfer<K> c = copy();
    c.maxBatchBytes = bytes;
    return c;
  }

  /** The run whose id and timestamp every prediction carries (required). */
  public BatchInfer<K> withRunInfo(RunInfo run) {
    BatchInfer<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** Abort the run when more than this share of records fails inference (default 1.0: never). */
  public BatchInfer<K> withFailureThreshold(double ratio) {
    checkArgument(ratio >= 0 && ratio <= 1, "failureThreshold must be in [0, 1], but was %s", ratio);
    BatchInfer<K> c = copy();
    c.failureThreshold = ratio;
    return c;
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
    BatchInfer<K> c = copy();
    c.groupShards = shards;
    c.maxBuffering = maxBuffering;
    return c;
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
    BatchInfer<K> c = copy();
    c.modelOptions = options;
    return c;
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
    BatchInfer<K> c = copy();
    c.adaptiveMin = min;
    c.adaptiveMax = max;
    return c;
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
    BatchInfer<K> c = copy();
    c.adapter = adapter;
    return c;
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

  // Read by InferenceFn when expand() builds the DoFn.
  long maxBatchBytes() {
    return maxBatchBytes;
  }

  @Nullable RunInfo runInfo() {
    return runInfo;
  }

  double failureThreshold() {
    return failureThreshold;
  }

  int adaptiveMin() {
    return adaptiveMin;
  }

  int adaptiveMax() {
    return adaptiveMax;
  }

  @Nullable ModelAdapter adapter() {
    return adapter;
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
   * The envelope of one model output row ({@link PredictionEnvelope#of}): scores, and by the
   * manifest's output kind a label and a confidence. Shared by the batch job and on-demand
   * predictions, so both describe a score the same way.
   */
  public static Prediction toPrediction(float[] out, ModelManifest manifest, long timestampMillis, String runId) {
    return PredictionEnvelope.of(out, manifest, timestampMillis, runId);
  }

  /** Manifest metadata key and value marking a single score as a probability ({@link PredictionEnvelope}). */
  public static final String SCORE_METADATA_KEY = PredictionEnvelope.SCORE_METADATA_KEY;

  public static final String SCORE_PROBABILITY = PredictionEnvelope.SCORE_PROBABILITY;

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
}
