package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.testing.MariaDbServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The batch-scoring job with MySQL (a real MariaDB server, through MySQL's driver and a
 * {@code jdbc:mysql:} URL, as for MySQL or Aurora MySQL) as its source and as its serving store.
 */
public class MySqlPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final MariaDbServer DB = new MariaDbServer();
  private static final int ACCOUNTS = 200;
  private static Path model;
  private static Path input;

  @BeforeClass
  public static void setUp() throws Exception {
    model = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(model, 2000, 7, "1");
    input = TMP.getRoot().toPath().resolve("accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), input);
    try (Connection c = DB.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE accounts (account_id VARCHAR(32) PRIMARY KEY, txn_count_1d BIGINT, txn_count_7d BIGINT,"
          + " txn_count_30d BIGINT, amount_mean_30d DOUBLE, amount_max_30d DOUBLE, amount_std_30d DOUBLE,"
          + " distinct_countries_30d BIGINT, distinct_merchants_30d BIGINT, home_country VARCHAR(8),"
          + " geo_change BOOLEAN, account_age_days BIGINT, is_fraud BIGINT)");
      try (PreparedStatement ins = c.prepareStatement(
          "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (Map<String, Object> row : FraudSample.generate(ACCOUNTS, 42)) {
          int i = 1;
          for (String col : FraudSample.COLUMNS) {
            ins.setObject(i++, row.get(col));
          }
          ins.addBatch();
        }
        ins.executeBatch();
      }
      // The database gives the values back exactly, with the same Java types.
      Map<String, Object> r100 = FraudSample.generate(ACCOUNTS, 42).get(100);
      try (ResultSet r = st.executeQuery("SELECT * FROM accounts WHERE account_id = 'acct-000100'")) {
        r.next();
        for (String col : FraudSample.COLUMNS) {
          assertThat(col, r.getObject(col), is(r100.get(col)));
        }
      }
    }
  }

  private static BatchScoringOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(BatchScoringOptions.class);
  }

  @Test
  public void aMySqlSourceScoresExactlyLikeTheSameRowsFromCsv() throws Exception {
    String[] common = {"--runner=DirectRunner", "--model=" + model, "--runDate=2026-11-28", "--numShards=1"};
    BatchScoringOptions fromDb = options(common);
    fromDb.setInput(DB.jdbcUrl());
    fromDb.setInputQuery("SELECT * FROM accounts");
    fromDb.setInputUser(DB.user());
    fromDb.setOutput(TMP.getRoot() + "/from-db");
    BatchScoringOptions fromCsv = options(common);
    fromCsv.setInput(input.toString());
    fromCsv.setOutput(TMP.getRoot() + "/from-csv");

    RunSummary db = BatchScoringPipeline.run(fromDb);
    assertThat(db.predictions, is((long) ACCOUNTS));
    assertThat(PublishedFiles.jsonLines(db.runDirectory),
        is(PublishedFiles.jsonLines(BatchScoringPipeline.run(fromCsv).runDirectory)));
  }

  @Test
  public void theRunIsServedFromAMySqlTableAndViewWithTheFilesScores() throws Exception {
    RunSummary s = BatchScoringPipeline.run(options("--runner=DirectRunner", "--input=" + input,
        "--model=" + model, "--output=" + TMP.getRoot() + "/out", "--runDate=2026-11-28", "--numShards=1",
        "--jdbcUrl=" + DB.jdbcUrl(), "--jdbcUser=" + DB.user(), "--jdbcTable=fraud_scores",
        "--jdbcView=fraud_risk", "--jdbcViewColumns=account_id=key,risk_score=score,score_date=run_date"));
    assertThat(s.predictions, is((long) ACCOUNTS));
    Map<String, JsonNode> files = PublishedFiles.jsonLines(s.runDirectory);

    try (Connection c = DB.connect(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT account_id, risk_score, score_date FROM fraud_risk")) {
      int rows = 0;
      while (r.next()) {
        rows++;
        String key = r.getString("account_id");
        assertThat(key, r.getDouble("risk_score"), closeTo(files.get(key).get("score").asDouble(), 1e-6));
        assertThat(r.getObject("score_date", java.time.LocalDate.class), is(java.time.LocalDate.of(2026, 11, 28)));
      }
      assertThat(rows, is(ACCOUNTS));
    }
  }
}
