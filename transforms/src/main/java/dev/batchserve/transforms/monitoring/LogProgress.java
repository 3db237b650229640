package dev.batchserve.transforms.monitoring;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs progress while a run goes: every {@code every} records seen in this JVM, one line with the
 * records done and records per second since this JVM saw the run's first record. Counts are per
 * worker JVM (on a distributed runner each worker logs its own share); Beam counters remain the
 * exact totals.
 *
 * <pre>{@code
 * rows.apply("Progress", LogProgress.of("fraud-daily-20261128", 100_000));
 * }</pre>
 */
public final class LogProgress<T> extends PTransform<PCollection<T>, PDone> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(LogProgress.class);
  /** Per run id, per JVM: records seen and the nano time of the first. */
  private static final Map<String, long[]> STARTED = new ConcurrentHashMap<>();
  private static final Map<String, AtomicLong> SEEN = new ConcurrentHashMap<>();

  private final String runId;
  private final long every;

  private LogProgress(String runId, long every) {
    this.runId = runId;
    this.every = every;
  }

  public static <T> LogProgress<T> of(String runId, long every) {
    checkArgument(runId != null && !runId.isEmpty(), "runId must be set, but was '%s'", runId);
    checkArgument(every > 0, "every must be > 0, but was %s", every);
    return new LogProgress<>(runId, every);
  }

  @Override
  public PDone expand(PCollection<T> input) {
    input.apply("LogEvery" + every, ParDo.of(new LogFn<T>(runId, every)));
    return PDone.in(input.getPipeline());
  }

  private static final class LogFn<T> extends DoFn<T, Void> {
    private static final long serialVersionUID = 1L;
    private final String runId;
    private final long every;

    LogFn(String runId, long every) {
      this.runId = runId;
      this.every = every;
    }

    @ProcessElement
    public void process() {
      long start = STARTED.computeIfAbsent(runId, r -> new long[] {System.nanoTime()})[0];
      long n = SEEN.computeIfAbsent(runId, r -> new AtomicLong()).incrementAndGet();
      if (n % every == 0) {
        double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        LOG.info(String.format(Locale.ROOT, "run %s: %,d records done, %,.0f records/s", runId, n, n / seconds));
      }
    }
  }
}
