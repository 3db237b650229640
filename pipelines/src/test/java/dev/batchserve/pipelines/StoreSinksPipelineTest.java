package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.testing.PostgresServer;
import dev.batchserve.transforms.testing.RedisServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import redis.clients.jedis.Jedis;

/**
 * The batch-scoring job with its store sinks on: the same run lands in the files, in a real Redis
 * (served through {@code <prefix>:current}, with a TTL of 1.5 x the interval) and in a real PostgreSQL
 * table, with the same scores.
 */
public class StoreSinksPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @ClassRule public static final PostgresServer PG = new PostgresServer();
  private static final int ACCOUNTS = 200;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path model;
  private static Path input;

  @BeforeClass
  public static void setUp() {
    model = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(model, 2000, 7, "1");
    input = TMP.getRoot().toPath().resolve("accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), input);
  }

  private static Map<String, JsonNode> jsonl(String runDir) throws Exception {
    Map<String, JsonNode> out = new HashMap<>();
    for (String line : java.nio.file.Files.readAllLines(Path.of(runDir, "jsonl/part-00000-of-00001.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      out.put(n.get("key").asText(), n);
    }
    return out;
  }

  @Test
  public void aJdbcSourceScoresExactlyLikeTheSameRowsFromCsv() throws Exception {
    try (Connection c = PG.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE accounts (account_id text PRIMARY KEY, txn_count_1d bigint, txn_count_7d bigint,"
          + " txn_count_30d bigint, amount_mean_30d double precision, amount_max_30d double precision,"
          + " amount_std_30d double precision, distinct_countries_30d bigint, distinct_merchants_30d bigint,"
          + " home_country text, geo_change boolean, account_age_days bigint, is_fraud bigint)");
      try (java.sql.PreparedStatement ins = c.prepareStatement(
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
      // The database gives the values back exactly.
      Map<String, Object> r100 = FraudSample.generate(ACCOUNTS, 42).get(100);
      try (ResultSet r = st.executeQuery("SELECT * FROM accounts WHERE account_id = 'acct-000100'")) {
        r.next();
        for (String col : FraudSample.COLUMNS) {
          assertThat(col, r.getObject(col), is(r100.get(col)));
        }
      }
    }
    String[] common = {"--runner=DirectRunner", "--model=" + model, "--runDate=2026-11-28", "--numShards=1"};
    BatchScoringOptions fromDb = PipelineOptionsFactory.fromArgs(common).as(BatchScoringOptions.class);
    fromDb.setInput(PG.jdbcUrl());
    fromDb.setInputQuery("SELECT * FROM accounts");
    fromDb.setInputUser(PG.user());
    fromDb.setOutput(TMP.getRoot() + "/from-db");
    BatchScoringOptions fromCsv = PipelineOptionsFactory.fromArgs(common).as(BatchScoringOptions.class);
    fromCsv.setInput(input.toString());
    fromCsv.setOutput(TMP.getRoot() + "/from-csv");

    RunSummary db = BatchScoringPipeline.run(fromDb);
    assertThat(db.predictions, is((long) ACCOUNTS));
    assertThat(jsonl(db.runDirectory), is(jsonl(BatchScoringPipeline.run(fromCsv).runDirectory)));
  }

  @Test
  public void oneRunIsServedFromFilesRedisAndPostgresWithTheSameScores() throws Exception {
    BatchScoringOptions o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--input=" + input,
        "--model=" + model, "--output=" + TMP.getRoot() + "/out", "--runDate=2026-11-28", "--numShards=1",
        "--redisHost=" + REDIS.host(), "--redisPort=" + REDIS.port(), "--redisPrefix=fraud",
        "--jdbcUrl=" + PG.jdbcUrl(), "--jdbcUser=" + PG.user(), "--jdbcTable=fraud_scores")
        .as(BatchScoringOptions.class);
    RunSummary s = BatchScoringPipeline.run(o);
    assertThat(s.predictions, is((long) ACCOUNTS));

    Map<String, Double> files = new HashMap<>();
    for (String line : java.nio.file.Files.readAllLines(Path.of(s.runDirectory, "jsonl/part-00000-of-00001.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      files.put(n.get("key").asText(), n.get("score").asDouble());
    }
    assertThat(files.size(), is(ACCOUNTS));

    try (Jedis j = REDIS.client()) {
      String served = j.get(RedisSink.currentKey("fraud"));
      assertThat(RedisSink.runIdOf(served), is("fraud-daily-20261128"));
      for (String key : List.of(FraudSample.accountId(0), FraudSample.accountId(77), FraudSample.accountId(199))) {
        String value = j.get(RedisSink.valueKey("fraud", served, key));
        JsonNode n = JSON.readTree(value);
        assertThat(key, n.get("score").asDouble(), closeTo(files.get(key), 1e-9));
        long ttl = j.ttl(RedisSink.valueKey("fraud", served, key));
        assertThat(ttl, lessThanOrEqualTo(36L * 3600));
        assertThat(ttl, greaterThan(35L * 3600));
      }
    }

    try (Connection c = PG.connect(); Statement st = c.createStatement();
        ResultSet r = st.executeQuery("SELECT key, score, run_id FROM fraud_scores")) {
      int rows = 0;
      while (r.next()) {
        rows++;
        assertThat(r.getString("run_id"), is("fraud-daily-20261128"));
        assertThat(r.getString("key"), r.getDouble("score"), closeTo(files.get(r.getString("key")), 1e-6));
      }
      assertThat(rows, is(ACCOUNTS));
    }
  }

  private static BatchScoringOptions job(Path in, Path out, String date, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("--runner=DirectRunner", "--input=" + in, "--model=" + model,
        "--output=" + out, "--runDate=" + date, "--numShards=1", "--formats=jsonl"));
    args.addAll(List.of(more));
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  /** What the lookup client resolves for every account: its prediction as JSON, and the run it came from. */
  private static Map<String, String> resolved(String prefix) {
    Map<String, String> out = new HashMap<>();
    try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix(prefix).build()) {
      for (int i = 0; i < ACCOUNTS; i++) {
        String key = FraudSample.accountId(i);
        Lookup l = store.get(key);
        out.put(key, l.servedRunId().orElse("-") + " " + l.prediction().map(p -> p.toJson(key)).orElse("-"));
      }
    }
    return out;
  }

  /**
   * Issue 15, item 1: the served run id re-run on the same accounts with two amount features x10
   * trips the circuit breaker, and Redis serves every account exactly as before, value for value.
   */
  @Test
  public void aReRunOfTheServedRunThatTripsTheBreakerLeavesEveryRedisValueAsServed() throws Exception {
    String redis = "--redisHost=" + REDIS.host();
    String port = "--redisPort=" + REDIS.port();
    String prefix = "--redisPrefix=fraud-rerun";
    // The breaker compares a run with the one before it: 2026-11-27 in the root the re-run uses.
    Path judged = TMP.newFolder("rerun-judged").toPath();
    BatchScoringPipeline.run(job(input, judged, "2026-11-27"));
    // 2026-11-28 published, to Redis too.
    BatchScoringPipeline.run(job(input, TMP.newFolder("rerun-served").toPath(), "2026-11-28", redis, port, prefix));
    Map<String, String> served = resolved("fraud-rerun");
    for (String v : served.values()) {
      assertThat(v, v.startsWith("fraud-daily-20261128 {"), is(true));
    }

    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    for (Map<String, Object> row : rows) {
      for (String amount : List.of("amount_mean_30d", "amount_max_30d")) {
        if (row.get(amount) != null) {
          row.put(amount, ((Double) row.get(amount)) * 10);
        }
      }
    }
    Path shifted = TMP.getRoot().toPath().resolve("rerun-shifted/accounts.csv");
    FraudSample.writeCsv(rows, shifted);
    RuntimeException e = org.junit.Assert.assertThrows(RuntimeException.class,
        () -> BatchScoringPipeline.run(job(shifted, judged, "2026-11-28", redis, port, prefix)));
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      messages.append(t.getMessage()).append('\n');
    }
    assertThat(messages.toString(), org.hamcrest.Matchers.containsString("circuit breaker tripped for run fraud-daily-20261128"));
    dev.batchserve.transforms.sink.StoreTestData.awaitQuiet();

    Map<String, String> after = resolved("fraud-rerun");
    List<String> changed = new java.util.ArrayList<>();
    for (Map.Entry<String, String> account : served.entrySet()) {
      if (!account.getValue().equals(after.get(account.getKey()))) {
        changed.add(account.getKey() + " now resolves to " + after.get(account.getKey()));
      }
    }
    assertThat(changed.size() + " of " + ACCOUNTS + " accounts changed, e.g. " + changed.stream().findFirst().orElse("-"),
        changed.size(), is(0));
  }
}
