package dev.batchserve.pipelines.schedule;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits for an upstream job's {@code _SUCCESS} marker before a run starts, through Beam
 * {@code FileSystems} (local paths, {@code gs://}, any registered scheme).
 *
 * <p>The marker URI names the upstream output directory ({@code <dir>/_SUCCESS} is awaited) or the
 * marker file itself. It may hold placeholders filled from the run ({@link #resolve}): {@code
 * {run_date}} (yyyy-mm-dd), {@code {yyyymmdd}}, {@code {hour}} (two digits) and {@code {run_id}}, so
 * one job config names the partition each run depends on.
 *
 * <pre>{@code
 * String marker = UpstreamMarker.resolve("gs://lake/transactions/dt={run_date}", run);
 * UpstreamMarker.await(marker, Duration.ofHours(2), Duration.ofMinutes(1)); // or throws NotReady
 * }</pre>
 */
public final class UpstreamMarker {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamMarker.class);
  public static final String SUCCESS = "_SUCCESS";

  private UpstreamMarker() {}

  /** Thrown when the marker did not appear within the timeout; the message names the marker. */
  public static final class NotReady extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String marker;

    NotReady(String marker, Duration timeout) {
      super("upstream marker " + marker + " did not appear within " + timeout
          + ": the upstream job has not finished (or wrote elsewhere); no run was started");
      this.marker = marker;
    }

    /** The marker file that was awaited. */
    public String marker() {
      return marker;
    }
  }

  /** The marker file awaited for {@code markerUri}: itself if it names a {@code _SUCCESS} file, else {@code <dir>/_SUCCESS}. */
  public static String markerFile(String markerUri) {
    checkArgument(markerUri != null && !markerUri.isBlank(), "markerUri must be set, but was '%s'", markerUri);
    String u = markerUri.trim();
    if (u.endsWith("/" + SUCCESS) || u.equals(SUCCESS)) {
      return u;
    }
    return (u.endsWith("/") ? u : u + "/") + SUCCESS;
  }

  /** Fills {@code {run_date}}, {@code {yyyymmdd}}, {@code {hour}} and {@code {run_id}} from the run. */
  public static String resolve(String template, RunInfo run) {
    int hour = (int) java.time.Duration.between(
        run.runDate().atStartOfDay(java.time.ZoneOffset.UTC).toInstant(), run.windowStart()).toHours();
    return template
        .replace("{run_date}", run.runDate().toString())
        .replace("{yyyymmdd}", DateTimeFormatter.BASIC_ISO_DATE.format(run.runDate()))
        .replace("{hour}", String.format(Locale.ROOT, "%02d", hour))
        .replace("{run_id}", run.runId());
  }

  /** Whether the marker exists now. */
  public static boolean exists(String markerUri) {
    String marker = markerFile(markerUri);
    try {
      MatchResult m = FileSystems.match(marker, EmptyMatchTreatment.ALLOW);
      return m.status() == MatchResult.Status.OK && !m.metadata().isEmpty();
    } catch (IOException e) {
      // A missing parent directory is "not there yet" on some file systems; anything else is real.
      if (e instanceof java.io.FileNotFoundException) {
        return false;
      }
      throw new java.io.UncheckedIOException("cannot check upstream marker " + marker, e);
    }
  }

  /**
   * Returns as soon as the marker exists, checking every {@code poll}; throws {@link NotReady} naming
   * the marker when {@code timeout} passes first. A zero timeout checks once.
   */
  public static void await(String markerUri, Duration timeout, Duration poll) {
    checkArgument(timeout != null && !timeout.isNegative(), "timeout must be >= 0, but was %s", timeout);
    checkArgument(poll != null && !poll.isNegative() && !poll.isZero(), "poll must be > 0, but was %s", poll);
    String marker = markerFile(markerUri);
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean logged = false;
    while (true) {
      if (exists(marker)) {
        if (logged) {
          LOG.info("upstream marker {} appeared", marker);
        }
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new NotReady(marker, timeout);
      }
      if (!logged) {
        LOG.info("waiting up to {} for upstream marker {}", timeout, marker);
        logged = true;
      }
      try {
        Thread.sleep(Math.max(1, Math.min(poll.toMillis(), left / 1_000_000 + 1)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for upstream marker " + marker, e);
      }
    }
  }
}
