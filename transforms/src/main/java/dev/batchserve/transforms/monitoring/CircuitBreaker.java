package dev.batchserve.transforms.monitoring;

import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * Stops a run whose {@link RunQuality} exceeds its {@link QualityThresholds}: it throws a
 * {@link Tripped} naming every exceeded limit with its value, which fails the pipeline. Its output
 * (the quality, passed on) is the signal a sink publishes after, so a tripped run publishes nothing
 * and readers keep the previous run.
 *
 * <pre>{@code
 * PCollection<RunQuality> passed = quality.apply(CircuitBreaker.of(QualityThresholds.defaults()));
 * predictions.apply(SinkWithMetadata.<String>files(root).withRunInfo(run).publishAfter(counts, passed));
 * }</pre>
 */
public final class CircuitBreaker extends PTransform<PCollection<RunQuality>, PCollection<RunQuality>> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.quality";

  private final QualityThresholds thresholds;

  private CircuitBreaker(QualityThresholds thresholds) {
    this.thresholds = thresholds;
  }

  public static CircuitBreaker of(QualityThresholds thresholds) {
    return new CircuitBreaker(Objects.requireNonNull(thresholds, "thresholds"));
  }

  @Override
  public PCollection<RunQuality> expand(PCollection<RunQuality> quality) {
    return quality.apply("Judge", ParDo.of(new JudgeFn(thresholds))).setCoder(RunQuality.RunQualityCoder.of());
  }

  /** The run broke a quality limit; the message names each limit, feature and value. */
  public static final class Tripped extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final List<String> violations;

    Tripped(String runId, List<String> violations) {
      super("circuit breaker tripped for run " + runId + ": " + String.join("; ", violations));
      this.violations = List.copyOf(violations);
    }

    public List<String> violations() {
      return violations;
    }
  }

  private static final class JudgeFn extends DoFn<RunQuality, RunQuality> {
    private static final long serialVersionUID = 1L;
    private final QualityThresholds thresholds;
    private final Counter trips = Metrics.counter(METRICS_NAMESPACE, "breaker_trips");

    JudgeFn(QualityThresholds thresholds) {
      this.thresholds = thresholds;
    }

    @ProcessElement
    public void process(@Element RunQuality q, OutputReceiver<RunQuality> out) {
      List<String> violations = thresholds.violations(q);
      if (!violations.isEmpty()) {
        trips.inc();
        throw new Tripped(q.getRunId(), violations);
      }
      out.output(q);
    }
  }
}
