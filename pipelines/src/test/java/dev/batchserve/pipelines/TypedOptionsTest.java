package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import dev.batchserve.pipelines.config.JobConfig;
import dev.batchserve.pipelines.config.SetOptions;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.keys.DuplicateKeyPolicy;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.values.RunInfo;
import java.lang.reflect.Method;
import java.time.LocalDate;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.common.ReflectHelpers;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Issue 19: a job file's lists, choices and fallback reach {@link BatchScoringOptions} typed, the
 * command line's text gives the same values and the same messages, and the values survive the JSON
 * trip to the workers.
 */
@RunWith(JUnit4.class)
public class TypedOptionsTest {
  private static final RunInfo NOV_28 = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  @Test
  public void theCommandLineTextBecomesTypedValues() {
    BatchScoringOptions o = BatchScoringPipeline.options("--keyColumns=region,account_id", "--formats=jsonl,PARQUET",
        "--inputFormat=JsonL", "--fallback=constant:0.02", "--duplicateKeys=LAST_WINS", "--interval=hourly",
        "--passThroughColumns=row_id,label", "--noDriftFeatures=signup_ts", "--runDate=2026-11-28");
    assertThat(o.getKeyColumns(), is(List.of("region", "account_id")));
    assertThat(o.getRunDate(), is(LocalDate.parse("2026-11-28")));
    assertThat(o.getFormats(), is(List.of(FileFormat.JSONL, FileFormat.PARQUET)));
    assertThat(o.getInputFormat(), is(ReadRecords.Format.JSONL));
    assertThat(o.getFallback(), equalTo(Fallback.constant(0.02f)));
    assertThat(o.getDuplicateKeys(), is(DuplicateKeyPolicy.LAST_WINS));
    assertThat(o.getInterval(), is(RunInfo.Interval.HOURLY));
    assertThat(o.getPassThroughColumns(), is(List.of("row_id", "label")));
    assertThat(o.getNoDriftFeatures(), is(List.of("signup_ts")));
    assertThat(BatchScoringPipeline.options("--segmentModels=eu=/m/eu/3, us=gs://b/us=5", "--jdbcViewColumns=id=key")
        .getSegmentModels(), is(java.util.Map.of("eu", "/m/eu/3", "us", "gs://b/us=5")));
    assertThat(BatchScoringPipeline.options("--jdbcViewColumns=account_id=key,risk_score=score").getJdbcViewColumns(),
        is(java.util.Map.of("account_id", "key", "risk_score", "score")));
    assertThat(message("--segmentModels=eu=/m/eu,us"), org.hamcrest.Matchers.startsWith(
        "--segmentModels must be <segment>=<model dir>,..., e.g. eu=/models/churn-eu/3,us=/models/churn-us/5, but the entry"));
    assertThat(message("--jdbcViewColumns=a=key,a=score"), is("--jdbcViewColumns: view column 'a' is named twice in 'a=key,a=score'"));
    assertThat(BatchScoringPipeline.options("--fallback=previous_run").getFallback(),
        equalTo(Fallback.previousRun(Fallback.abstain())));
    assertThat(BatchScoringPipeline.options("--fallback=previous_run:constant:0.5").getFallback(),
        equalTo(Fallback.previousRun(Fallback.constant(0.5f))));
  }

  @Test
  public void defaultsAndEmptyValuesAreTheOldOnes() {
    BatchScoringOptions o = BatchScoringPipeline.options();
    assertThat(o.getKeyColumns(), is(List.of("account_id")));
    assertThat(o.getFormats(), is(List.of(FileFormat.PARQUET, FileFormat.JSONL)));
    assertThat(o.getInputFormat(), nullValue());
    assertThat(o.getFallback(), equalTo(Fallback.abstain()));
    assertThat(o.getDuplicateKeys(), is(DuplicateKeyPolicy.ERROR));
    assertThat(o.getInterval(), nullValue());
    assertThat(o.getPassThroughColumns(), is(List.of()));
    assertThat(o.getNoDriftFeatures(), is(List.of()));
    assertThat(o.getRunDate(), nullValue()); // today, UTC (Schedule.runInfo)
    // An empty value meant "unset" when these were strings; Beam refuses it for other types, so it is dropped.
    BatchScoringOptions empty = BatchScoringPipeline.options("--inputFormat=", "--interval=", "--passThroughColumns=",
        "--noDriftFeatures=", "--runDate=");
    assertThat(empty.getInputFormat(), nullValue());
    assertThat(empty.getRunDate(), nullValue());
    assertThat(empty.getInterval(), nullValue());
    assertThat(empty.getPassThroughColumns(), is(List.of()));
    assertThat(empty.getNoDriftFeatures(), is(List.of()));
  }

  @Test
  public void aBadValueFailsWithTheValueTypesMessageNamingTheOption() {
    assertThat(message("--formats=parquet,xml"), is("--formats: file format must be parquet or jsonl, but was 'xml'"));
    assertThat(message("--inputFormat=xml"),
        is("--inputFormat: format must be one of csv, jsonl, parquet, jdbc, bigquery, but was 'xml'"));
    assertThat(message("--runDate=28/11/2026"), is("--runDate must be yyyy-mm-dd, but was '28/11/2026'"));
    assertThat(message("--interval=monthly"),
        is("--interval must be one of hourly, daily, weekly, but was 'monthly'"));
    assertThat(message("--fallback=median"),
        is("--fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]', but was 'median'"));
    // Beam reads such a value as JSON first: the text reaches the type as it was given (OptionArgs.normalize).
    assertThat(message("--fallback=null"),
        is("--fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]', but was 'null'"));
    assertThat(message("--markerTimeout=36 hours"),
        is("--markerTimeout must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '36 hours'"));
    assertThat(message("--fallback=constant:high"),
        is("--fallback constant needs a number, e.g. constant:0.02, but was 'constant:high'"));
    // The job file's duplicateKeys gets the same message from the same check.
    assertThat(message("--duplicateKeys=first_wins"), is("--" + assertThrows(IllegalArgumentException.class,
        () -> DuplicateKeyPolicy.parse("first_wins")).getMessage()));
    assertThat(message("--duplicateKeys=first_wins"),
        is("--duplicateKeys must be one of error, last_wins, but was 'first_wins'"));
    // Beam's own failures stay as they were.
    assertThat(message("--batchSizes=4"), org.hamcrest.Matchers.containsString("Did you mean 'batchSize'?"));
  }

