package dev.batchserve.transforms.values;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The identity of one run: which pipeline, for which logical date and interval.
 *
 * <p>Everything a run stamps on its outputs derives from this, never from the wall clock, so that a
 * re-run of the same run id gives the same result: the run id is {@code <pipeline>-<interval>-<date>}
 * and the prediction timestamp is the end of the run's interval.
 *
 * <pre>{@code
 * RunInfo run = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
 * run.runId();               // "fraud-daily-20261128"
 * run.predictionTimestamp(); // 2026-11-29T00:00:00Z
 * }</pre>
 */
public final class RunInfo implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  private static final DateTimeFormatter COMPACT = DateTimeFormatter.BASIC_ISO_DATE;

  /** How often the job runs; sets the input window, the run id and the default TTL of stores. */
  public enum Interval {
    HOURLY(Duration.ofHours(1)),
    DAILY(Duration.ofDays(1)),
    WEEKLY(Duration.ofDays(7));

    private final Duration length;

    Interval(Duration length) {
      this.length = length;
    }

    public Duration length() {
      return length;
    }

    /** {@code hourly}, {@code daily} or {@code weekly}: the name options and job files use, and the JSON form. */
    @JsonValue
    public String optionName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code hourly}, {@code daily} or {@code weekly}, any case (also how Jackson and pipeline options read one). */
    @JsonCreator
    public static Interval parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
        throw new IllegalArgumentException(
            "interval must be one of hourly, daily, weekly, but was '" + s + "'");
      }
    }
  }

  private final String pipeline;
  private final LocalDate runDate;
  private final int hour;
  private final Interval interval;

  private RunInfo(String pipeline, LocalDate runDate, int hour, Interval interval) {
    checkPipelineName(pipeline);
    checkArgument(hour >= 0 && hour < 24, "hour must be in [0, 24), but was %s", hour);
    checkArgument(
        interval == Interval.HOURLY || hour == 0,
        "an hour is only meaningful for hourly runs, but was %s for %s",
        hour,
        interval);
    this.pipeline = pipeline;
    this.runDate = Objects.requireNonNull(runDate, "runDate");
    this.hour = hour;
    this.interval = Objects.requireNonNull(interval, "interval");
  }

  /**
   * The check of a run's pipeline name, for code that takes the name before it makes the run (a job
   * file's {@code name}): lower case letters, digits, {@code _} and {@code -}, at most 63 characters.
   *
   * <pre>{@code
   * RunInfo.checkPipelineName("fraud"); // "Fraud Daily" throws
   * }</pre>
   *
   * @throws IllegalArgumentException naming the name, when it does not match
   */
  public static String checkPipelineName(String pipeline) {
    checkArgument(
        pipeline != null && NAME.matcher(pipeline).matches(),
        "pipeline name must match %s, but was '%s'",
        NAME.pattern(),
        pipeline);
    return pipeline;
  }

  /** A daily or weekly run (or the hour-0 run of an hourly job). */
  public static RunInfo of(String pipeline, LocalDate runDate, Interval interval) {
    return new RunInfo(pipeline, runDate, 0, interval);
  }

  /** An hourly run for the given hour of the run date. */
  public static RunInfo hourly(String pipeline, LocalDate runDate, int hour) {
    return new RunInfo(pipeline, runDate, hour, Interval.HOURLY);
  }

  public String pipeline() {
    return pipeline;
  }

  public LocalDate runDate() {
    return runDate;
  }

  public Interval interval() {
    return interval;
  }

  /** Start of the run's input window (inclusive), UTC. */
  public Instant windowStart() {
    return runDate.atStartOfDay(ZoneOffset.UTC).toInstant().plus(Duration.ofHours(hour));
  }

  /** End of the run's input window (exclusive), UTC; also the prediction timestamp. */
  public Instant windowEnd() {
    return windowStart().plus(interval.length());
  }

  /** The logical time the predictions are "as of": the end of the input window. */
  public Instant predictionTimestamp() {
    return windowEnd();
  }

  /** {@code <pipeline>-<interval>-<yyyymmdd>[T<hh>]}: stable for a given run, safe in paths and keys. */
  public String runId() {
    String base = pipeline + "-" + interval.name().toLowerCase(Locale.ROOT) + "-" + COMPACT.format(runDate);
    return interval == Interval.HOURLY ? base + String.format(Locale.ROOT, "T%02d", hour) : base;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RunInfo)) {
      return false;
    }
    RunInfo r = (RunInfo) o;
    return pipeline.equals(r.pipeline)
        && runDate.equals(r.runDate)
        && hour == r.hour
        && interval == r.interval;
  }

  @Override
  public int hashCode() {
    return Objects.hash(pipeline, runDate, hour, interval);
  }

  @Override
  public String toString() {
    return runId();
  }
}
