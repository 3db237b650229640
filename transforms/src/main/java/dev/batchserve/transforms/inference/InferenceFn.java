package dev.batchserve.transforms.inference;

import static dev.batchserve.transforms.inference.BatchInfer.METRICS_NAMESPACE;
import static dev.batchserve.transforms.inference.BatchInfer.MIN_RECORDS_FOR_THRESHOLD;
import static dev.batchserve.transforms.inference.BatchInfer.toPrediction;

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
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * What both modes share: the model from the per-JVM cache, bisection of failing batches, the
 * failure threshold and the metrics. The model is never serialized: only its URI is, or the
 * code model's name, version and loader. The two modes are {@link InferFn} (batches inside the
 * bundle) and {@link InferGroupedFn} (batches of {@code GroupIntoBatches}, keyed by
 * {@link AssignShardFn}); {@link BatchInfer#expand} picks one.
 */
abstract class InferenceFn<InT, K> extends DoFn<InT, KV<K, Prediction>> {
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
    this.modelUri = spec.getModelUri();
    this.codeModel = spec.getCodeModel();
    this.modelDescription = spec.modelDescription();
    this.maxBatchSize = spec.getMaxBatchSize();
    this.maxBatchBytes = spec.maxBatchBytes();
    this.run = Objects.requireNonNull(spec.runInfo());
    this.failureThreshold = spec.failureThreshold();
    this.predictionsTag = predictionsTag;
    this.failuresTag = failuresTag;
    this.modelOptions = spec.getModelOptions();
    this.adaptiveMin = spec.adaptiveMin();
    this.adaptiveMax = spec.adaptiveMax();
    this.adapter = spec.adapter();
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
    reject(element, Reasons.WRONG_FEATURE_COUNT,
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
        reject(batch.get(0), Reasons.INFERENCE_ERROR, String.valueOf(e), e, fail);
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
    FeatureVector v = element.getValue();
    String record = v == null ? "null" : DeadLetter.vectorRecord(v.toArray());
    DeadLetter d =
        t == null
            ? DeadLetter.of("inference", key, record, null, reason, message)
            : DeadLetter.ofException("inference", key, record, reason, t);
    fail.emit(d, null);
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
  static final class AssignShardFn<K> extends DoFn<KV<K, FeatureVector>, KV<Integer, KV<K, FeatureVector>>> {
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