  @Test
  public void aJobFilesValuesReachTheOptionsTypedAndAsTheCommandLineWouldGiveThem() throws Exception {
    JobConfig job = JobConfig.read("classpath:jobs/fraud-daily.yaml",
        List.of("source.format=jsonl", "source.path=in/*.jsonl", "duplicateKeys=last_wins", "passThroughColumns=[label]",
            "schedule={interval: daily, waitForMarker: 'up/{run_date}', markerTimeout: 2h, markerPoll: 30s}"));
    BatchScoringOptions o = PipelineOptionsFactory.as(BatchScoringOptions.class);
    List<String> set = job.applyTo(o, NOV_28, java.util.Set.of());
    assertThat(o.getKeyColumns(), is(List.of("account_id")));
    assertThat(o.getFormats(), is(List.of(FileFormat.PARQUET, FileFormat.JSONL)));
    assertThat(o.getInputFormat(), is(ReadRecords.Format.JSONL));
    assertThat(o.getFallback(), equalTo(Fallback.constant(0.02f)));
    assertThat(o.getDuplicateKeys(), is(DuplicateKeyPolicy.LAST_WINS));
    assertThat(o.getInterval(), is(RunInfo.Interval.DAILY));
    assertThat(o.getPassThroughColumns(), is(List.of("label")));
    assertThat(o.getMarkerTimeout(), is(java.time.Duration.ofHours(2)));
    assertThat(o.getMarkerPoll(), is(java.time.Duration.ofSeconds(30)));
    // Every option the job sets, given on the command line as text, is the same value.
    for (String arg : SetOptions.of(o, set)) {
      String name = arg.substring(2, arg.indexOf('='));
      Method getter = BatchScoringOptions.class.getMethod("get" + Character.toUpperCase(name.charAt(0)) + name.substring(1));
      assertThat(arg, getter.invoke(BatchScoringPipeline.options(arg)), equalTo(getter.invoke(o)));
    }
  }

  @Test
  public void typedValuesSurviveTheTripToTheWorkers() throws Exception {
    BatchScoringOptions o = BatchScoringPipeline.options("--keyColumns=region,account_id", "--formats=jsonl",
        "--inputFormat=csv", "--fallback=previous_run:constant:0.25", "--duplicateKeys=last_wins", "--interval=weekly",
        "--markerTimeout=2h", "--redisTtl=PT36H", "--runDate=2026-11-28", "--segmentModels=eu=/m/eu/3,us=/m/us/5", "--jdbcViewColumns=b=score,a=key");
    // As runners send options to workers (SerializablePipelineOptions): JSON with the modules on the classpath.
    ObjectMapper json = new ObjectMapper().registerModules(ObjectMapper.findModules(ReflectHelpers.findClassLoader()));
    BatchScoringOptions back = json.readValue(json.writeValueAsString(o), PipelineOptions.class).as(BatchScoringOptions.class);
    assertThat(back.getKeyColumns(), is(o.getKeyColumns()));
    assertThat(back.getFormats(), is(List.of(FileFormat.JSONL)));
    assertThat(back.getInputFormat(), is(ReadRecords.Format.CSV));
    assertThat(back.getFallback(), equalTo(Fallback.previousRun(Fallback.constant(0.25f))));
    assertThat(back.getDuplicateKeys(), is(DuplicateKeyPolicy.LAST_WINS));
    assertThat(back.getInterval(), is(RunInfo.Interval.WEEKLY));
    assertThat(back.getMarkerTimeout(), is(java.time.Duration.ofHours(2)));
    assertThat(back.getMarkerPoll(), is(java.time.Duration.ofMinutes(1)));
    assertThat(back.getRedisTtl(), is(java.time.Duration.ofHours(36)));
    assertThat(back.getDynamoDbTtl(), nullValue());
    assertThat(back.getRunDate(), is(LocalDate.parse("2026-11-28")));
    BatchScoringOptions defaults = BatchScoringPipeline.options();
    BatchScoringOptions defaultsBack = json.readValue(json.writeValueAsString(defaults), PipelineOptions.class)
        .as(BatchScoringOptions.class);
    assertThat(defaultsBack.getSegmentModels(), is(java.util.Map.of()));
    assertThat(defaultsBack.getMarkerTimeout(), is(java.time.Duration.ofHours(6)));
    assertThat(defaultsBack.getRunDate(), nullValue());
    assertThat(back.getSegmentModels(), is(java.util.Map.of("eu", "/m/eu/3", "us", "/m/us/5")));
    assertThat(List.copyOf(back.getJdbcViewColumns().keySet()), is(List.of("b", "a"))); // in the given order
  }

  private static String message(String arg) {
    return assertThrows(IllegalArgumentException.class, () -> BatchScoringPipeline.options(arg)).getMessage();
  }
}
