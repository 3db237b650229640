package dev.batchserve.pipelines.config;

import dev.batchserve.pipelines.schedule.UpstreamMarker;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code schedule}: the run's interval ({@link RunInfo.Interval#parse}; daily unless
 * set) and the upstream marker it waits for, with how long and how often.
 *
 * <pre>
 * schedule: {interval: daily, waitForMarker: lake/tx/dt={run_date}, markerTimeout: 2h, markerPoll: 1m}
 * </pre>
 */
public record JobSchedule(
    @Nullable String interval,
    @Nullable String waitForMarker,
    @Nullable String markerTimeout,
    @Nullable String markerPoll) {

  /** {@code daily} unless set. */
  public RunInfo.Interval runInterval() {
    return interval == null ? RunInfo.Interval.DAILY : RunInfo.Interval.parse(interval);
  }

  /** Default 6 hours. */
  public Duration markerTimeoutDuration() {
    return markerTimeout == null ? Duration.ofHours(6) : JobConfig.parseDuration(markerTimeout);
  }

  /** Default 1 minute. */
  public Duration markerPollDuration() {
    return markerPoll == null ? Duration.ofMinutes(1) : JobConfig.parseDuration(markerPoll);
  }

  /** The marker's path has placeholders as in {@link UpstreamMarker#resolve}; the pipeline fills them. */
  void validate(Problems p) {
    if (interval != null) {
      p.check("schedule.interval", () -> RunInfo.Interval.parse(interval));
    }
    if (waitForMarker != null && waitForMarker.isBlank()) {
      p.add("schedule.waitForMarker must be a path when set, but was empty");
    }
    p.duration("schedule.markerTimeout", markerTimeout);
    p.duration("schedule.markerPoll", markerPoll);
    if (waitForMarker == null && (markerTimeout != null || markerPoll != null)) {
      p.add("schedule.markerTimeout and schedule.markerPoll need schedule.waitForMarker");
    }
  }
}
