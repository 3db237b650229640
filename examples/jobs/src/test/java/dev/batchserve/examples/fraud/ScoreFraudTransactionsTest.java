package dev.batchserve.examples.fraud;

import dev.batchserve.pipelines.fraud.AggregateAccountActivity;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.testing.PostgresServer;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.Row;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Raw transactions -> 30-day features -> the existing demo model, end to end. */
public class ScoreFraudTransactionsTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final PostgresServer PG = new PostgresServer();
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  private static final int ACCOUNTS = 80;
  private static Path modelDir;
  private static dev.batchserve.tools.training.TrainingSet.Trained trained;

  @BeforeClass
  public static void train() {
    modelDir = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    trained = TrainFraudModel.train(modelDir, 3000, 7, "1");
  }

  private static Map<String, JsonNode> published(String runDir) throws Exception {
    return dev.batchserve.pipelines.PublishedFiles.jsonLines(runDir);
  }

  @Test
  public void everyAccountIsServedFromPostgresWithTheFraudColumnsAndFromRedis() throws Exception {
    ScoreFraudTransactions.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner",
        "--accounts=" + ACCOUNTS, "--seed=42", "--model=" + modelDir, "--fraudTxOutput=" + TMP.getRoot() + "/stores",
        "--runDate=2026-11-28", "--numShards=2",
        "--jdbcUrl=" + PG.jdbcUrl(), "--jdbcUser=" + PG.user(), "--jdbcTable=fraud_scores",
        "--redisHost=" + REDIS.host(), "--redisPort=" + REDIS.port()).as(ScoreFraudTransactions.Options.class);
    Pipeline p = Pipeline.create(o);
    String runDir = ScoreFraudTransactions.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
    Map<String, JsonNode> files = published(runDir);
    assertThat(files.size(), is(ACCOUNTS));

    // PostgreSQL: the view the fraud rules read, with exactly the columns they expect.
    Map<String, String> fromView = new java.util.TreeMap<>();
    try (java.sql.Connection c = PG.connect(); java.sql.Statement st = c.createStatement();
        java.sql.ResultSet r = st.executeQuery("SELECT * FROM fraud_risk")) {
      java.sql.ResultSetMetaData md = r.getMetaData();
      List<String> columns = new java.util.ArrayList<>();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        columns.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
      }
      assertThat(columns, is(List.of("account_id:text", "risk_score:float8", "score_date:date", "model_version:text")));
      while (r.next()) {
        fromView.put(r.getString("account_id"), (float) r.getDouble("risk_score") + " " + r.getObject("score_date",
            java.time.LocalDate.class) + " " + r.getString("model_version"));
      }
    }
    Map<String, String> expected = new java.util.TreeMap<>();
    files.forEach((k, n) -> {
      expected.put(k, (float) n.get("score").asDouble() + " 2026-11-28 " + n.get("model_version").asText());
      if (n.get("fallback_reason").isNull()) {
        assertThat(k, n.get("model_version").asText(), is("1"));
      }
    });
    assertThat(fromView, is(expected));

    // Redis: the run is the served one under the prefix "fraud", every account with the file's score.
    try (redis.clients.jedis.Jedis j = REDIS.client()) {
      String served = j.get(dev.batchserve.transforms.redis.RedisSink.currentKey("fraud"));
      assertThat(dev.batchserve.transforms.redis.RedisSink.runIdOf(served), is("fraud-tx-daily-20261128"));
      ObjectMapper json = new ObjectMapper();
      for (Map.Entry<String, JsonNode> e : files.entrySet()) {
        String value = j.get(dev.batchserve.transforms.redis.RedisSink.valueKey("fraud", served, e.getKey()));
        assertThat(e.getKey(), json.readTree(value).get("score").asDouble(), is(e.getValue().get("score").asDouble()));
      }
    }
  }

  @Test
  public void everyAccountIsScoredByTheDemoModelAsComputedOutsideBeam() throws Exception {
    ScoreFraudTransactions.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner",
        "--accounts=" + ACCOUNTS, "--seed=42", "--model=" + modelDir, "--fraudTxOutput=" + TMP.getRoot() + "/out",
        "--runDate=2026-11-28", "--numShards=2").as(ScoreFraudTransactions.Options.class);
    RunInfo run = ScoreFraudTransactions.runInfo(o);
    Pipeline p = Pipeline.create(o);
    String runDir = ScoreFraudTransactions.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));

    // The reference: the same aggregation in plain Java, the saved spec, the MLP's forward pass.
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    long end = run.windowEnd().toEpochMilli();
    Map<String, Float> expected = new HashMap<>();
    for (int i = 0; i < ACCOUNTS; i++) {
      List<Row> inWindow = new java.util.ArrayList<>();
      FraudTransactions.forAccount(i, 42, run, t -> {
        long ts = t.getDateTime("ts").getMillis();
        if (ts < end && ts >= end - 30L * 86_400_000L) {
          inWindow.add(Row.withSchema(AggregateAccountActivity.TXN).addValues(ts, t.getDouble("amount"),
              t.getString("country"), t.getString("merchant")).build());
        }
      });
      if (inWindow.isEmpty()) {
        continue;
      }
      Row features = AggregateAccountActivity.aggregate(FraudSample.accountId(i), inWindow,
          FraudTransactions.account(i, 42, run).getDateTime("opened").getMillis(), end);
      Map<String, Object> raw = new LinkedHashMap<>();
      features.getSchema().getFieldNames().forEach(f -> raw.put(f, features.getValue(f)));
      expected.put(FraudSample.accountId(i), trained.weights.predict(spec.transform(raw).vector())[0]);
    }

    Map<String, JsonNode> byKey = published(runDir);
    assertThat(byKey.size(), is(ACCOUNTS)); // every account of the accounts table, exactly once
    assertTrue(Files.exists(Path.of(runDir, "_SUCCESS")));
    int fallbacks = 0;
    for (Map.Entry<String, JsonNode> e : byKey.entrySet()) {
      JsonNode n = e.getValue();
      assertThat(n.get("run_id").asText(), is("fraud-tx-daily-20261128"));
      if (expected.containsKey(e.getKey())) {
        assertThat(e.getKey(), n.get("score").asDouble(), closeTo(expected.get(e.getKey()), 1e-5));
        assertThat(n.get("model_name").asText(), is("fraud-mlp"));
      } else {
        fallbacks++;
        assertThat(n.get("fallback_reason").asText(), is("cold_start"));
      }
    }
    assertThat(byKey.size() - fallbacks, is(expected.size()));
    Path deadDir = Path.of(runDir, "dead_letters");
    String deadLetters = "";
    if (Files.exists(deadDir)) {
      try (Stream<Path> files = Files.list(deadDir)) {
        for (Path f : files.collect(Collectors.toList())) {
          deadLetters += Files.readString(f);
        }
      }
    }
    assertThat(deadLetters, is(""));
  }
}
