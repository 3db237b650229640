package dev.batchserve.pipelines.config;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.gcp.testing.FakeBigQuery;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A job file whose source and one sink are BigQuery, run through the same path as {@code ConfigJob}
 * (job file -> the pipeline's options -> {@code BatchScoringPipeline}) against Beam's BigQuery fakes
 * ({@link FakeBigQuery}): the real {@code BigQueryIO} export read and file-load write, with the
 * BigQuery services faked. The scores equal those of the same rows read from CSV.
 */
public class BigQueryJobTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final int ACCOUNTS = 150;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path model;
  private static Path csv;

  @BeforeClass
  public static void setUp() {
    model = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(model, 2000, 7, "1");
    csv = TMP.getRoot().toPath().resolve("accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), csv);
  }

  /** The sample accounts as a BigQuery table: integers as INTEGER (Long), decimals FLOAT, flags BOOLEAN. */
  private static void loadAccounts(FakeBigQuery bq) {
    List<Map<String, Object>> sample = FraudSample.generate(ACCOUNTS, 42);
    Map<String, String> types = new LinkedHashMap<>();
    for (String col : FraudSample.COLUMNS) {
      Object v = sample.get(0).get(col);
      types.put(col, v instanceof String ? "STRING" : v instanceof Boolean ? "BOOLEAN"
          : v instanceof Double || v instanceof Float ? "FLOAT" : "INTEGER");
    }
    List<TableRow> rows = new ArrayList<>();
    for (Map<String, Object> r : sample) {
      TableRow row = new TableRow();
      for (String col : FraudSample.COLUMNS) {
        Object v = r.get(col);
        row.set(col, v instanceof Integer ? Long.valueOf((Integer) v) : v);
      }
      rows.add(row);
    }
    bq.table("features", "accounts", types, rows);
  }

  private static Map<String, JsonNode> jsonl(String runDir) throws Exception {
    return dev.batchserve.pipelines.PublishedFiles.jsonLines(runDir);
  }

  @Test
  public void aJobFromBigQueryToBigQueryScoresExactlyLikeTheSameRowsFromCsv() throws Exception {
    FakeBigQuery bq = new FakeBigQuery().dataset("features").dataset("serving");
    loadAccounts(bq);
    Path jobFile = TMP.getRoot().toPath().resolve("fraud-bq.yaml");
    Files.writeString(jobFile, String.join("\n",
        "name: fraud",
        "source: {type: bigquery, table: '" + FakeBigQuery.PROJECT + ":features.accounts'}",
        "keyColumns: account_id",
        "model: " + model,
        "sinks:",
        "  - {type: files, root: '" + TMP.getRoot() + "/from-bq', numShards: 1}",
        "  - {type: bigquery, table: '" + FakeBigQuery.PROJECT + ":serving.fraud_scores'}",
        ""));
    JobConfig job = JobConfig.read(jobFile.toString(), List.of());
    RunInfo run = job.runInfo(LocalDate.parse("2026-11-28"), 0);
    BatchScoringOptions o = ConfigJob.options(job, run, List.of("--runner=DirectRunner"));
    bq.configure(o, TMP.newFolder("bq-temp").getAbsolutePath());
    o.setBigQueryServices(bq.services);
    RunSummary s = BatchScoringPipeline.run(o);
    assertThat(s.predictions, is((long) ACCOUNTS));
    assertThat(s.recordsRead, is((long) ACCOUNTS));

    BatchScoringOptions fromCsv = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--input=" + csv,
        "--model=" + model, "--runDate=2026-11-28", "--numShards=1", "--output=" + TMP.getRoot() + "/from-csv")
        .as(BatchScoringOptions.class);
    Map<String, JsonNode> files = jsonl(s.runDirectory);
    assertThat(files, is(jsonl(BatchScoringPipeline.run(fromCsv).runDirectory)));

    // The BigQuery sink holds the same run: one row per account with the file's score (a float,
    // widened exactly in the table, printed as a float in the JSON lines).
    Map<String, String> table = new TreeMap<>();
    for (TableRow r : bq.rows("serving", "fraud_scores")) {
      table.put((String) r.get("key"), r.get("run_id") + " " + ((Number) r.get("score")).floatValue());
    }
    Map<String, String> expected = new TreeMap<>();
    files.forEach((k, n) -> expected.put(k, "fraud-daily-20261128 " + (float) n.get("score").asDouble()));
    assertThat(table, is(expected));
  }
}
