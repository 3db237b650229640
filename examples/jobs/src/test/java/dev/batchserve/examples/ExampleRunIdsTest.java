package dev.batchserve.examples;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.examples.churn.ChurnPipeline;
import dev.batchserve.examples.fraud.ScoreFraudTransactions;
import dev.batchserve.examples.recommend.RecommendPipeline;
import dev.batchserve.pipelines.schedule.ScheduleOptions;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.Test;

/** Each example job's run from {@code --runDate}/{@code --interval}/{@code --runHour}: its own name and default interval. */
public class ExampleRunIdsTest {
  private static <O extends ScheduleOptions> O options(Class<O> type, String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(type);
  }

  @Test
  public void everyExampleDerivesItsRunIdAndWindowFromRunDateAndInterval() {
    // Each job's own default interval...
    assertThat(ChurnPipeline.runInfo(options(ChurnPipeline.Options.class, "--runDate=2026-11-23")).runId(),
        is("churn-weekly-20261123"));
    assertThat(ScoreFraudTransactions.runInfo(options(ScoreFraudTransactions.Options.class, "--runDate=2026-11-28"))
        .runId(), is("fraud-tx-daily-20261128"));
    assertThat(RecommendPipeline.runInfo(options(RecommendPipeline.Options.class, "--runDate=2026-11-28")).runId(),
        is("recs-daily-20261128"));
    // ... and any of them on another interval, with the window that interval gives.
    RunInfo hourly = ScoreFraudTransactions.runInfo(options(ScoreFraudTransactions.Options.class,
        "--runDate=2026-11-28", "--interval=hourly", "--runHour=5"));
    assertThat(hourly.runId(), is("fraud-tx-hourly-20261128T05"));
    assertThat(hourly.windowStart(), is(Instant.parse("2026-11-28T05:00:00Z")));
    assertThat(hourly.windowEnd(), is(Instant.parse("2026-11-28T06:00:00Z")));
    RunInfo weekly = RecommendPipeline.runInfo(options(RecommendPipeline.Options.class,
        "--runDate=2026-11-23", "--interval=weekly"));
    assertThat(weekly.runId(), is("recs-weekly-20261123"));
    assertThat(weekly.windowEnd(), is(Instant.parse("2026-11-30T00:00:00Z")));
    assertThat(ChurnPipeline.runInfo(options(ChurnPipeline.Options.class, "--runDate=2026-11-23", "--interval=daily"))
        .runId(), is("churn-daily-20261123"));
  }

  @Test
  public void badScheduleOptionsFailNamingTheOption() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> ChurnPipeline.runInfo(
        options(ChurnPipeline.Options.class, "--runDate=23/11/2026"))).getMessage(),
        is("--runDate must be yyyy-mm-dd, but was '23/11/2026'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ChurnPipeline.runInfo(
        options(ChurnPipeline.Options.class, "--interval=monthly"))).getMessage(), containsString("monthly"));
  }
}
