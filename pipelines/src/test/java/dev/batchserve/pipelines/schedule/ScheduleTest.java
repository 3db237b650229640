package dev.batchserve.pipelines.schedule;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Every job's run from {@code --runDate}/{@code --interval}/{@code --runHour}, and its upstream marker. */
public class ScheduleTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static <O extends ScheduleOptions> O options(Class<O> type, String... args) {
    return dev.batchserve.pipelines.OptionArgs.parse(type, args);
  }

  @Test
  public void everyJobDerivesItsRunIdAndWindowFromRunDateAndInterval() {
    // The job's own default interval (the examples' jobs: batchserve-examples' ExampleRunIdsTest)...
    assertThat(BatchScoringPipeline.runInfo(options(BatchScoringOptions.class, "--runDate=2026-11-28")).runId(),
        is("fraud-daily-20261128"));
    // ... and another interval, with the window that interval gives.
    RunInfo hourly = Schedule.runInfo("fraud-tx", options(ScheduleOptions.class,
        "--runDate=2026-11-28", "--interval=hourly", "--runHour=5"), RunInfo.Interval.DAILY);
    assertThat(hourly.runId(), is("fraud-tx-hourly-20261128T05"));
    assertThat(hourly.windowStart(), is(Instant.parse("2026-11-28T05:00:00Z")));
    assertThat(hourly.windowEnd(), is(Instant.parse("2026-11-28T06:00:00Z")));
    RunInfo weekly = Schedule.runInfo("recs", options(ScheduleOptions.class,
        "--runDate=2026-11-23", "--interval=weekly"), RunInfo.Interval.DAILY);
    assertThat(weekly.runId(), is("recs-weekly-20261123"));
    assertThat(weekly.windowEnd(), is(Instant.parse("2026-11-30T00:00:00Z")));
    assertThat(Schedule.runInfo("churn", options(ScheduleOptions.class, "--runDate=2026-11-23", "--interval=daily"),
        RunInfo.Interval.WEEKLY).runId(), is("churn-daily-20261123"));
  }

  @Test
  public void badScheduleOptionsFailNamingTheOption() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> Schedule.runInfo("churn",
        options(ScheduleOptions.class, "--runDate=23/11/2026"), RunInfo.Interval.WEEKLY)).getMessage(),
        is("--runDate must be yyyy-mm-dd, but was '23/11/2026'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> Schedule.runInfo("churn",
        options(ScheduleOptions.class, "--interval=monthly"), RunInfo.Interval.WEEKLY)).getMessage(), containsString("monthly"));
    // A duration is read once, when the options are (issue 19), with the job file's message.
    assertThat(assertThrows(IllegalArgumentException.class, () -> options(ScheduleOptions.class,
        "--runDate=2026-11-28", "--waitForMarker=" + TMP.getRoot(), "--markerTimeout=soon")).getMessage(),
        is("--markerTimeout must be a duration like 90s, 15m, 36h, 2d or PT36H, but was 'soon'"));
    ScheduleOptions o = options(ScheduleOptions.class, "--markerTimeout=2h", "--markerPoll=PT30S");
    assertThat(o.getMarkerTimeout(), is(java.time.Duration.ofHours(2)));
    assertThat(o.getMarkerPoll(), is(java.time.Duration.ofSeconds(30)));
    assertThat(options(ScheduleOptions.class).getMarkerTimeout(), is(java.time.Duration.ofHours(6)));
  }

  @Test
  public void aJobWaitsForItsUpstreamMarkerAndRunsNothingWithoutIt() throws Exception {
    Path root = TMP.getRoot().toPath();
    Path model = root.resolve("model");
    TrainFraudModel.train(model, 1000, 7, "1");
    Path upstream = root.resolve("lake/accounts/dt=2026-11-28");
    Files.createDirectories(upstream);
    Path input = upstream.resolve("accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(50, 42), input);
    String[] args = {"--runner=DirectRunner", "--input=" + input, "--model=" + model,
        "--output=" + root.resolve("out"), "--runDate=2026-11-28", "--numShards=1",
        "--waitForMarker=" + root.resolve("lake/accounts/dt={run_date}"), "--markerTimeout=300ms", "--markerPoll=50ms"};

    UpstreamMarker.NotReady e = assertThrows(UpstreamMarker.NotReady.class,
        () -> BatchScoringPipeline.run(options(BatchScoringOptions.class, args)));
    assertThat(e.getMessage(), containsString(upstream.resolve("_SUCCESS").toString()));
    assertThat("nothing was written before the marker", Files.exists(root.resolve("out")), is(false));

    Files.writeString(upstream.resolve("_SUCCESS"), "");
    RunSummary s = BatchScoringPipeline.run(options(BatchScoringOptions.class, args));
    assertThat(s.predictions, is(50L));
  }
}
