package dev.batchserve.pipelines.schedule;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.LocalDate;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * When a run is, and what it waits for: every job of this project takes these ({@code
 * BatchScoringPipeline}, the worked examples). The run id and the input window derive from the run
 * date and interval ({@link Schedule#runInfo}), so a re-run of the same date is the same run.
 */
public interface ScheduleOptions extends PipelineOptions {
  @Description("Logical date of the run (yyyy-mm-dd, UTC); unset or empty = today.")
  @JsonDeserialize(using = RunDateText.Reader.class)
  @JsonSerialize(using = ToStringSerializer.class)
  @Nullable LocalDate getRunDate();

  void setRunDate(@Nullable LocalDate value);

  @Description("Schedule interval: hourly, daily or weekly; unset = the job's own (weekly for churn, else daily).")
  RunInfo.@Nullable Interval getInterval();

  void setInterval(RunInfo.@Nullable Interval value);

  @Description("Hour of the run date, for hourly runs (0-23).")
  @Default.Integer(0)
  int getRunHour();

  void setRunHour(int value);

  @Description("Wait before the run until this upstream marker exists: a _SUCCESS file, or a directory that"
      + " gets one; placeholders {run_date}, {yyyymmdd}, {hour}, {run_id} are filled in; empty = no wait.")
  @Default.String("")
  String getWaitForMarker();

  void setWaitForMarker(String value);

  @Description("How long to wait for --waitForMarker before failing (e.g. 2h, 30m, PT6H).")
  @JsonDeserialize(using = DurationText.Reader.class)
  @JsonSerialize(using = ToStringSerializer.class)
  @Default.InstanceFactory(SixHours.class)
  Duration getMarkerTimeout();

  void setMarkerTimeout(Duration value);

  @Description("How often to look for --waitForMarker (e.g. 1m, 30s).")
  @JsonDeserialize(using = DurationText.Reader.class)
  @JsonSerialize(using = ToStringSerializer.class)
  @Default.InstanceFactory(OneMinute.class)
  Duration getMarkerPoll();

  void setMarkerPoll(Duration value);

  /** {@code --markerTimeout}'s default. */
  final class SixHours implements DefaultValueFactory<Duration> {
    @Override
    public Duration create(PipelineOptions options) {
      return Duration.ofHours(6);
    }
  }

  /** {@code --markerPoll}'s default. */
  final class OneMinute implements DefaultValueFactory<Duration> {
    @Override
    public Duration create(PipelineOptions options) {
      return Duration.ofMinutes(1);
    }
  }
}
