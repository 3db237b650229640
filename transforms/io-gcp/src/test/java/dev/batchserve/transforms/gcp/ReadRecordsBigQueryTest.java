package dev.batchserve.transforms.gcp;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import com.google.api.services.bigquery.model.JobStatistics;
import com.google.api.services.bigquery.model.JobStatistics2;
import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.gcp.testing.FakeBigQuery;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.values.DeadLetter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link ReadRecords#bigQueryTable} and {@link ReadRecords#bigQueryQuery} on the direct runner
 * against Beam's BigQuery fakes: the real {@code BigQueryIO} export and query paths, with the
 * dataset and job services faked.
 */
public class ReadRecordsBigQueryTest {
  private static final String PROJECT = FakeBigQuery.PROJECT;
  private static final String DATASET = "features";

  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private FakeBigQuery bq;
  private FakeBigQueryServices services;
  private Table table;

  @Before
  public void setUp() throws Exception {
    bq = new FakeBigQuery().dataset(DATASET);
    bq.configure(p.getOptions(), tmp.newFolder("temp").getAbsolutePath());
    services = bq.services;

    table = new Table()
        .setTableReference(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId("accounts"))
        .setSchema(new TableSchema().setFields(List.of(
            new TableFieldSchema().setName("account_id").setType("STRING").setMode("NULLABLE"),
            new TableFieldSchema().setName("amount").setType("FLOAT").setMode("NULLABLE"),
            new TableFieldSchema().setName("txn_count").setType("INTEGER").setMode("NULLABLE"),
            new TableFieldSchema().setName("tags").setType("STRING").setMode("REPEATED"),
            new TableFieldSchema().setName("unused").setType("STRING").setMode("NULLABLE"))));
    bq.datasets.createTable(table);
    bq.datasets.insertAll(table.getTableReference(), rows(), null);
  }

  private static List<TableRow> rows() {
    return List.of(
        new TableRow().set("account_id", "a1").set("amount", 12.5).set("txn_count", 3L).set("tags", List.of("x", "y"))
            .set("unused", "u"),
        new TableRow().set("account_id", "a2").set("amount", null).set("txn_count", 0L).set("tags", List.of())
            .set("unused", null),
        new TableRow().set("account_id", null).set("amount", 1.0).set("txn_count", 1L).set("tags", List.of())
            .set("unused", null));
  }

  private static void assertRecords(ReadRecords.Result r) {
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    assertThat(s.getFieldNames(), is(List.of("account_id", "amount", "txn_count", "tags", "missing")));
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("a1", Row.withSchema(s).addValues("a1", "12.5", "3", "[\"x\",\"y\"]", null).build()),
        KV.of("a2", Row.withSchema(s).addValues("a2", null, "0", "[]", null).build()));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> reasons = new TreeMap<>();
      for (DeadLetter d : dead) {
        reasons.put(d.getStep() + ":" + d.getReason(), d.getField());
      }
      assertThat(reasons, equalTo(Map.of("read:missing_key", "account_id")));
      return null;
    });
  }

  @Test
  public void aTableGivesTheNamedColumnsAsTextAndRowsWithoutKeyAreDeadLetters() {
    ReadRecords.Result r = p.apply(BigQueryRecords.fromTable("bigquery:" + PROJECT + ":" + DATASET + ".accounts")
        .withBigQueryServices(services)
        .withKeyColumns("account_id")
        .withColumns(List.of("amount", "txn_count", "tags", "missing")));
    assertRecords(r);
    p.run().waitUntilFinish();
  }

  @Test
  public void aQueryGivesTheSameRecords() throws Exception {
    // Beam's fake job service answers a query with the table and rows encoded in the query text.
    String query = FakeBigQueryServices.encodeQueryResult(table, rows());
    bq.jobs.expectDryRunQuery(PROJECT, query, new JobStatistics().setQuery(new JobStatistics2()
        .setTotalBytesProcessed(100L).setReferencedTables(List.of(table.getTableReference()))));
    ReadRecords.Result r = p.apply(BigQueryRecords.fromQuery(query)
        .withBigQueryServices(services)
        .withKeyColumns("account_id")
        .withColumns(List.of("amount", "txn_count", "tags", "missing")));
    assertRecords(r);
    p.run().waitUntilFinish();
  }

  @Test
  public void refusesAMalformedTable() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> BigQueryRecords.fromTable("no_dataset")).getMessage(),
        equalTo("a BigQuery table must be [project:]dataset.table, but was 'no_dataset'"));
    // withBigQueryServices on a CSV source (refused at run time before) no longer compiles: it is BigQueryRecords' own.
  }

  /** Issue 21: BigQuery gives TIMESTAMP as text; declared a key timestamp, it keys as Parquet's and CSV's instants. */
  @Test
  public void aBigQueryTimestampKeysAndReadsAsTheInstant() throws Exception {
    Table events = new Table()
        .setTableReference(new TableReference().setProjectId(PROJECT).setDatasetId(DATASET).setTableId("events"))
        .setSchema(new TableSchema().setFields(List.of(
            new TableFieldSchema().setName("user_id").setType("STRING").setMode("NULLABLE"),
            new TableFieldSchema().setName("ts").setType("TIMESTAMP").setMode("NULLABLE"))));
    bq.datasets.createTable(events);
    // The fake stores what its Avro export writes: epoch microseconds, which BigQueryIO gives back as
    // BigQuery's text, 2024-02-29 23:59:58.123456 UTC.
    bq.datasets.insertAll(events.getTableReference(), List.of(
        new TableRow().set("user_id", "u1").set("ts", 1_709_251_198_123_456L)), null);
    ReadRecords.Result r = p.apply(BigQueryRecords.fromTable(PROJECT + ":" + DATASET + ".events")
        .withBigQueryServices(services)
        .withKeyColumns("user_id", "ts")
        .withKeyTimestamp("ts"));
    dev.batchserve.transforms.features.FeatureSpec spec = dev.batchserve.transforms.features.FeatureSpec.fit(
        dev.batchserve.transforms.features.FeatureSpec.builder().timestamp("ts")
            .dateParts(dev.batchserve.transforms.features.DatePart.HOUR,
                dev.batchserve.transforms.features.DatePart.DAY_OF_MONTH).build(),
        List.of(Map.of("ts", 0L)));
    PAssert.that(r.records()).containsInAnyOrder(KV.of("u1|2024-02-29T23:59:58.123456Z",
        Row.withSchema(r.schema()).addValues("u1", "2024-02-29 23:59:58.123456 UTC").build()));
    PAssert.that(r.records().apply("Keys", org.apache.beam.sdk.transforms.MapElements
            .into(org.apache.beam.sdk.values.TypeDescriptors.strings()).via(KV::getKey)))
        .containsInAnyOrder("u1|2024-02-29T23:59:58.123456Z");
    PAssert.that(r.records().apply(dev.batchserve.transforms.features.FeatureTransform.of(spec)).vectors())
        .containsInAnyOrder(KV.of("u1|2024-02-29T23:59:58.123456Z",
            dev.batchserve.transforms.features.FeatureVector.of(new float[] {23f, 29f})));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }
}
