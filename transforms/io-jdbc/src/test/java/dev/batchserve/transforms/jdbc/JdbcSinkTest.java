package dev.batchserve.transforms.jdbc;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.PostgresServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link JdbcSink} against a real PostgreSQL server. */
@RunWith(JUnit4.class)
public class JdbcSinkTest {
  @ClassRule public static final PostgresServer PG = new PostgresServer();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final String TABLE = "fraud_scores";

  @Before
  public void clean() throws SQLException {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("DROP EVENT TRIGGER IF EXISTS deny_alter");
      s.execute("DROP SCHEMA public CASCADE");
      s.execute("CREATE SCHEMA public");
    }
  }

  private JdbcSink<String> sink(RunInfo run) {
    return JdbcSink.<String>to(PG.jdbcUrl()).withUser(PG.user()).withTable(TABLE).withRunInfo(run);
  }

  private static void publish(JdbcSink<String> sink, RunInfo run, int n) {
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    q.apply(create(run, n)).apply(sink);
    q.run().waitUntilFinish();
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static boolean exists(Connection c, String table) throws SQLException {
    return count(c, "SELECT count(*) FROM pg_class WHERE relname = '" + table + "'") == 1;
  }

  /** The served table holds exactly the run's n predictions, and the run is the served one. */
  private static void assertServes(Connection c, RunInfo run, int n) throws SQLException {
    assertThat(count(c, "SELECT count(*) FROM " + TABLE), equalTo((long) n));
    assertThat(count(c, "SELECT count(*) FROM " + TABLE + " WHERE run_id = '" + run.runId() + "'"), equalTo((long) n));
    List<String> keys = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT key, score FROM " + TABLE + " ORDER BY key")) {
      while (r.next()) {
        keys.add(r.getString(1));
        int i = Integer.parseInt(r.getString(1).substring(5));
        assertThat(r.getDouble(2), equalTo(prediction(run, i).getScore()));
      }
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add(key(i));
    }
    assertThat(keys, equalTo(expected));
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT run_id FROM " + TABLE + "__runs WHERE served")) {
      assertThat(r.next(), equalTo(true));
      assertThat(r.getString(1), equalTo(run.runId()));
      assertThat(r.next(), equalTo(false));
    }
  }

  @Test
  public void writesEveryColumnAndPublishes() throws Exception {
    RunInfo run = day(28);
    PCollection<String> published = p.apply(create(run, 25)).apply(sink(run).withBatchSize(7)).published();
    PAssert.that(published).containsInAnyOrder(run.runId());
    p.run().waitUntilFinish();

    try (Connection c = PG.connect()) {
      assertServes(c, run, 25);
      assertThat(exists(c, "fraud_scores__fraud_daily_20261128"), equalTo(false));
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT key, score, scores, items, label, confidence, model_name, model_version, prediction_timestamp,"
              + " run_id, fallback_reason FROM " + TABLE + " WHERE key IN ('acct-0003', 'acct-0004') ORDER BY key")) {
        r.next();
        Prediction three = prediction(run, 3);
        assertThat(r.getString("key"), equalTo("acct-0003"));
        assertThat(r.getDouble("score"), equalTo(three.getScore()));
        assertThat(Arrays.asList((Float[]) r.getArray("scores").getArray()), equalTo(List.of(three.getScores()[0])));
        assertThat(Arrays.asList((String[]) r.getArray("items").getArray()), equalTo(List.of()));
        assertThat(r.getString("label"), equalTo("fraud"));
        assertThat(r.getObject("confidence"), nullValue());
        assertThat(r.getString("model_name"), equalTo("fraud-mlp"));
        assertThat(r.getString("model_version"), equalTo("3"));
        assertThat(r.getObject("prediction_timestamp", OffsetDateTime.class).toInstant(),
            equalTo(run.predictionTimestamp()));
        assertThat(r.getString("run_id"), equalTo("fraud-daily-20261128"));
        assertThat(r.getString("fallback_reason"), nullValue());
        r.next();
        assertThat(r.getString("key"), equalTo("acct-0004"));
        assertThat(r.getDouble("confidence"), equalTo(0.75));
        assertThat(r.getString("label"), nullValue());
        assertThat(r.getString("fallback_reason"), equalTo("missing_features"));
      }
      assertThat(count(c, "SELECT records FROM " + TABLE + "__runs WHERE run_id = '" + run.runId() + "'"), equalTo(25L));
    }
  }

  @Test
  public void writesPassThroughColumnsAsPrefixedTextColumns() throws Exception {
    RunInfo run = day(28);
    p.apply(StoreTestData.createWithPassThrough(run, 4))
        .apply(sink(run).withPassThroughColumns(StoreTestData.PASS_THROUGH));
    p.run().waitUntilFinish();

    try (Connection c = PG.connect()) {
      assertServes(c, run, 4);
      List<String> columns = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '"
              + TABLE + "' ORDER BY ordinal_position")) {
        while (r.next()) {
          columns.add(r.getString(1) + " " + r.getString(2) + " " + r.getString(3));
        }
      }
      assertThat(columns.subList(10, columns.size()), equalTo(List.of("fallback_reason text YES",
          "pass_through_row_id text YES", "pass_through_label text YES")));
      List<String> rows = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT key, label, pass_through_row_id, pass_through_label FROM " + TABLE + " ORDER BY key")) {
        while (r.next()) {
          rows.add(r.getString(1) + " " + r.getString(2) + " " + r.getString(3) + " " + r.getString(4));
        }
      }
      // acct-0000 is a cold start (no values); odd keys have a null label; the prediction's label stays its own.
      assertThat(rows, equalTo(List.of("acct-0000 fraud null null", "acct-0001 null r1 null",
          "acct-0002 null r2 L2", "acct-0003 fraud r3 null")));
    }
  }

  @Test
  public void aRunWithoutPassThroughColumnsReplacesATableThatHadThem() throws Exception {
    publish(sink(day(27)).withPassThroughColumns(List.of("row_id")), day(27), 3);
    publish(sink(day(28)), day(28), 3);
    try (Connection c = PG.connect()) {
      assertServes(c, day(28), 3);
      assertThat(count(c, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" + TABLE
          + "' AND column_name LIKE 'pass_through%'"), equalTo(0L));
      assertThat(count(c, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" + TABLE
          + "__previous' AND column_name = 'pass_through_row_id'"), equalTo(1L));
    }
  }

  @Test
  public void refusesAPassThroughColumnThatIsNoLowerCaseIdentifier() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> sink(day(28)).withPassThroughColumns(List.of("row_id", "Region"))).getMessage(), equalTo(
            "pass-through column 'Region' cannot be a JDBC column: 'pass_through_Region' must be lower case"
                + " [a-z_][a-z0-9_]*, at most 63 characters; drop it from --passThroughColumns"
                + " (withPassThroughColumns) or rename the input column"));
    assertThrows(IllegalArgumentException.class, () -> sink(day(28)).withPassThroughColumns(List.of("x".repeat(51))));
    sink(day(28)).withPassThroughColumns(List.of("x".repeat(50)));
  }

  /**
   * A real fault in the publish transaction, after every write (publish waits for all of them):
   * the server refuses the rename. Nothing of the failed pipeline is still running afterwards.
   */
  private static void denyAlterTable() throws SQLException {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("CREATE OR REPLACE FUNCTION deny_ddl() RETURNS event_trigger LANGUAGE plpgsql AS "
          + "$$ BEGIN RAISE EXCEPTION 'injected fault: ALTER TABLE refused'; END $$");
      s.execute("CREATE EVENT TRIGGER deny_alter ON ddl_command_start WHEN TAG IN ('ALTER TABLE') "
          + "EXECUTE FUNCTION deny_ddl()");
    }
  }

  private static void allowAlterTable() throws SQLException {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("DROP EVENT TRIGGER IF EXISTS deny_alter");
    }
  }

  @Test
  public void aRunThatFailsAfterAllItsWritesLeavesThePreviousRunServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, 20);
    denyAlterTable();

    p.apply(create(run, 20)).apply(sink(run));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault: ALTER TABLE refused"));

    try (Connection c = PG.connect()) {
      // Every row of the failed run is in its staging table, and readers still see the previous run.
      assertThat(count(c, "SELECT count(*) FROM fraud_scores__fraud_daily_20261128"), equalTo(20L));
      assertServes(c, previous, 20);
    }
  }

  @Test
  public void aRunWhosePublishSignalFailsLeavesThePreviousRunServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, 20);

    PCollection<Integer> check = p.apply("Check", Create.of(1)).apply(ParDo.of(new StoreTestData.FailingCheck()));
    p.apply(create(run, 20)).apply(sink(run).publishAfter(check));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault"));

    try (Connection c = PG.connect()) {
      assertServes(c, previous, 20);
    }
  }

  @Test
  public void aRunThatFailsHalfwayThroughItsInputLeavesThePreviousRunServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, 20);

    p.apply(create(run, 20)).apply(ParDo.of(new StoreTestData.FailOnKey(10))).apply(sink(run).withBatchSize(1));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault"));

    try (Connection c = PG.connect()) {
      assertServes(c, previous, 20);
    }
  }

  @Test
  public void aReRunOfTheSameRunIdWritesNoDuplicates() throws Exception {
    RunInfo run = day(28);
    publish(sink(run), run, 30);
    publish(sink(run), run, 30);

    try (Connection c = PG.connect()) {
      assertServes(c, run, 30);
      assertThat(count(c, "SELECT count(*) FROM " + TABLE + "__runs"), equalTo(1L));
      // The first attempt's table is kept as the previous one; no staging table is left.
      assertThat(count(c, "SELECT count(*) FROM " + TABLE + "__previous"), equalTo(30L));
      assertThat(exists(c, "fraud_scores__fraud_daily_20261128"), equalTo(false));
    }
  }

  @Test
  public void aReRunAfterAFailedAttemptStartsFromAnEmptyStagingTable() throws Exception {
    RunInfo run = day(28);
    denyAlterTable();
    p.apply(create(run, 40)).apply(sink(run));
    StoreTestData.runExpectingFailure(p);
    try (Connection c = PG.connect()) {
      assertThat(count(c, "SELECT count(*) FROM fraud_scores__fraud_daily_20261128"), equalTo(40L));
    }
    allowAlterTable();

    publish(sink(run), run, 25);
    try (Connection c = PG.connect()) {
      assertServes(c, run, 25);
    }
  }

  /** The run's row in the runs table: "records served", and whether published_at is set. */
  private static String runRecord(Connection c, RunInfo run) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT records, served, published_at FROM "
        + TABLE + "__runs WHERE run_id = '" + run.runId() + "'")) {
      assertThat(r.next(), equalTo(true));
      return r.getLong(1) + " " + r.getBoolean(2) + " " + (r.getObject(3) != null);
    }
  }

  @Test
  public void aBackfillPublishesItsOwnTableAndLeavesTheServedTableAndViewOnTheNewerRun() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(sink(today).withView("fraud_risk", FRAUD_VIEW), today, 10);

    PCollection<String> published =
        p.apply(create(yesterday, 12)).apply(sink(yesterday).withView("fraud_risk", FRAUD_VIEW)).published();
    PAssert.that(published).containsInAnyOrder(yesterday.runId());
    p.run().waitUntilFinish();

    try (Connection c = PG.connect()) {
      assertServes(c, today, 10);
      assertThat(viewRows(c), equalTo(expectedViewRows(today, 10)));
      // Its own run: every row in its own table, recorded as published and not served.
      assertThat(count(c, "SELECT count(*) FROM fraud_scores__fraud_daily_20261127 WHERE run_id = '" + yesterday.runId() + "'"),
          equalTo(12L));
      assertThat(runRecord(c, yesterday), equalTo("12 false true"));
      assertThat(runRecord(c, today), equalTo("10 true true"));
    }
  }

  @Test
  public void aForcedBackfillIsSwappedInWithItsView() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(sink(today).withView("fraud_risk", FRAUD_VIEW), today, 10);
    publish(sink(yesterday).withView("fraud_risk", FRAUD_VIEW).withForceLatest(true), yesterday, 12);
    try (Connection c = PG.connect()) {
      assertServes(c, yesterday, 12);
      assertThat(viewRows(c), equalTo(expectedViewRows(yesterday, 12)));
      assertThat(runRecord(c, today), equalTo("10 false true"));
    }
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneIsABackfill() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    Pipeline older = Pipeline.create(PipelineOptionsFactory.create());
    older.apply(create(yesterday, 12)).apply(sink(yesterday).withView("fraud_risk", FRAUD_VIEW)
        .publishAfter(StoreTestData.HeldGate.in(older, "JdbcSinkTest.java-27")));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    publish(sink(today).withView("fraud_risk", FRAUD_VIEW), today, 10);
    StoreTestData.HeldGate.open("JdbcSinkTest.java-27");
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);

    try (Connection c = PG.connect()) {
      assertServes(c, today, 10);
      assertThat(viewRows(c), equalTo(expectedViewRows(today, 10)));
      assertThat(runRecord(c, yesterday), equalTo("12 false true"));
    }
  }

  @Test
  public void aConcurrentReaderOnlyEverSeesOneCompleteRun() throws Exception {
    int n = 300;
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, n);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger passes = new AtomicInteger();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    Set<String> seenRuns = Collections.synchronizedSet(new TreeSet<>());
    Thread reader = new Thread(() -> {
      try (Connection c = PG.connect(); Statement s = c.createStatement()) {
        while (!stop.get() && passes.get() < 100_000) {
          try (ResultSet r = s.executeQuery(
              "SELECT count(*), count(DISTINCT run_id), min(run_id), count(DISTINCT key) FROM " + TABLE)) {
            r.next();
            if (r.getLong(1) != n || r.getLong(2) != 1 || r.getLong(4) != n) {
              violations.add("count " + r.getLong(1) + ", runs " + r.getLong(2) + ", keys " + r.getLong(4));
            }
            seenRuns.add(r.getString(3));
          }
          passes.incrementAndGet();
        }
      } catch (SQLException e) {
        violations.add(e.toString());
      }
    });
    reader.start();
    while (passes.get() < 1 && reader.isAlive()) {
      Thread.sleep(10);
    }
    p.apply(create(run, n)).apply(sink(run).withBatchSize(10));
    p.run().waitUntilFinish();
    int after = passes.get();
    while (passes.get() < after + 2 && reader.isAlive()) {
      Thread.sleep(10);
    }
    stop.set(true);
    reader.join();

    assertThat(violations, empty());
    assertThat(seenRuns, equalTo(new TreeSet<>(List.of(previous.runId(), run.runId()))));
  }

  @Test
  public void logsInWithThePasswordFromASecretsFileAndNeverShowsIt() throws Exception {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("DROP ROLE IF EXISTS writer");
      s.execute("CREATE ROLE writer LOGIN PASSWORD 'w-s3cret'");
      s.execute("GRANT ALL ON SCHEMA public TO writer");
    }
    PG.requirePasswordFor("writer");
    java.nio.file.Path good = java.nio.file.Files.createTempFile("pg-password", "");
    java.nio.file.Path bad = java.nio.file.Files.createTempFile("pg-password", "");
    try {
      java.nio.file.Files.writeString(good, "w-s3cret\n");
      java.nio.file.Files.writeString(bad, "not-the-password-4711");
      RunInfo run = day(28);
      publish(sink(run).withUser("writer").withPassword(Secret.fromFile(good.toString())), run, 5);
      try (Connection c = PG.connect()) {
        assertServes(c, run, 5);
      }

      Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
      q.apply(create(day(29), 5)).apply(sink(day(29)).withUser("writer").withPassword(Secret.fromFile(bad.toString())));
      Exception e = StoreTestData.runExpectingFailure(q);
      StringBuilder all = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause()) {
        all.append(t).append('\n');
      }
      assertThat(all.toString(), containsString("password authentication failed for user \"writer\""));
      assertThat(all.toString(), not(containsString("not-the-password-4711")));
    } finally {
      java.nio.file.Files.deleteIfExists(good);
      java.nio.file.Files.deleteIfExists(bad);
    }
  }

  @Test
  public void retriesOnlyRetryableSqlStates() {
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "08006")), equalTo(true));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "40001")), equalTo(true));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "40P01")), equalTo(true));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "57P01")), equalTo(true));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "23505")), equalTo(false));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "42P01")), equalTo(false));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x", "P0001")), equalTo(false));
    assertThat(JdbcEndpoint.isRetryable(new SQLException("x")), equalTo(false));
  }

  @Test
  public void neverShowsThePassword() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JdbcSink.to("jdbc:postgresql://db/x?user=a&password=hunter2"));
    assertThat(e.getMessage(), equalTo("url must not contain a password; use withPassword(Secret.fromEnv(...)) instead"));
    assertThat(JdbcEndpoint.of("jdbc:postgresql://db/x").withUser("w").withPassword(Secret.fromEnv("PGPASSWORD"))
        .toString(), equalTo("jdbc:postgresql://db/x as w (password: env:PGPASSWORD)"));
  }

  private static final Map<String, String> FRAUD_VIEW =
      JdbcSink.parseViewColumns("account_id=key,risk_score=score,score_date=run_date,model_version=model_version");

  /** The view's rows as "account_id risk_score score_date model_version", in key order. */
  private static List<String> viewRows(Connection c) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM fraud_risk ORDER BY account_id")) {
      assertThat(r.getMetaData().getColumnCount(), equalTo(4));
      assertThat(List.of(r.getMetaData().getColumnName(1), r.getMetaData().getColumnName(2),
          r.getMetaData().getColumnName(3), r.getMetaData().getColumnName(4)),
          equalTo(List.of("account_id", "risk_score", "score_date", "model_version")));
      assertThat(r.getMetaData().getColumnTypeName(3), equalTo("date"));
      while (r.next()) {
        rows.add(r.getString(1) + " " + r.getDouble(2) + " " + r.getObject(3, java.time.LocalDate.class) + " " + r.getString(4));
      }
    }
    return rows;
  }

  private static List<String> expectedViewRows(RunInfo run, int n) {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Prediction pr = prediction(run, i);
      rows.add(key(i) + " " + (pr.getScore() == null ? 0.0 : pr.getScore()) + " " + run.runDate() + " " + pr.getModelVersion());
    }
    return rows;
  }

  @Test
  public void servesThePublishedRunThroughAViewWithTheCallersColumnNames() throws Exception {
    RunInfo first = day(27);
    RunInfo second = day(28);
    publish(sink(first).withView("fraud_risk", FRAUD_VIEW), first, 12);
    try (Connection c = PG.connect()) {
      assertThat(viewRows(c), equalTo(expectedViewRows(first, 12)));
    }
    // The next run replaces the table under the view; the run after that drops the __previous
    // table, which a view left on it would block.
    publish(sink(second).withView("fraud_risk", FRAUD_VIEW), second, 9);
    RunInfo third = day(29);
    publish(sink(third).withView("fraud_risk", FRAUD_VIEW), third, 7);
    try (Connection c = PG.connect()) {
      assertThat(viewRows(c), equalTo(expectedViewRows(third, 7)));
      assertServes(c, third, 7);
    }
    // A run whose publish fails (after it dropped the view, in its transaction) leaves the view on
    // the served run.
    denyAlterTable();
    RunInfo fourth = day(30);
    p.apply(create(fourth, 5)).apply(sink(fourth).withView("fraud_risk", FRAUD_VIEW));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("injected fault: ALTER TABLE refused"));
    try (Connection c = PG.connect()) {
      assertThat(viewRows(c), equalTo(expectedViewRows(third, 7)));
    }
  }

  @Test
  public void refusesABadView() {
    JdbcSink<String> s = JdbcSink.to("jdbc:postgresql://db/x");
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withView("fraud_risk", Map.of("account_id", "account")))
        .getMessage(), equalTo("view column account_id must show one of [key, score, label, confidence, model_name,"
            + " model_version, prediction_timestamp, run_id, fallback_reason, run_date], but was 'account'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withView("Risk View", FRAUD_VIEW)).getMessage(),
        equalTo("view must match [a-z_][a-z0-9_]{0,39}, but was 'Risk View'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> JdbcSink.parseViewColumns("account_id=key,risk_score"))
        .getMessage(), equalTo("view columns are written column=field,column=field, but 'account_id=key,risk_score'"
            + " has 'risk_score'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> JdbcSink.parseViewColumns("a=key,a=score"))
        .getMessage(), equalTo("view column 'a' is named twice in 'a=key,a=score'"));
  }

  @Test
  public void validatesItsSettings() {
    JdbcSink<String> s = JdbcSink.to("jdbc:postgresql://db/x");
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withTable("Bad-Name")).getMessage(),
        equalTo("table must match [a-z_][a-z0-9_]{0,39}, but was 'Bad-Name'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withBatchSize(0)).getMessage(),
        equalTo("batchSize must be >= 1, but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withMaxAttempts(0)).getMessage(),
        equalTo("maxAttempts must be >= 1, but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> JdbcSink.to("jdbc:sqlserver://db;databaseName=x"))
        .getMessage(), equalTo("the JDBC sink writes to PostgreSQL, MySQL/MariaDB and Snowflake: url must start with one of"
            + " jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb:, jdbc:snowflake:, but was 'jdbc:sqlserver://db;databaseName=x'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> JdbcSink.to("postgresql://db/x"))
        .getMessage(), equalTo("url must be a JDBC URL (jdbc:<database>:...), but was 'postgresql://db/x'"));
    assertThat(JdbcSink.stagingTable("t", "fraud-hourly-20261128T05"), equalTo("t__fraud_hourly_20261128t05"));
    String longName = JdbcSink.stagingTable("a_forty_character_table_name_xxxxxxxxxxx", "fraud-hourly-20261128T05");
    assertThat(longName.length(), equalTo(63));
    assertThat(longName, not(equalTo(JdbcSink.stagingTable("a_forty_character_table_name_xxxxxxxxxxx",
        "fraud-hourly-20261128T06"))));
  }
}
