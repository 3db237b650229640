package dev.batchserve.pipelines;

import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.util.List;
import java.util.Locale;
import org.checkerframework.checker.nullness.qual.Nullable;

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
  /**
   * When the run was a backfill (older than the run served, see {@code Backfill}): the run readers of
   * the files still see ({@code _LATEST}); else null.
   */
  public final @Nullable String servedInstead;
  /** The stores that published the run as a backfill ({@code files}, {@code redis}, ...), leaving their pointer. */
  public final List<String> backfilledStores;

  public RunSummary(String runId, String runDirectory, double seconds, long recordsRead, long unreadable,
      long predictions, long fallbacks, long deadLetters) {
    this(runId, runDirectory, seconds, recordsRead, unreadable, predictions, fallbacks, deadLetters, null, List.of());
  }

  public RunSummary(String runId, String runDirectory, double seconds, long recordsRead, long unreadable,
      long predictions, long fallbacks, long deadLetters, @Nullable String servedInstead,
      List<String> backfilledStores) {
    this.servedInstead = servedInstead;
    this.backfilledStores = List.copyOf(backfilledStores);
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

  /** Whether the run was published as a backfill in the files or in any store. */
  public boolean isBackfill() {
    return servedInstead != null || !backfilledStores.isEmpty();
  }

  /**
   * {@code backfill: run <id> published; readers still see <id> (files, redis)}, or null when the run
   * moved every latest pointer to itself.
   */
  public @Nullable String backfillLine() {
    if (!isBackfill()) {
      return null;
    }
    String stores = backfilledStores.isEmpty() ? "" : " (" + String.join(", ", backfilledStores) + ")";
    return servedInstead != null
        ? dev.batchserve.transforms.sink.Backfill.message(runId, servedInstead) + stores
        : "backfill: run " + runId + " published; readers still see the newer run served there" + stores;
  }

  public String render() {
    String backfill = backfillLine();
    return (backfill == null ? "" : backfill + " (--forceLatest moves the latest pointers back to it)"
        + System.lineSeparator()) + String.format(Locale.ROOT,
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

  /**
   * The run {@code <root>/_LATEST} names when that is not {@code run} (after {@code run} published: it
   * was a backfill), else null.
   */
  static @Nullable String servedInstead(String root, RunInfo run) {
    String latest = FileSink.latestDirectory(root);
    if (latest == null) {
      return null;
    }
    String served = FileSink.runIdOf(latest);
    return served.equals(run.runId()) ? null : served;
  }
}
