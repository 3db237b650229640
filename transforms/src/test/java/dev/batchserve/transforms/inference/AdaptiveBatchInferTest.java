package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.CodeModel;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.Prediction;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link BatchInfer#withAdaptiveBatchSize} with a model whose latency grows steeply beyond 64
 * records: the size settles inside the bounds and below the cliff, the byte cap still holds, and
 * the predictions are those of fixed batching.
 */
public class AdaptiveBatchInferTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final CodeModel CLIFF = CodeModel.of("cliff", "1", CliffModel::new);

  /**
   * {@code 3a - b} per row; a call costs 200 us, plus 1 us per record, plus (n - 64)^2 us beyond 64
   * records (busy-waited, so the cost is the same on any machine that is not starved).
   */
  static final class CliffModel implements Model {
    @Override
    public ModelSignature signature() {
      return new ModelSignature("cliff",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 2})),
          List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      long beyond = Math.max(0, batch.length - 64);
      long until = System.nanoTime() + 200_000L + 1_000L * batch.length + beyond * beyond * 1_000L;
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        out[i] = new float[] {score(batch[i][0], batch[i][1])};
      }
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      return out;
    }

    @Override
    public void close() {}

    static float score(float a, float b) {
      return 3 * a - b;
    }
  }

  private static List<KV<String, FeatureVector>> vectors(int n) {
    List<KV<String, FeatureVector>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of("k" + i, FeatureVector.of(new float[] {i, i % 7})));
    }
    return out;
  }

  private static List<KV<String, Prediction>> expected(List<KV<String, FeatureVector>> in) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (KV<String, FeatureVector> kv : in) {
      FeatureVector v = kv.getValue();
      out.add(KV.of(kv.getKey(), Prediction.builder()
          .scores(new float[] {CliffModel.score(v.get(0), v.get(1))}).model("cliff", "1")
          .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
          .runId(TestFixtures.RUN.runId()).build()));
    }
    return out;
  }

  private PCollection<KV<String, FeatureVector>> input(List<KV<String, FeatureVector>> in) {
    // One worker thread, few large bundles: the climb needs full batches to measure.
    p.getOptions().as(DirectOptions.class).setTargetParallelism(1);
    return p.apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())));
  }

  /**
   * The step's batch sizes once they account for {@code records}: the Direct runner applies metric
   * updates on an executor, so they can land a moment after {@code waitUntilFinish} returns.
   */
  private static DistributionResult batchSizes(PipelineResult result, String step, long records)
      throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    DistributionResult sizes = batchSizes(result, step);
    while (sizes.getSum() != records && System.nanoTime() < deadline) {
      Thread.sleep(20);
      sizes = batchSizes(result, step);
    }
    return sizes;
  }

  private static DistributionResult batchSizes(PipelineResult result, String step) {
    DistributionResult total = DistributionResult.IDENTITY_ELEMENT;
    for (MetricResult<DistributionResult> d : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(BatchInfer.METRICS_NAMESPACE, "batch_size"))
        .addStep(step).build()).getDistributions()) {
      DistributionResult a = d.getAttempted();
      total = DistributionResult.create(total.getSum() + a.getSum(), total.getCount() + a.getCount(),
          Math.min(total.getMin(), a.getMin()), Math.max(total.getMax(), a.getMax()));
    }
    return total;
  }

  private static List<Long> targets(PipelineResult result, String step) {
    List<Long> out = new ArrayList<>();
    for (MetricResult<GaugeResult> g : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(BatchInfer.METRICS_NAMESPACE, "batch_size_target"))
        .addStep(step).build()).getGauges()) {
      out.add(g.getAttempted().getValue());
    }
    return out;
  }

  @Test
  public void sizeSettlesBelowTheLatencyCliffWithTheSamePredictionsAsFixedBatches() throws Exception {
    List<KV<String, FeatureVector>> in = vectors(6000);
    PCollection<KV<String, FeatureVector>> vectors = input(in);
    BatchInfer.Result<String> fixed = vectors.apply("Fixed",
        BatchInfer.<String>withModel(CLIFF).withRunInfo(TestFixtures.RUN).withMaxBatchSize(64));
    BatchInfer.Result<String> adaptive = vectors.apply("Adaptive",
        BatchInfer.<String>withModel(CLIFF).withRunInfo(TestFixtures.RUN).withAdaptiveBatchSize(8, 1024));
    PAssert.that("fixed", fixed.predictions()).containsInAnyOrder(expected(in));
    PAssert.that("adaptive", adaptive.predictions()).containsInAnyOrder(expected(in));
    PAssert.that(adaptive.deadLetters()).empty();
    PipelineResult result = p.run();
    result.waitUntilFinish();

    DistributionResult sizes = batchSizes(result, "Adaptive", 6000);
    assertThat(sizes.getSum(), is(6000L));
    // Climbing tries 128 once (three batches), finds it slower per record and goes back.
    assertThat(sizes.getMax(), is(128L));
    List<Long> targets = targets(result, "Adaptive");
    assertThat("one gauge per step", targets.size(), is(1));
    // Within [min, max], and at or below the cliff: a size that kept growing would reach 1024.
    assertThat(targets.get(0), allOf(greaterThanOrEqualTo(8L), lessThanOrEqualTo(64L)));
    // Most records ran in batches of the settled size, not the minimum.
    assertThat(sizes.getMean(), greaterThanOrEqualTo(16.0));
  }

  @Test
  public void theByteCapStillBoundsEveryBatch() throws Exception {
    List<KV<String, FeatureVector>> in = vectors(3000);
    // Two features: 4 * 2 + 16 = 24 bytes a record, so 720 bytes stop a batch at 30 records.
    BatchInfer.Result<String> adaptive = input(in).apply("Adaptive",
        BatchInfer.<String>withModel(CLIFF).withRunInfo(TestFixtures.RUN)
            .withAdaptiveBatchSize(8, 1024).withMaxBatchBytes(720));
    PAssert.that(adaptive.predictions()).containsInAnyOrder(expected(in));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    DistributionResult sizes = batchSizes(result, "Adaptive", 3000);
    assertThat(sizes.getSum(), is(3000L));
    assertThat(sizes.getMax(), is(30L));
    assertThat(targets(result, "Adaptive").get(0), allOf(greaterThanOrEqualTo(8L), lessThanOrEqualTo(1024L)));
  }

  @Test
  public void groupIntoBatchesCutsItsGroupsToTheAdaptiveSize() throws Exception {
    List<KV<String, FeatureVector>> in = vectors(2000);
    BatchInfer.Result<String> adaptive = input(in).apply("Adaptive",
        BatchInfer.<String>withModel(CLIFF).withRunInfo(TestFixtures.RUN)
            .withAdaptiveBatchSize(8, 256).withGroupIntoBatches(1, Duration.standardSeconds(5)));
    PAssert.that(adaptive.predictions()).containsInAnyOrder(expected(in));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    DistributionResult sizes = batchSizes(result, "Adaptive", 2000);
    assertThat(sizes.getSum(), is(2000L));
    assertThat(sizes.getMax(), lessThanOrEqualTo(128L));
  }

  @Test
  public void boundsAreValidatedWithTheirValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.<String>withModel(CLIFF).withAdaptiveBatchSize(64, 32));
    assertThat(e.getMessage(), containsString("adaptive max batch size must be in [min=64, 100000], but was 32"));
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.<String>withModel(CLIFF).withAdaptiveBatchSize(0, 32));
    assertThat(zero.getMessage(), containsString("adaptive min batch size must be in [1, 100000], but was 0"));
  }
}
