package dev.batchserve.transforms.gcp;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import com.google.api.services.bigquery.model.Job;
import com.google.api.services.bigquery.model.JobConfigurationLoad;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.transforms.gcp.testing.FakeBigQuery;
import dev.batchserve.transforms.gcp.testing.PartitionReplacingJobService;
import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * {@link BigQuerySink} on the direct runner against Beam's BigQuery fakes ({@link FakeDatasetService},
 * {@link FakeJobService}); {@link PartitionReplacingJobService} adds BigQuery's partition-decorator
 * semantics, which the Beam fake lacks. Rows are read back from the fake dataset service.
 */
@RunWith(JUnit4.class)
public class BigQuerySinkTest {
  private static final String PROJECT = FakeBigQuery.PROJECT;
  private static final String DATASET = "serving";
  private static final String TABLE = "fraud_scores";
  private static final String SPEC = PROJECT + ":" + DATASET + "." + TABLE;

  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private FakeBigQuery bq;
  private FakeDatasetService datasets;
  private FakeJobService jobs;
  private FakeBigQueryServices services;
  private String tempLocation;

  @Before
  public void setUp() throws Exception {
    bq = new FakeBigQuery().dataset(DATASET);
    datasets = bq.datasets;
    jobs = bq.jobs;
    services = bq.services;
    tempLocation = tmp.newFolder("temp").getAbsolutePath();
    configure(p.getOptions());
  }

  private void configure(PipelineOptions options) {
    bq.configure(options, tempLocation);
  }

  private BigQuerySink<String> sink(RunInfo run) {
    return BigQuerySink.<String>to(SPEC).withRunInfo(run).withTestServices(services).withoutValidation();
  }

  private void publish(RunInfo run, int n) {
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    configure(q.getOptions());
    q.apply(create(run, n)).apply(sink(run));
    q.run().waitUntilFinish();
  }

  private List<TableRow> rows() throws Exception {
    return datasets.getAllRows(PROJECT, DATASET, TABLE);
  }

  /** run id -> keys in key order, for every row of the table. */
  private Map<String, List<String>> keysByRun() throws Exception {
    Map<String, List<String>> m = new TreeMap<>();
    for (TableRow r : rows()) {
      m.computeIfAbsent((String) r.get("run_id"), k -> new ArrayList<>()).add((String) r.get("key"));
    }
    m.values().forEach(l -> l.sort(null));
    return m;
  }

