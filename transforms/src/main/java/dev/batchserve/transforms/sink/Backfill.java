package dev.batchserve.transforms.sink;

import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;

/**
 * When a run is a backfill, and what every sink says about it.
 *
 * <p>A run is a backfill when the store serves another run whose prediction timestamp (the end of
 * its input window, {@link RunInfo#predictionTimestamp}) is later than this run's: the same test the
 * stale-write guards made before, which refused such a run. A backfill now publishes its own run (its
 * files, namespace, table or partition, and its run record) but leaves the store's "latest" pointer
 * where it is, so readers keep the newer run. {@code withForceLatest(true)} on a sink (option
 * {@code --forceLatest} of the jobs) moves the pointer back to the older run all the same. Another run
 * with the same prediction timestamp, or the served run id itself (a re-run), is never a backfill.
 *
 * <pre>{@code
 * if (Backfill.isOlder(run, servedRunId, servedTimestamp)) {
 *   LOG.warn(Backfill.message(run.runId(), servedRunId)); // backfill: run R published; readers still see S
 * }
 * }</pre>
 */
public final class Backfill {
  /** The counter each sink increments (in its own metrics namespace) when it published a backfill. */
  public static final String RUNS_BACKFILLED = "runs_backfilled";

  private Backfill() {}

  /** Whether {@code run} is older than the served run {@code servedRunId} as of {@code servedTimestamp}. */
  public static boolean isOlder(RunInfo run, String servedRunId, Instant servedTimestamp) {
    return !servedRunId.equals(run.runId()) && servedTimestamp.isAfter(run.predictionTimestamp());
  }

  /** {@code backfill: run <runId> published; readers still see <servedRunId>}. */
  public static String message(String runId, String servedRunId) {
    return "backfill: run " + runId + " published; readers still see " + servedRunId;
  }

  /** The same, naming the store, for a sink's log. */
  static String message(String runId, String servedRunId, String store) {
    return message(runId, servedRunId) + " (" + store + "; withForceLatest / --forceLatest moves it back)";
  }
}
