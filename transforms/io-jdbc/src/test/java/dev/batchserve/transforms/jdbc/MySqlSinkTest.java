package dev.batchserve.transforms.jdbc;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.MariaDbServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
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

/**
 * {@link JdbcSink} against a real MariaDB server through MySQL's driver ({@code jdbc:mysql:}): the
 * MySQL dialect's staging table, upsert, {@code GET_LOCK} and atomic {@code RENAME TABLE} swap.
 */
@RunWith(JUnit4.class)
public class MySqlSinkTest {
  @ClassRule public static final MariaDbServer DB = new MariaDbServer();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final String TABLE = "fraud_scores";
  private static final Map<String, String> FRAUD_VIEW =
      JdbcSink.parseViewColumns("account_id=key,risk_score=score,score_date=run_date,model_version=model_version");

  @Before
  public void clean() throws SQLException {
    DB.reset();
  }

  private JdbcSink<String> sink(RunInfo run) {
    return JdbcSink.<String>to(DB.jdbcUrl()).withUser(DB.user()).withTable(TABLE).withRunInfo(run);
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
    return count(c, "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
        + " AND table_name = '" + table + "'") == 1;
  }

  /** The served table holds exactly the run's n predictions, and the run is the served one. */
  private static void assertServes(Connection c, RunInfo run, int n) throws SQLException {
    assertThat(count(c, "SELECT count(*) FROM " + TABLE), equalTo((long) n));
    assertThat(count(c, "SELECT count(*) FROM " + TABLE + " WHERE run_id = '" + run.runId() + "'"), equalTo((long) n));
    List<String> keys = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT `key`, score FROM " + TABLE + " ORDER BY `key`")) {
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

  /** The view's rows as "account_id risk_score score_date model_version", in key order. */
  private static List<String> viewRows(Connection c) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM fraud_risk ORDER BY account_id")) {
      assertThat(List.of(r.getMetaData().getColumnName(1), r.getMetaData().getColumnName(2),
          r.getMetaData().getColumnName(3), r.getMetaData().getColumnName(4)),
          equalTo(List.of("account_id", "risk_score", "score_date", "model_version")));
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

  /**
   * A real fault at the swap itself, after every write: a reader's open transaction holds the served
   * table, so the publish's {@code RENAME TABLE} waits for its metadata lock; once the server shows
   * it waiting, an operator's {@code KILL QUERY} ends it (error 1317, not retryable). Returns the
   * killer thread; the reader's connection is {@code reader}.
   */
  private static Thread killTheSwapOnceItWaits(Connection reader) throws SQLException {
    reader.setAutoCommit(false);
    try (Statement s = reader.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM " + TABLE)) {
      r.next();
    }
    Thread killer = new Thread(() -> {
      try (Connection c = DB.connect(); Statement s = c.createStatement()) {
        while (!Thread.currentThread().isInterrupted()) {
          Long id = null;
          try (ResultSet r = s.executeQuery("SELECT id FROM information_schema.processlist"
              + " WHERE info LIKE 'RENAME TABLE%' AND state LIKE '%metadata lock%'")) {
            if (r.next()) {
              id = r.getLong(1);
            }
          }
          if (id != null) {
            s.execute("KILL QUERY " + id);
            return;
          }
          Thread.sleep(20);
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    killer.setDaemon(true);
    killer.start();
    return killer;
  }

  @Test
  public void writesEveryColumnAndPublishes() throws Exception {
    RunInfo run = day(28);
    PCollection<String> published = p.apply(create(run, 25)).apply(sink(run).withBatchSize(7)).published();
    PAssert.that(published).containsInAnyOrder(run.runId());
    p.run().waitUntilFinish();

    try (Connection c = DB.connect()) {
      assertServes(c, run, 25);
      assertThat(exists(c, "fraud_scores__fraud_daily_20261128"), equalTo(false));
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT `key`, score, scores, items, label, confidence, model_name, model_version, prediction_timestamp,"
              + " run_id, fallback_reason FROM " + TABLE + " WHERE `key` IN ('acct-0003', 'acct-0004') ORDER BY `key`")) {
        r.next();
        Prediction three = prediction(run, 3);
        assertThat(r.getString("key"), equalTo("acct-0003"));
        assertThat(r.getDouble("score"), equalTo(three.getScore()));
        assertThat(r.getString("scores"), equalTo("[" + three.getScores()[0] + "]"));
        assertThat(r.getString("items"), equalTo("[]"));
        assertThat(r.getString("label"), equalTo("fraud"));
        assertThat(r.getObject("confidence"), nullValue());
        assertThat(r.getString("model_name"), equalTo("fraud-mlp"));
        assertThat(r.getString("model_version"), equalTo("3"));
        assertThat(r.getObject("prediction_timestamp", LocalDateTime.class).toInstant(ZoneOffset.UTC),
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

    try (Connection c = DB.connect()) {
      assertServes(c, run, 4);
      List<String> columns = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = DATABASE()"
              + " AND table_name = '" + TABLE + "' ORDER BY ordinal_position")) {
        while (r.next()) {
          columns.add(r.getString(1) + " " + r.getString(2) + " " + r.getString(3));
        }
      }
      assertThat(columns.subList(10, columns.size()), equalTo(List.of("fallback_reason text YES",
          "pass_through_row_id text YES", "pass_through_label text YES")));
      List<String> rows = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT `key`, `label`, pass_through_row_id, pass_through_label FROM " + TABLE + " ORDER BY `key`")) {
        while (r.next()) {
          rows.add(r.getString(1) + " " + r.getString(2) + " " + r.getString(3) + " " + r.getString(4));
        }
      }
      assertThat(rows, equalTo(List.of("acct-0000 fraud null null", "acct-0001 null r1 null",
          "acct-0002 null r2 L2", "acct-0003 fraud r3 null")));
    }
  }

  @Test
  public void aReRunOfTheSameRunIdWritesNoDuplicates() throws Exception {
    RunInfo run = day(28);
    publish(sink(run), run, 30);
    publish(sink(run), run, 30);

    try (Connection c = DB.connect()) {
      assertServes(c, run, 30);
      assertThat(count(c, "SELECT count(*) FROM " + TABLE + "__runs"), equalTo(1L));
      assertThat(count(c, "SELECT count(*) FROM " + TABLE + "__previous"), equalTo(30L));
      assertThat(exists(c, "fraud_scores__fraud_daily_20261128"), equalTo(false));
    }
  }

  @Test
  public void aRunWhoseSwapFailsLeavesThePreviousRunServedAndARerunPublishes() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous).withView("fraud_risk", FRAUD_VIEW), previous, 20);

    try (Connection reader = DB.connect()) {
      Thread killer = killTheSwapOnceItWaits(reader);
      p.apply(create(run, 20)).apply(sink(run).withView("fraud_risk", FRAUD_VIEW));
      Exception e = StoreTestData.runExpectingFailure(p);
      assertThat(String.valueOf(e.getMessage()), containsString("Query execution was interrupted"));
      killer.join();
      reader.rollback();
    }

    try (Connection c = DB.connect()) {
      // Every row of the failed run is in its staging table; readers still see the previous run.
      assertThat(count(c, "SELECT count(*) FROM fraud_scores__fraud_daily_20261128"), equalTo(20L));
      assertServes(c, previous, 20);
      assertThat(viewRows(c), equalTo(expectedViewRows(previous, 20)));
    }

    publish(sink(run).withView("fraud_risk", FRAUD_VIEW), run, 15);
    try (Connection c = DB.connect()) {
      assertServes(c, run, 15);
      assertThat(viewRows(c), equalTo(expectedViewRows(run, 15)));
      assertThat(count(c, "SELECT count(*) FROM " + TABLE + "__previous WHERE run_id = '" + previous.runId() + "'"),
          equalTo(20L));
      assertThat(exists(c, "fraud_risk__next"), equalTo(false));
      assertThat(exists(c, "fraud_risk__old"), equalTo(false));
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

    try (Connection c = DB.connect()) {
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

    try (Connection c = DB.connect()) {
      assertServes(c, previous, 20);
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

    try (Connection c = DB.connect()) {
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
    try (Connection c = DB.connect()) {
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
        .publishAfter(StoreTestData.HeldGate.in(older, "MySqlSinkTest.java-27")));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    publish(sink(today).withView("fraud_risk", FRAUD_VIEW), today, 10);
    StoreTestData.HeldGate.open("MySqlSinkTest.java-27");
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);

    try (Connection c = DB.connect()) {
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
      try (Connection c = DB.connect(); Statement s = c.createStatement()) {
        while (!stop.get() && passes.get() < 100_000) {
          try (ResultSet r = s.executeQuery(
              "SELECT count(*), count(DISTINCT run_id), min(run_id), count(DISTINCT `key`) FROM " + TABLE)) {
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
}