  private static List<String> keys(int n) {
    List<String> k = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      k.add(key(i));
    }
    return k;
  }

  private static TableRow row(List<TableRow> rows, String key) {
    return rows.stream().filter(r -> key.equals(r.get("key"))).findFirst().orElseThrow();
  }

  /** Destination table ids of the load jobs into the predictions table the fake received, sorted. */
  private List<String> loadDestinations() {
    List<String> d = new ArrayList<>();
    for (Job j : jobs.getAllJobs()) {
      if (j.getConfiguration().getLoad() != null
          && j.getConfiguration().getLoad().getDestinationTable().getTableId().startsWith(TABLE + "$")) {
        d.add(j.getConfiguration().getLoad().getDestinationTable().getTableId());
      }
    }
    d.sort(null);
    return d;
  }

  /** The latest pointer's rows: "run_id prediction_timestamp partition" each. */
  private List<String> latest() throws Exception {
    List<String> out = new ArrayList<>();
    for (TableRow r : datasets.getAllRows(PROJECT, DATASET, TABLE + BigQuerySink.LATEST_SUFFIX)) {
      out.add(r.get("run_id") + " " + r.get("prediction_timestamp") + " " + r.get("partition"));
    }
    return out;
  }

  private static String pointerTo(RunInfo run) {
    return run.runId() + " " + BigQuerySink.toTableRow("k", prediction(run, 0)).get("prediction_timestamp") + " "
        + BigQuerySink.partition(run);
  }

  @Test
  public void theLatestPointerNamesTheNewestRunAndABackfillLeavesIt() throws Exception {
    RunInfo yesterday = day(27);
    RunInfo today = day(28);
    publish(yesterday, 20);
    assertThat(latest(), equalTo(List.of(pointerTo(yesterday))));
    publish(today, 15);
    assertThat(latest(), equalTo(List.of(pointerTo(today))));

    // The backfill replaces its own partition; readers of the pointer still see today's run.
    Pipeline backfill = Pipeline.create(PipelineOptionsFactory.create());
    configure(backfill.getOptions());
    backfill.apply(create(yesterday, 12)).apply(sink(yesterday));
    org.apache.beam.sdk.PipelineResult result = backfill.run();
    result.waitUntilFinish();
    assertThat(keysByRun(), equalTo(Map.of(yesterday.runId(), keys(12), today.runId(), keys(15))));
    assertThat(latest(), equalTo(List.of(pointerTo(today))));
    long backfilled = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> m : result.metrics().queryMetrics(
        org.apache.beam.sdk.metrics.MetricsFilter.builder().addNameFilter(org.apache.beam.sdk.metrics.MetricNameFilter
            .named(BigQuerySink.METRICS_NAMESPACE, Backfill.RUNS_BACKFILLED)).build()).getCounters()) {
      backfilled += m.getAttempted();
    }
    assertThat(backfilled, equalTo(1L));
  }

  @Test
  public void aForcedBackfillMovesTheLatestPointerBackToIt() throws Exception {
    RunInfo yesterday = day(27);
    RunInfo today = day(28);
    publish(today, 15);
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    configure(q.getOptions());
    q.apply(create(yesterday, 12)).apply(sink(yesterday).withForceLatest(true));
    q.run().waitUntilFinish();
    assertThat(latest(), equalTo(List.of(pointerTo(yesterday))));
    assertThat(keysByRun(), equalTo(Map.of(yesterday.runId(), keys(12), today.runId(), keys(15))));
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneIsABackfill() throws Exception {
    RunInfo yesterday = day(27);
    RunInfo today = day(28);
    Pipeline older = Pipeline.create(PipelineOptionsFactory.create());
    configure(older.getOptions());
    older.apply(create(yesterday, 12)).apply(sink(yesterday).publishAfter(StoreTestData.HeldGate.in(older, "bq-27")));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    publish(today, 15);
    StoreTestData.HeldGate.open("bq-27");
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);
    assertThat(latest(), equalTo(List.of(pointerTo(today))));
    assertThat(keysByRun(), equalTo(Map.of(yesterday.runId(), keys(12), today.runId(), keys(15))));
  }

  private static List<String> field(String name, String type, String mode) {
    return List.of(name, type, mode);
  }

  @Test
  public void writesEveryColumnWithTheDocumentedSchemaIntoTheRunsPartition() throws Exception {
    RunInfo run = day(28);
    PCollection<String> published = p.apply(create(run, 25)).apply(sink(run)).published();
    PAssert.that(published).containsInAnyOrder(run.runId());
    p.run().waitUntilFinish();

    com.google.api.services.bigquery.model.Table table =
        datasets.getTable(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId(TABLE));
    List<List<String>> schema = new ArrayList<>();
    for (TableFieldSchema f : table.getSchema().getFields()) {
      schema.add(field(f.getName(), f.getType(), f.getMode()));
    }
    assertThat(schema, equalTo(List.of(
        field("key", "STRING", "REQUIRED"),
        field("score", "FLOAT64", "NULLABLE"),
        field("scores", "FLOAT64", "REPEATED"),
        field("items", "STRING", "REPEATED"),
        field("label", "STRING", "NULLABLE"),
        field("confidence", "FLOAT64", "NULLABLE"),
        field("model_name", "STRING", "REQUIRED"),
        field("model_version", "STRING", "REQUIRED"),
        field("prediction_timestamp", "TIMESTAMP", "REQUIRED"),
        field("run_id", "STRING", "REQUIRED"),
        field("fallback_reason", "STRING", "NULLABLE"))));
    assertThat(table.getTimePartitioning().getType(), equalTo("DAY"));
    assertThat(table.getTimePartitioning().getField(), equalTo("prediction_timestamp"));

    // What BigQuery itself receives: one load job into the run's partition, replacing it.
    assertThat(loadDestinations(), equalTo(List.of("fraud_scores$20261129")));
    JobConfigurationLoad load = jobs.getAllJobs().stream().map(j -> j.getConfiguration().getLoad())
        .filter(l -> l != null && l.getDestinationTable().getTableId().startsWith(TABLE + "$")).findFirst().get();
    assertThat(load.getWriteDisposition(), equalTo("WRITE_TRUNCATE"));
    assertThat(load.getCreateDisposition(), equalTo("CREATE_IF_NEEDED"));
    assertThat(load.getTimePartitioning().getType(), equalTo("DAY"));
    assertThat(load.getTimePartitioning().getField(), equalTo("prediction_timestamp"));

    List<TableRow> rows = rows();
    assertThat(keysByRun(), equalTo(Map.of(run.runId(), keys(25))));
    TableRow three = row(rows, "acct-0003");
    Prediction p3 = prediction(run, 3);
    assertThat(three.get("score"), equalTo(p3.getScore()));
    assertThat(three.get("scores"), equalTo(List.of(p3.getScore())));
    assertThat(three.get("items"), equalTo(List.of()));
    assertThat(three.get("label"), equalTo("fraud"));
    assertThat(three.get("confidence"), nullValue());
    assertThat(three.get("model_name"), equalTo("fraud-mlp"));
    assertThat(three.get("model_version"), equalTo("3"));
    assertThat(three.get("prediction_timestamp"), equalTo("2026-11-29 00:00:00.000000 UTC"));
    assertThat(three.get("run_id"), equalTo("fraud-daily-20261128"));
    assertThat(three.get("fallback_reason"), nullValue());
    TableRow four = row(rows, "acct-0004");
    assertThat(four.get("confidence"), equalTo(0.75));
    assertThat(four.get("label"), nullValue());
    assertThat(four.get("fallback_reason"), equalTo("missing_features"));
  }

  @Test
  public void writesPassThroughColumnsAsTheRecordPassThrough() throws Exception {
    RunInfo run = day(28);
    p.apply(StoreTestData.createWithPassThrough(run, 4))
        .apply(sink(run).withPassThroughColumns(StoreTestData.PASS_THROUGH));
    p.run().waitUntilFinish();

    com.google.api.services.bigquery.model.Table table =
        datasets.getTable(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId(TABLE));
    List<TableFieldSchema> fields = table.getSchema().getFields();
    assertThat(fields.size(), equalTo(12));
    TableFieldSchema record = fields.get(11);
    assertThat(field(record.getName(), record.getType(), record.getMode()),
        equalTo(field("pass_through", "RECORD", "NULLABLE")));
    List<List<String>> nested = new ArrayList<>();
    for (TableFieldSchema f : record.getFields()) {
      nested.add(field(f.getName(), f.getType(), f.getMode()));
    }
    assertThat(nested, equalTo(List.of(field("row_id", "STRING", "NULLABLE"), field("label", "STRING", "NULLABLE"))));
    JobConfigurationLoad load = jobs.getAllJobs().stream().map(j -> j.getConfiguration().getLoad())
        .filter(l -> l != null && l.getDestinationTable().getTableId().startsWith(TABLE + "$")).findFirst().get();
    assertThat(load.getSchemaUpdateOptions(), equalTo(List.of("ALLOW_FIELD_ADDITION")));

    List<String> got = new ArrayList<>();
    for (TableRow r : rows()) {
      Map<?, ?> pt = (Map<?, ?>) r.get("pass_through");
      got.add(r.get("key") + " " + r.get("label") + " " + (pt == null ? "none" : pt.get("row_id") + " " + pt.get("label")));
    }
    got.sort(null);
    // acct-0000 is a cold start (an empty record); odd keys have a null label; the prediction's label stays its own.
    assertThat(got, equalTo(List.of("acct-0000 fraud null null", "acct-0001 null r1 null",
        "acct-0002 null r2 L2", "acct-0003 fraud r3 null")));
    TableRow one = (TableRow) BigQuerySink.toTableRow("k", StoreTestData.withPassThrough(run, 1),
        StoreTestData.PASS_THROUGH).get("pass_through");
    assertThat(new ArrayList<>(one.keySet()), equalTo(List.of("row_id"))); // the null label is left out
    assertThat(one.get("row_id"), equalTo("r1"));
  }

  @Test
  public void refusesAPassThroughColumnThatIsNoBigQueryFieldName() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> sink(day(28)).withPassThroughColumns(List.of("row-id"))).getMessage(), equalTo(
            "pass-through column 'row-id' cannot be a BigQuery field name (it must match [A-Za-z_][A-Za-z0-9_]{0,127}):"
                + " drop it from --passThroughColumns (withPassThroughColumns) or rename the input column"));
  }

  @Test
  public void aReRunOfTheSameRunReplacesItsPartitionWithoutDuplicates() throws Exception {
    RunInfo run = day(28);
    publish(run, 20);
    publish(run, 25);

    assertThat(rows().size(), equalTo(25));
    assertThat(keysByRun(), equalTo(Map.of(run.runId(), keys(25))));
    assertThat(loadDestinations(), equalTo(List.of("fraud_scores$20261129", "fraud_scores$20261129")));
  }

  @Test
  public void twoRunsOfDifferentDatesAreBothReadable() throws Exception {
    RunInfo first = day(27);
    RunInfo second = day(28);
    publish(first, 20);
    publish(second, 15);

    assertThat(keysByRun(), equalTo(Map.of(first.runId(), keys(20), second.runId(), keys(15))));
    assertThat(row(rows().stream().filter(r -> first.runId().equals(r.get("run_id"))).toList(), "acct-0001")
        .get("score"), equalTo(prediction(first, 1).getScore()));
    assertThat(loadDestinations(), equalTo(List.of("fraud_scores$20261128", "fraud_scores$20261129")));
  }

  @Test
  public void hourlyRunsEachReplaceTheirOwnHourPartition() throws Exception {
    RunInfo five = RunInfo.hourly("fraud", LocalDate.of(2026, 11, 28), 5);
    RunInfo six = RunInfo.hourly("fraud", LocalDate.of(2026, 11, 28), 6);
    publish(five, 10);
    publish(six, 12);
    publish(five, 8);

    assertThat(keysByRun(), equalTo(Map.of(five.runId(), keys(8), six.runId(), keys(12))));
    assertThat(datasets.getTable(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId(TABLE))
        .getTimePartitioning().getType(), equalTo("HOUR"));
    assertThat(loadDestinations(), equalTo(List.of(
        "fraud_scores$2026112806", "fraud_scores$2026112806", "fraud_scores$2026112807")));
  }

  @Test
  public void aRunWhosePublishSignalFailsWritesNothing() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(previous, 20);

    PCollection<Integer> check =
        p.apply("Check", Create.of(1)).apply(ParDo.of(new CheckFailingOnceLoaded(datasets, run.runId())));
    p.apply(create(run, 20)).apply(sink(run).publishAfter(check));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault"));

    assertThat(keysByRun(), equalTo(Map.of(previous.runId(), keys(20))));
    assertThat(loadDestinations(), equalTo(List.of("fraud_scores$20261128")));
  }

  /**
   * A completeness check that fails, but only once the run's rows are in the table or after 15 s:
   * a sink that did not wait for its signals would have loaded by then, so the test would see them.
   */
  static final class CheckFailingOnceLoaded extends DoFn<Integer, Integer> {
    private final FakeDatasetService datasets;
    private final String runId;

    CheckFailingOnceLoaded(FakeDatasetService datasets, String runId) {
      this.datasets = datasets;
      this.runId = runId;
    }

    @ProcessElement
    public void process() throws Exception {
      TableReference ref = new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId(TABLE);
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
      while (System.nanoTime() < deadline) {
        if (datasets.getTable(ref) != null
            && datasets.getAllRows(PROJECT, DATASET, TABLE).stream().anyMatch(r -> runId.equals(r.get("run_id")))) {
          break;
        }
        Thread.sleep(100);
      }
      throw new IllegalStateException("injected fault: completeness check failed");
    }
  }

  @Test
  public void aFirstRunWhosePublishSignalFailsCreatesNoTable() throws Exception {
    RunInfo run = day(28);
    PCollection<Integer> check = p.apply("Check", Create.of(1)).apply(ParDo.of(new StoreTestData.FailingCheck()));
    p.apply(create(run, 20)).apply(sink(run).publishAfter(check));
    StoreTestData.runExpectingFailure(p);

    assertThat(datasets.getTable(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId(TABLE)),
        nullValue());
    assertThat(loadDestinations(), equalTo(List.of()));
  }

  @Test
  public void aRunThatFailsHalfwayThroughItsInputWritesNothing() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(previous, 20);

    p.apply(create(run, 20)).apply("Fault", ParDo.of(new StoreTestData.FailOnKey(10))).apply(sink(run));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault at acct-0010"));

    assertThat(keysByRun(), equalTo(Map.of(previous.runId(), keys(20))));
  }

  @Test
  public void aPredictionOutsideTheRunsPartitionFailsTheRun() throws Exception {
    RunInfo run = day(28);
    Prediction stray = prediction(run, 1).toBuilder()
        .predictionTimestampMillis(day(27).predictionTimestamp().toEpochMilli())
        .build();
    p.apply(Create.of(KV.of(key(0), prediction(run, 0)), KV.of(key(1), stray))
            .withCoder(org.apache.beam.sdk.coders.KvCoder.of(
                org.apache.beam.sdk.coders.StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
        .apply(sink(run));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString(
        "prediction for key acct-0001 has prediction_timestamp 2026-11-28T00:00:00Z (partition 20261128),"
            + " outside the run's partition 20261129"));
    assertThat(loadDestinations(), equalTo(List.of()));
  }

  /**
   * Why {@link PartitionReplacingJobService} exists: Beam's own fake ignores the partition decorator
   * of a WRITE_TRUNCATE load and appends. If a Beam upgrade fixes that, this fails and the double can go.
   */
  @Test
  public void beamsFakeJobServiceAppendsOnAPartitionDecorator() throws Exception {
    services = new FakeBigQueryServices().withDatasetService(datasets).withJobService(jobs);
    RunInfo run = day(28);
    publish(run, 20);
    publish(run, 20);

    assertThat(rows().size(), equalTo(40));
  }

  @Test
  public void stagesLoadFilesUnderTheCustomGcsTempLocation() throws Exception {
    java.io.File custom = tmp.newFolder("custom");
    RunInfo run = day(28);
    p.apply(create(run, 5)).apply(sink(run).withCustomGcsTempLocation(custom.getAbsolutePath()));
    p.run().waitUntilFinish();

    assertThat(keysByRun(), equalTo(Map.of(run.runId(), keys(5))));
    assertThat(new java.io.File(custom, "BigQueryWriteTemp").isDirectory(), equalTo(true));
    assertThat(new java.io.File(tempLocation, "BigQueryWriteTemp").exists(), equalTo(false));
  }

  @Test
  public void partitionIsThePredictionTimestampsDayOrHour() {
    assertThat(BigQuerySink.partition(day(28)), equalTo("20261129"));
    assertThat(BigQuerySink.partition(RunInfo.hourly("fraud", LocalDate.of(2026, 11, 28), 23)),
        equalTo("2026112900"));
    assertThat(BigQuerySink.partitionTableSpec(SPEC, day(28)),
        equalTo("batchserve-test:serving.fraud_scores$20261129"));
  }

  @Test
  public void rejectsATableSpecWithoutDataset() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BigQuerySink.<String>to("fraud_scores"));
    assertThat(e.getMessage(), equalTo("tableSpec must be [project:]dataset.table, but was 'fraud_scores'"));
  }

  @Test
  public void rejectsATableSpecWithAPartitionDecorator() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BigQuerySink.<String>to("serving.fraud_scores$20261129"));
    assertThat(e.getMessage(), equalTo("tableSpec must name the table without a decorator (the sink picks the"
        + " run's partition), but was 'serving.fraud_scores$20261129'"));
  }

  @Test
  public void rejectsAnEmptyCustomGcsTempLocation() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BigQuerySink.<String>to(SPEC).withCustomGcsTempLocation(""));
    assertThat(e.getMessage(), equalTo("customGcsTempLocation must be set, but was ''"));
  }

  @Test
  public void needsRunInfo() {
    Pipeline q = Pipeline.create();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> q.apply(create(day(28), 1)).apply(BigQuerySink.<String>to(SPEC)));
    assertThat(e.getMessage(), equalTo("BigQuerySink needs withRunInfo(run)"));
  }
}
