package dev.batchserve.pipelines.config;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.pipelines.schedule.UpstreamMarker;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class JobConfigTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final int ACCOUNTS = 300;
  private static Path modelDir;
  private static Path parquet;
  private static Map<String, Float> reference;

  @BeforeClass
  public static void trainAndGenerate() {
    modelDir = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    dev.batchserve.tools.training.TrainingSet.Trained trained = TrainFraudModel.train(modelDir, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    parquet = TMP.getRoot().toPath().resolve("sample/accounts.parquet");
    FraudSample.writeParquet(rows, parquet);
    FeatureSpec saved = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    reference = new HashMap<>();
    for (Map<String, Object> row : rows) {
      reference.put((String) row.get(FraudSample.KEY), trained.weights.predict(saved.transform(row).vector())[0]);
    }
  }

  @Test
  public void theShippedSampleJobSetsTheseExactOptions() {
    JobConfig job = JobConfig.read("classpath:jobs/fraud-daily.yaml", List.of());
    RunInfo run = job.runInfo(LocalDate.parse("2026-11-28"), 0);
    assertThat(run.runId(), is("fraud-daily-20261128"));
    assertThat(SetOptions.of(job, run), contains(
        "--pipelineName=fraud",
        "--input=work/sample/fraud/accounts.parquet",
        "--inputFormat=parquet",
        "--keyColumns=account_id",
        "--model=work/models/fraud-mlp/1",
        "--batchSize=256",
        "--output=work/predictions/fraud",
        "--formats=parquet,jsonl",
        "--numShards=4",
        "--fallback=constant:0.02",
        "--duplicateKeys=error",
        "--interval=daily",
        "--runDate=2026-11-28",
        "--maxDeadLetterRate=0.05",
        "--maxPsi=0.25"));
  }

  @Test
  public void theVolumeLimitsOfTheJobFileBecomeOptions() {
    JobConfig job = JobConfig.read("classpath:jobs/fraud-daily.yaml",
        List.of("alerts.thresholds.minRecords=0", "alerts.thresholds.maxRecordDrop=1"));
    List<String> args = SetOptions.of(job, job.runInfo(LocalDate.parse("2026-11-28"), 0));
    assertThat(args, org.hamcrest.Matchers.hasItems("--minRecords=0", "--maxRecordDrop=1.0"));
  }

  /** Issue 21: the job file leaves features out of drift and passes columns through as the options do. */
  @Test
  public void noDriftFeaturesAndPassThroughColumnsBecomeTheOptions() {
    String json = "{\"name\": \"orders\", \"source\": {\"type\": \"files\", \"path\": \"in/*.csv\"},"
        + " \"keyColumns\": [\"id\"], \"model\": \"m/1\", \"sinks\": [{\"type\": \"files\", \"root\": \"out\"}],"
        + " \"passThroughColumns\": [\"row_id\"],"
        + " \"alerts\": {\"noDriftFeatures\": [\"signup_ts\", \"zip\"]}}";
    JobConfig job = JobConfig.parse(json, true, "job.json", List.of());
    assertThat(SetOptions.of(job, job.runInfo(LocalDate.parse("2026-11-28"), 0)),
        org.hamcrest.Matchers.hasItems("--noDriftFeatures=signup_ts,zip", "--passThroughColumns=row_id"));
    IllegalArgumentException e = org.junit.Assert.assertThrows(IllegalArgumentException.class,
        () -> JobConfig.parse(json.replace("\"zip\"", "\"a,b\""), true, "job.json", List.of()));
    assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("alerts.noDriftFeatures must list feature names"));
  }

  @Test
  public void jsonAndYamlDescribeTheSameJobAndOverridesWin() {
    String json = "{\"name\": \"orders\", \"source\": {\"type\": \"files\", \"path\": \"in/{run_date}/*.csv\"},"
        + " \"keyColumns\": [\"shop\", \"order_id\"], \"model\": \"m/1\", \"featureSpec\": \"m/1/spec.json\","
        + " \"sinks\": [{\"type\": \"files\", \"root\": \"out\", \"formats\": \"jsonl\"}],"
        + " \"schedule\": {\"interval\": \"hourly\"}, \"alerts\": {\"webhook\": \"https://h.example/x\"}}";
    JobConfig fromJson = JobConfig.parse(json, true, "job.json", List.of());
    JobConfig fromYaml = JobConfig.parse(json, false, "job.yaml", List.of()); // JSON is YAML too
    assertThat(fromYaml.toJson(), is(fromJson.toJson()));
    JobConfig job = fromJson.withOverrides(List.of("batchSize=1024", "keyColumns=order_id",
        "fallback={policy: constant, value: 0.5}", "sinks[0].numShards=8"));
    RunInfo run = job.runInfo(LocalDate.parse("2026-11-28"), 7);
    assertThat(run.runId(), is("orders-hourly-20261128T07"));
    assertThat(SetOptions.of(job, run), contains(
        "--pipelineName=orders",
        "--input=in/2026-11-28/*.csv",
        "--inputFormat=csv",
        "--keyColumns=order_id",
        "--model=m/1",
        "--featureSpec=m/1/spec.json",
        "--batchSize=1024",
        "--output=out",
        "--formats=jsonl",
        "--numShards=8",
        "--fallback=constant:0.5",
        "--duplicateKeys=error",
        "--interval=hourly",
        "--runDate=2026-11-28",
        "--runHour=7",
        "--alertWebhook=https://h.example/x"));
    assertThat(job.batchSize(), is(1024));
  }

  @Test
  public void severalProblemsAreReportedTogether() {
    JobConfig.InvalidConfig e = assertThrows(JobConfig.InvalidConfig.class, () -> JobConfig.parse(
        "name: x\nsource: {type: files, path: a.csv}\nkeyColumns: k\nmodel: m\n"
            + "sinks: [{type: files, root: o, numShards: -1}, {type: redis, host: h, port: 0}]\nbatchSize: 0\n",
        false, "job.yaml", List.of()));
    assertThat(e.errors(), contains(
        "batchSize: maxBatchSize must be in [1, 100000], but was 0",
        "sinks[0].numShards: numShards must be 0 (auto: from the run's size) or in [1, 10000], but was -1",
        "sinks[1].port: port must be in [1, 65535], but was 0"));
    assertThat(e.getMessage(), containsString("invalid job config job.yaml: batchSize: maxBatchSize must be"));
  }

  @Test
  public void wrongTypesAndBrokenDocumentsAreNamed() {
    assertThat(assertThrows(JobConfig.InvalidConfig.class, () -> JobConfig.parse(
        JobConfigValidationTest.VALID, false, "job.yaml", List.of("sinks[1].port=high"))).getMessage(),
        containsString("sinks[1].port has the wrong type"));
    assertThat(assertThrows(JobConfig.InvalidConfig.class,
        () -> JobConfig.parse("name: [unclosed", false, "job.yaml", List.of())).getMessage(),
        containsString("invalid job config job.yaml: not valid YAML"));
    assertThat(assertThrows(JobConfig.InvalidConfig.class,
        () -> JobConfig.parse("", false, "job.yaml", List.of())).getMessage(),
        is("invalid job config job.yaml: the document is empty"));
  }

  private static final dev.batchserve.transforms.values.RunInfo NOV_28 = dev.batchserve.transforms.values.RunInfo.of(
      "fraud", java.time.LocalDate.parse("2026-11-28"), dev.batchserve.transforms.values.RunInfo.Interval.DAILY);

  @Test
  public void jdbcAndBigQuerySourcesBecomeTheJobsInputOptions() {
    JobConfig jdbc = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("source={type: jdbc, url: 'jdbc:postgresql://db/x', query: \"SELECT * FROM accounts WHERE day = '{run_date}'\"}"));
    assertThat(SetOptions.of(jdbc, NOV_28), org.hamcrest.Matchers.hasItems("--input=jdbc:postgresql://db/x",
        "--inputFormat=jdbc", "--inputQuery=SELECT * FROM accounts WHERE day = '2026-11-28'"));
    JobConfig jdbcTable = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("source={type: jdbc, url: 'jdbc:postgresql://db/x', table: accounts}"));
    assertThat(SetOptions.of(jdbcTable, NOV_28), org.hamcrest.Matchers.hasItems("--inputQuery=SELECT * FROM accounts"));
    JobConfig bqTable = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("source={type: bigquery, table: 'my-project:features.accounts'}"));
    assertThat(SetOptions.of(bqTable, NOV_28), org.hamcrest.Matchers.hasItems("--inputFormat=bigquery",
        "--input=my-project:features.accounts"));
    JobConfig bqQuery = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("source={type: bigquery, query: \"SELECT * FROM f.accounts WHERE day = '{run_date}'\"}"));
    List<String> args = SetOptions.of(bqQuery, NOV_28);
    assertThat(args, org.hamcrest.Matchers.hasItems("--inputFormat=bigquery",
        "--inputQuery=SELECT * FROM f.accounts WHERE day = '2026-11-28'"));
    assertThat(args.stream().anyMatch(a -> a.startsWith("--input=")), is(false));
  }

  /** Issue 19: a JSON lines source is a files source, named or told from its extension. */
  @Test
  public void aJsonLinesSourceJobFileIsAcceptedAsJsonLines() {
    String yaml = String.join("\n", "name: events", "source: {type: files, path: 'in/{run_date}/*.json', format: jsonl}",
        "keyColumns: [id]", "model: m/1", "sinks: [{type: files, root: out}]", "");
    assertThat(SetOptions.of(JobConfig.parse(yaml, false, "job.yaml", List.of()), NOV_28),
        org.hamcrest.Matchers.hasItems("--input=in/2026-11-28/*.json", "--inputFormat=jsonl"));
    JobConfig byExtension = JobConfig.parse(yaml.replace(", format: jsonl", "").replace("*.json", "*.ndjson"),
        false, "job.yaml", List.of());
    assertThat(byExtension.toOptions(NOV_28).getInputFormat(), is(dev.batchserve.transforms.ingest.ReadRecords.Format.JSONL));
    assertThat(byExtension.source().readFormat(), is(dev.batchserve.transforms.ingest.ReadRecords.Format.JSONL));
  }

  /**
   * Issue 19: a job file's value is checked by the transform that takes it, so the job file's message
   * is the field's path, then exactly that transform's message.
   */
  @Test
  public void aJobFileSaysWhatTheTransformSays() {
    assertThat(jobError("sinks[1].prefix=a b"), is("sinks[1].prefix: " + message(
        () -> dev.batchserve.transforms.redis.RedisSink.to("localhost", 6379).withKeyPrefix("a b"))));
    assertThat(jobError("sinks[1].prefix=a b"), is("sinks[1].prefix: "
        + message(() -> dev.batchserve.transforms.redis.RedisSink.checkKeyPrefix("a b"))));
    assertThat(jobError("batchSize=0"), is("batchSize: "
        + message(() -> dev.batchserve.transforms.inference.BatchInfer.withModel("m").withMaxBatchSize(0))));
    assertThat(jobError("sinks[0].formats=[csv]"), is("sinks[0].formats[0]: "
        + message(() -> dev.batchserve.transforms.sink.FileFormat.parse("csv"))));
    assertThat(jobError("source.format=avro"), is("source.format: "
        + message(() -> dev.batchserve.transforms.ingest.ReadRecords.Format.parseFile("avro"))));
    assertThat(jobError("sinks[0].numShards=10001"), is("sinks[0].numShards: "
        + message(() -> dev.batchserve.pipelines.OutputShards.checkNumShards(10001))));
    assertThat(message(() -> dev.batchserve.pipelines.OutputShards.resolve(10001, 0, 1)),
        is("--" + message(() -> dev.batchserve.pipelines.OutputShards.checkNumShards(10001))));
    assertThat(jobError("sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: Scores}"), is("sinks[2].table: "
        + message(() -> dev.batchserve.transforms.jdbc.JdbcSink.to("jdbc:postgresql://db").withTable("Scores"))));
    assertThat(jobError("alerts.webhook=ftp://h"), is("alerts.webhook: "
        + message(() -> dev.batchserve.pipelines.monitoring.AlertWebhook.to("ftp://h"))));
    assertThat(jobError("name=Fraud Daily"), is("name: " + message(() -> RunInfo.of("Fraud Daily",
        LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY))));
    // One prefix rule: what RedisSink takes, the job file takes, '/' included.
    JobConfig slash = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml", List.of("sinks[1].prefix=fraud/v2"));
    assertThat(slash.toOptions(null).getRedisPrefix(),
        is(dev.batchserve.transforms.redis.RedisSink.checkKeyPrefix("fraud/v2")));
  }

  private static String jobError(String override) {
    List<String> errors = assertThrows(JobConfig.InvalidConfig.class,
        () -> JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml", List.of(override))).errors();
    assertThat(errors.toString(), errors.size(), is(1));
    return errors.get(0);
  }

  private static String message(org.junit.function.ThrowingRunnable check) {
    return assertThrows(IllegalArgumentException.class, check).getMessage();
  }

  @Test
  public void aJobWithoutFilesSinkOrWithTwoSinksOfOneTypeFailsNamingTheSink() {
    JobConfig twoFiles = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("sinks[1]={type: files, root: other}"));
    assertThat(assertThrows(UnsupportedOperationException.class, () -> twoFiles.toOptions(null)).getMessage(), is(
        "job 'fraud' uses what BatchScoringPipeline cannot run yet: sinks[1]: BatchScoringPipeline writes"
            + " one files sink, this is the second"));
    JobConfig noFiles = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("sinks[0]={type: bigquery, table: 'my-project:d.t'}"));
    assertThat(assertThrows(UnsupportedOperationException.class, () -> noFiles.toOptions(null)).getMessage(), is(
        "job 'fraud' uses what BatchScoringPipeline cannot run yet: sinks: BatchScoringPipeline needs a files"
            + " sink (the run's report and manifest live there)"));
  }

  @Test
  public void aJdbcViewAndABigQuerySinkBecomeTheJobsStoreOptions() {
    JobConfig job = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml", List.of(
        "sinks[2]={type: jdbc, url: 'jdbc:postgresql://db/scores', table: fraud_scores, view: fraud_risk,"
            + " viewColumns: {account_id: key, risk_score: score, score_date: run_date, model_version: model_version}}",
        "sinks[3]={type: bigquery, table: 'my-project:serving.fraud', tempLocation: 'gs://bucket/tmp'}"));
    assertThat(SetOptions.of(job, null), org.hamcrest.Matchers.hasItems("--jdbcView=fraud_risk",
        "--jdbcViewColumns=account_id=key,risk_score=score,score_date=run_date,model_version=model_version",
        "--bigQueryTable=my-project:serving.fraud", "--bigQueryTempLocation=gs://bucket/tmp"));
    dev.batchserve.pipelines.BatchScoringOptions o = job.toOptions(null);
    assertThat(o.getBigQueryTable(), is("my-project:serving.fraud"));
    assertThat(o.getJdbcViewColumns(),
        is(Map.of("account_id", "key", "risk_score", "score", "score_date", "run_date", "model_version", "model_version")));
  }

  @Test
  public void redisAndJdbcSinksBecomeTheJobsStoreOptions() {
    JobConfig job = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("sinks[2]={type: jdbc, url: 'jdbc:postgresql://db:5432/scores', table: fraud_scores}"));
    List<String> args = SetOptions.of(job, null);
    assertThat(args, org.hamcrest.Matchers.hasItems("--output=out/fraud", "--redisHost=localhost",
        "--redisPort=6379", "--redisPrefix=fraud", "--redisTtl=PT36H",
        "--jdbcUrl=jdbc:postgresql://db:5432/scores", "--jdbcTable=fraud_scores"));
    // The job's options hold them.
    dev.batchserve.pipelines.BatchScoringOptions o = job.toOptions(null);
    assertThat(o.getRedisTtl(), is(java.time.Duration.ofHours(36)));
    assertThat(o.getJdbcTable(), is("fraud_scores"));
    JobConfig twoRedis = JobConfig.parse(JobConfigValidationTest.VALID, false, "job.yaml",
        List.of("sinks[2]={type: redis, host: other}"));
    assertThat(assertThrows(UnsupportedOperationException.class, () -> twoRedis.toOptions(null)).getMessage(),
        containsString("sinks[2]: BatchScoringPipeline writes one redis sink, this is the second"));
  }

  @Test
  public void jobFilesAreReadFromRelativePathsAndJsonFiles() throws Exception {
    JobConfig fromClasspath = JobConfig.read("classpath:jobs/fraud-daily.yaml", List.of());
    // Surefire runs in the module directory: a relative path goes through Beam's local file system.
    JobConfig fromFile = JobConfig.read("src/main/resources/jobs/fraud-daily.yaml", List.of());
    assertThat(fromFile.toJson(), is(fromClasspath.toJson()));
    Path json = TMP.getRoot().toPath().resolve("job.json");
    Files.writeString(json, fromClasspath.toJson());
    assertThat(JobConfig.read(json.toString(), List.of()).toJson(), is(fromClasspath.toJson()));
    Files.writeString(json, "{\"name\": \"x\",}");
    assertThat(assertThrows(JobConfig.InvalidConfig.class, () -> JobConfig.read(json.toString(), List.of()))
        .getMessage(), containsString("invalid job config " + json + ": not valid JSON"));
  }

  @Test
  public void durations() {
    assertThat(JobConfig.parseDuration("36h"), is(Duration.ofHours(36)));
    assertThat(JobConfig.parseDuration("90s"), is(Duration.ofSeconds(90)));
    assertThat(JobConfig.parseDuration("500ms"), is(Duration.ofMillis(500)));
    assertThat(JobConfig.parseDuration("2d"), is(Duration.ofDays(2)));
    assertThat(JobConfig.parseDuration("PT1H30M"), is(Duration.ofMinutes(90)));
  }

  @Test
  public void theYamlJobWaitsForItsMarkerThenScoresEverySampleAccount() throws Exception {
    Path upstream = TMP.getRoot().toPath().resolve("upstream/dt=2026-11-28");
    String out = TMP.getRoot() + "/predictions";
    Thread upstreamJob = new Thread(() -> {
      try {
        Thread.sleep(500);
        Files.createDirectories(upstream);
        Files.writeString(upstream.resolve(UpstreamMarker.SUCCESS), "");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    upstreamJob.start();
    RunSummary s = ConfigJob.run(new String[] {
        "--config=classpath:jobs/fraud-daily.yaml", "--runDate=2026-11-28", "--runner=DirectRunner",
        "--set", "source.path=" + parquet, "--set", "model=" + modelDir,
        "--set", "sinks[0].root=" + out, "--set=sinks[0].numShards=2",
        "--set", "schedule.waitForMarker=" + TMP.getRoot() + "/upstream/dt={run_date}",
        "--set", "schedule.markerTimeout=60s", "--set", "schedule.markerPoll=100ms"});
    upstreamJob.join();
    assertThat(s.runId, is("fraud-daily-20261128"));
    assertThat(s.recordsRead, is((long) ACCOUNTS));
    assertThat(s.predictions, is((long) ACCOUNTS));
    assertThat(s.fallbacks, is(0L));
    assertThat(s.deadLetters, is(0L));
    Path runDir = Path.of(s.runDirectory); // the published attempt of run_date=2026-11-28/run_id=...
    assertThat(s.runDirectory, containsString("run_date=2026-11-28/run_id=fraud-daily-20261128/attempt="));
    assertTrue(Files.exists(runDir.resolve("_SUCCESS")));
    Map<String, Double> scores = new HashMap<>();
    ObjectMapper json = new ObjectMapper();
    try (Stream<Path> files = Files.list(runDir.resolve("jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = json.readTree(line);
          assertThat(n.get("run_id").asText(), is("fraud-daily-20261128"));
          scores.put(n.get("key").asText(), n.get("score").asDouble());
        }
      }
    }
    assertThat(scores.keySet(), is(reference.keySet()));
    for (Map.Entry<String, Float> e : reference.entrySet()) {
      assertThat(e.getKey(), scores.get(e.getKey()), closeTo(e.getValue(), 1e-5));
    }
  }

  @Test
  public void optionsAfterTheJobFileWinWithOneValueEach() {
    JobConfig job = JobConfig.read("classpath:jobs/fraud-daily.yaml", List.of());
    RunInfo run = job.runInfo(LocalDate.parse("2026-11-28"), 0);
    List<String> commandLine = List.of("--batchSize=512", "--maxPsi=off", "--formats=jsonl", "--fallback=abstain",
        "--forceLatest", "--runner=DirectRunner");
    dev.batchserve.pipelines.BatchScoringOptions o = ConfigJob.options(job, run, commandLine);
    // The job sets none of the options the command line gives.
    List<String> set = job.applyTo(dev.batchserve.pipelines.BatchScoringPipeline.options(commandLine.toArray(new String[0])),
        run, java.util.Set.of("batchSize", "maxPsi", "formats", "fallback", "forceLatest", "runner"));
    assertThat(set.stream().filter(List.of("batchSize", "maxPsi", "formats", "fallback")::contains)
        .collect(Collectors.toList()), is(List.of()));
    assertThat(o.getBatchSize(), is(512));
    assertThat(o.getMaxPsi(), is(Double.POSITIVE_INFINITY));
    assertThat(o.getFormats(), is(List.of(dev.batchserve.transforms.sink.FileFormat.JSONL)));
    assertThat(o.getFallback(), is(dev.batchserve.transforms.keys.Fallback.abstain()));
    assertThat(o.getForceLatest(), is(true));
    // The file's values of options not given stay.
    assertThat(o.getMaxDeadLetterRate(), is(0.05));
    assertThat(o.getNumShards(), is(4));
    assertThat(o.getPipelineName(), is("fraud"));
  }

  @Test
  public void offTurnsAThresholdOffInTheFileAndOnTheCommandLine() {
    JobConfig job = JobConfig.read("classpath:jobs/fraud-daily.yaml", List.of(
        "alerts.thresholds={maxPsi: off, maxJsDivergence: Infinity, minRecords: 'off', maxRecordDrop: off}"));
    List<String> args = SetOptions.of(job, null);
    assertThat(args, org.hamcrest.Matchers.hasItems("--maxPsi=Infinity", "--maxJsDivergence=Infinity",
        "--minRecords=0", "--maxRecordDrop=Infinity"));
    JobConfig inf = JobConfig.parse(String.join("\n", "name: fraud", "source: {type: files, path: a.csv}",
        "keyColumns: [id]", "model: m/1", "sinks: [{type: files, root: out}]",
        "alerts:", "  thresholds:", "    maxPsi: .inf", "    maxCategoryShift: +.inf  # YAML infinity", ""), false, "inf.yaml", List.of());
    assertThat(SetOptions.of(inf, null), org.hamcrest.Matchers.hasItems("--maxPsi=Infinity", "--maxCategoryShift=Infinity"));
    dev.batchserve.pipelines.BatchScoringOptions o = dev.batchserve.pipelines.BatchScoringPipeline.options(
        "--maxCategoryShift=off", "--maxPredictionMeanShift=OFF", "--maxDeadLetterRate=off", "--minRecords=off");
    assertThat(o.getMaxCategoryShift(), is(Double.POSITIVE_INFINITY));
    assertThat(o.getMaxPredictionMeanShift(), is(Double.POSITIVE_INFINITY));
    assertThat(o.getMinRecords(), is(0L));
    assertThat(dev.batchserve.pipelines.BatchScoringPipeline.thresholds(o).maxDeadLetterRate(),
        is(Double.POSITIVE_INFINITY));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> dev.batchserve.pipelines.BatchScoringPipeline.options("--maxPsi=none")).getMessage(),
        is("maxPsi must be a number or off, but was 'none'"));
  }

  /** The sample with every amount ten times larger: the amount features drift far past any limit. */
  private static Path shiftedCsv() {
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    for (Map<String, Object> row : rows) {
      for (String amount : List.of("amount_mean_30d", "amount_max_30d", "amount_std_30d")) {
        if (row.get(amount) != null) {
          row.put(amount, ((Double) row.get(amount)) * 10);
        }
      }
    }
    Path csv = TMP.getRoot().toPath().resolve("shifted/accounts.csv");
    FraudSample.writeCsv(rows, csv);
    return csv;
  }

  @Test
  public void maxPsiOffLetsADriftedRunPublishWhileTheOtherThresholdsStillApply() throws Exception {
    Path shifted = shiftedCsv();
    String out = TMP.getRoot() + "/drifted";
    // maxPsi off in the file: the JS divergence of the same drift still trips the breaker.
    Exception tripped = assertThrows(Exception.class, () -> ConfigJob.run(new String[] {
        "--config=classpath:jobs/fraud-daily.yaml", "--runDate=2026-11-28", "--runner=DirectRunner",
        "--set", "source={type: files, path: '" + shifted + "'}", "--set", "model=" + modelDir,
        "--set", "sinks[0].root=" + out, "--set", "alerts.thresholds.maxPsi=off"}));
    String why = org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Throwables
        .getStackTraceAsString(tripped);
    assertThat(why, containsString("circuit breaker tripped"));
    assertThat(why, containsString("maxJsDivergence: feature amount_"));
    assertThat(why, org.hamcrest.Matchers.not(containsString("maxPsi:")));
    assertTrue(!Files.exists(Path.of(out, "_LATEST")));
    // JS divergence off too, on the command line: the run publishes.
    RunSummary s = ConfigJob.run(new String[] {
        "--config=classpath:jobs/fraud-daily.yaml", "--runDate=2026-11-28", "--runner=DirectRunner",
        "--set", "source={type: files, path: '" + shifted + "'}", "--set", "model=" + modelDir,
        "--set", "sinks[0].root=" + out, "--set", "alerts.thresholds.maxPsi=off", "--maxJsDivergence=off"});
    assertThat(s.predictions, is((long) ACCOUNTS));
    assertTrue(Files.exists(Path.of(s.runDirectory, "_SUCCESS")));
    assertTrue(Files.exists(Path.of(out, "_LATEST")));
  }

  @Test
  public void aJsonLinesSourceRunsEndToEnd() throws Exception {
    Path jsonl = TMP.getRoot().toPath().resolve("sample-jsonl/accounts.jsonl");
    Files.createDirectories(jsonl.getParent());
    ObjectMapper json = new ObjectMapper();
    StringBuilder lines = new StringBuilder();
    for (Map<String, Object> row : FraudSample.generate(ACCOUNTS, 42)) {
      lines.append(json.writeValueAsString(row)).append('\n');
    }
    Files.writeString(jsonl, lines.toString());
    String out = TMP.getRoot() + "/from-jsonl";
    RunSummary s = ConfigJob.run(new String[] {
        "--config=classpath:jobs/fraud-daily.yaml", "--runDate=2026-11-28", "--runner=DirectRunner",
        "--set", "source={type: files, path: '" + jsonl + "', format: jsonl}", "--set", "model=" + modelDir,
        "--set", "sinks[0]={type: files, root: '" + out + "', formats: [jsonl], numShards: 1}"});
    assertThat(s.recordsRead, is((long) ACCOUNTS));
    assertThat(s.deadLetters, is(0L));
    Map<String, Double> scores = new HashMap<>();
    try (Stream<Path> files = Files.list(Path.of(s.runDirectory, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = json.readTree(line);
          scores.put(n.get("key").asText(), n.get("score").asDouble());
        }
      }
    }
    assertThat(scores.keySet(), is(reference.keySet()));
    for (Map.Entry<String, Float> e : reference.entrySet()) {
      assertThat(e.getKey(), scores.get(e.getKey()), closeTo(e.getValue(), 1e-5));
    }
  }

  @Test
  public void theJobDoesNotStartWhenTheMarkerNeverAppears() {
    UpstreamMarker.NotReady e = assertThrows(UpstreamMarker.NotReady.class, () -> ConfigJob.run(new String[] {
        "--config=classpath:jobs/fraud-daily.yaml", "--runDate=2026-11-28", "--runner=DirectRunner",
        "--set", "source.path=" + parquet, "--set", "model=" + modelDir,
        "--set", "sinks[0].root=" + TMP.getRoot() + "/never",
        "--set", "schedule={waitForMarker: '" + TMP.getRoot() + "/missing/{yyyymmdd}', markerTimeout: 200ms, markerPoll: 50ms}"}));
    assertThat(e.getMessage(), containsString(TMP.getRoot() + "/missing/20261128/_SUCCESS"));
    assertTrue(!Files.exists(Path.of(TMP.getRoot() + "/never")));
  }
}
