package dev.batchserve.pipelines.schedule;

import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;

/**
 * A job's run from its {@link ScheduleOptions}: the {@link RunInfo} (run id, input window,
 * prediction timestamp) and the upstream marker it waits for.
 */
public final class Schedule {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Schedule() {}

  /**
   * The run of {@code pipeline} that the options name: {@code --runDate} (unset = today, UTC),
   * {@code --interval} (empty = {@code defaultInterval}) and, for hourly runs, {@code --runHour}.
   */
  public static RunInfo runInfo(String pipeline, ScheduleOptions o, RunInfo.Interval defaultInterval) {
    LocalDate date = o.getRunDate() == null ? LocalDate.now(ZoneOffset.UTC) : o.getRunDate();
    RunInfo.Interval interval = o.getInterval() == null ? defaultInterval : o.getInterval();
    return interval == RunInfo.Interval.HOURLY
        ? RunInfo.hourly(pipeline, date, o.getRunHour())
        : RunInfo.of(pipeline, date, interval);
  }

  /**
   * Blocks until {@code --waitForMarker} (placeholders filled from {@code run}) exists; a no-op
   * without one. Throws {@link UpstreamMarker.NotReady} after {@code --markerTimeout}.
   */
  public static void awaitUpstream(ScheduleOptions o, RunInfo run) {
    if (o.getWaitForMarker().isBlank()) {
      return;
    }
    UpstreamMarker.await(UpstreamMarker.resolve(o.getWaitForMarker(), run), o.getMarkerTimeout(), o.getMarkerPoll());
  }

  /**
   * A worked example's {@code main}: waits for the upstream marker, builds the pipeline with {@code
   * build} (which returns the run directory), runs it to completion, prints the outcome and fails on
   * any state but {@code DONE}.
   */
  public static <O extends ScheduleOptions> void runToCompletion(O o, RunInfo run, BiFunction<Pipeline, O, String> build) {
    awaitUpstream(o, run);
    Pipeline p = Pipeline.create(o);
    long t0 = System.nanoTime();
    String runDir = build.apply(p, o);
    PipelineResult.State state = p.run().waitUntilFinish();
    System.out.printf("Run %s ended %s in %.1f s; published to %s%n", run.runId(), state,
        (System.nanoTime() - t0) / 1e9, runDir);
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("run " + run.runId() + " ended in state " + state);
    }
  }

  /**
   * A run date's text, {@code yyyy-mm-dd}: {@code --runDate}'s, for the options ({@link RunDateText}) and
   * for {@code batchserve job} ({@code ConfigJob}).
   *
   * @throws IllegalArgumentException {@code --runDate must be yyyy-mm-dd, but was '<text>'}
   */
  public static LocalDate parseRunDate(String s) {
    try {
      return LocalDate.parse(s == null ? "" : s);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--runDate must be yyyy-mm-dd, but was '" + s + "'", e);
    }
  }

  /**
   * {@code 500ms}, {@code 90s}, {@code 15m}, {@code 36h}, {@code 2d}, or ISO-8601 ({@code PT36H}): how
   * job files and options ({@link DurationText}) read a duration.
   *
   * @throws IllegalArgumentException "must be a duration like ..., but was '...'" (the caller names the
   *     field or option before it)
   */
  public static Duration parseDuration(String s) {
    String t = s == null ? "" : s.trim();
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms": return Duration.ofMillis(n);
        case "s": return Duration.ofSeconds(n);
        case "m": return Duration.ofMinutes(n);
        case "h": return Duration.ofHours(n);
        default: return Duration.ofDays(n);
      }
    }
    try {
      return Duration.parse(t);
    } catch (DateTimeParseException | NullPointerException e) {
      // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
      throw new IllegalArgumentException("must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '" + s + "'");
    }
  }

}
