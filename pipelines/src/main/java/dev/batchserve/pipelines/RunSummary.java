package dev.batchserve.pipelines;

import java.util.Locale;

/**
 * What one run did, printed at its end: records in, predictions, fallbacks, dead letters, duration
 * and throughput, and where its report is (quality, drift and distribution are in the report).
 *
 * <pre>{@code
 * RunSummary s = BatchScoringPipeline.run(options);
 * System.out.println(s.render());
 * }</pre>
 */
public final class RunSummary {
  public final String runId;
  public final String runDirectory;
  public final double seconds;
  public final long recordsRead;
  public final long unreadable;
  public final long predictions;
  public final long fallbacks;
  /** Dead letters of the scoring steps (features, inference, keys); unreadable lines are apart. */
  public final long deadLetters;

  public RunSummary(String runId, String runDirectory, double seconds, long recordsRead, long unreadable,
      long predictions, long fallbacks, long deadLetters) {
    this.runId = runId;
    this.runDirectory = runDirectory;
    this.seconds = seconds;
    this.recordsRead = recordsRead;
    this.unreadable = unreadable;
    this.predictions = predictions;
    this.fallbacks = fallbacks;
    this.deadLetters = deadLetters;
  }

  /** Records per second over the whole run. */
  public double recordsPerSecond() {
    return seconds > 0 ? recordsRead / seconds : 0;
  }

  public String render() {
    return String.format(Locale.ROOT,
        "Run %s finished in %.1f s%n"
            + "  records in     %,d%n"
            + "  predictions    %,d%n"
            + "  fallbacks      %,d%n"
            + "  dead letters   %,d (+ %,d unreadable lines)%n"
            + "  throughput     %,.0f records/s%n"
            + "  published to   %s%n"
            + "  report         %s/_REPORT.html",
        runId, seconds, recordsRead, predictions, fallbacks, deadLetters, unreadable, recordsPerSecond(),
        runDirectory, runDirectory);
  }
}
