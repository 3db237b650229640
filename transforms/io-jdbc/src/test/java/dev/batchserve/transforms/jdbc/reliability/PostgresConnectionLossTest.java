package dev.batchserve.transforms.jdbc.reliability;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.PostgresServer;
import dev.batchserve.transforms.values.RunInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.Pipeline;
import org.junit.After;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * The PostgreSQL sink's connections terminated by the server ({@code pg_terminate_backend}) while a
 * run is written and while it is published: a dropped publish is retried with bounded backoff and
 * publishes every row once; a publish that keeps being dropped gives up after exactly six attempts,
 * naming the cause, and leaves the previous run served; a write whose connection drops mid-batch
 * fails the run (JdbcIO cannot retry on a lost connection), the previous run stays served, and the
 * re-run publishes every row once.
 *
 * <p>The faults are placed, not timed: the test holds the table's advisory lock, which the sink's
 * prepare and publish transactions take first, so a publish waits (visibly, in
 * {@code pg_stat_activity}) until the test has done its damage. The sink's connections are told
 * apart by their {@code ApplicationName}.
 */
@RunWith(JUnit4.class)
public class PostgresConnectionLossTest {
  @ClassRule public static final PostgresServer PG = new PostgresServer();

  private static final String TABLE = "fraud_scores";
  private static final String APP = "batchserve-reliability";
  private static final int N = 300;

  private final ExecutorService runner = Executors.newSingleThreadExecutor();
  private Connection lock;

  @Before
  public void clean() throws SQLException {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA public CASCADE");
      s.execute("CREATE SCHEMA public");
    }
  }

  @After
  public void release() throws Exception {
    if (lock != null) {
      lock.close();
    }
    runner.shutdownNow();
    runner.awaitTermination(60, TimeUnit.SECONDS);
  }

  private static JdbcSink<String> sink(RunInfo run) {
    return JdbcSink.<String>to(PG.jdbcUrl() + "?ApplicationName=" + APP).withUser(PG.user())
        .withTable(TABLE).withRunInfo(run);
  }

  /** Takes the table's advisory lock (the sink's prepare and publish take it too) on a connection of its own. */
  private static Connection lockTable() throws SQLException {
    Connection c = PG.connect();
    try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_lock(hashtext(?))")) {
      s.setString(1, "batchserve:" + TABLE);
      s.executeQuery().close();
    }
    return c;
  }

  /** Starts the run in the background: the future holds its failure, or null. */
  private Future<Exception> start(RunInfo run) {
    // Small batches: many round trips, so that a writer is caught inside one.
    Pipeline p = StoreTestData.pipeline(run, N, sink(run).withBatchSize(5));
    return runner.submit(() -> {
      try {
        p.run().waitUntilFinish();
        return null;
      } catch (Exception e) {
        StoreTestData.awaitQuiet();
        return e;
      }
    });
  }

  /** The sink's backends waiting for the table lock. */
  private static List<Integer> lockWaiters(Connection c) throws SQLException {
    List<Integer> pids = new ArrayList<>();
    try (PreparedStatement s = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ?"
        + " AND wait_event_type = 'Lock' AND wait_event = 'advisory'")) {
      s.setString(1, APP);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          pids.add(r.getInt(1));
        }
      }
    }
    return pids;
  }

  private static void terminate(Connection c, int pid) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, pid);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        assertThat("terminated " + pid, r.getBoolean(1), equalTo(true));
      }
    }
  }

  private static long deadline() {
    return System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // every wait below is bounded by it
  }

  private static void checkDeadline(long deadline, String what) {
    if (System.nanoTime() > deadline) {
      throw new AssertionError("gave up waiting for " + what);
    }
  }

  /**
   * With the lock held before the run starts: waits for the run's prepare to queue for it, lets the
   * prepare through, and takes the lock again behind it, so that the run's publish will wait.
   */
  private void letPrepareThrough(RunInfo run) throws Exception {
    long deadline = deadline();
    try (Connection c = PG.connect()) {
      while (lockWaiters(c).isEmpty()) {
        checkDeadline(deadline, "the prepare step to wait for the lock");
        Thread.sleep(5);
      }
      assertThat(exists(c, JdbcSink.stagingTable(TABLE, run.runId())), equalTo(false));
    }
    lock.close();
    lock = lockTable(); // queued behind the prepare, which was granted the lock first
    try (Connection c = PG.connect()) {
      assertThat(exists(c, JdbcSink.stagingTable(TABLE, run.runId())), equalTo(true));
    }
  }

  /** Terminates each new backend that waits for the lock, until {@code enough} were or the run ended. */
  private static int terminateLockWaiters(int enough, Future<Exception> run) throws Exception {
    long deadline = deadline();
    Set<Integer> terminated = new HashSet<>();
    try (Connection c = PG.connect()) {
      while (terminated.size() < enough && !run.isDone()) {
        checkDeadline(deadline, "publish attempts");
        for (int pid : lockWaiters(c)) {
          if (terminated.add(pid)) { // a terminated backend may still be listed while it exits
            terminate(c, pid);
          }
        }
        Thread.sleep(5);
      }
    }
    return terminated.size();
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

  /** The served table holds exactly the run's N predictions, each key once, and the run is the served one. */
  private static void assertServes(Connection c, RunInfo run) throws SQLException {
    List<String> keys = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT key, score, run_id FROM " + TABLE + " ORDER BY key")) {
      while (r.next()) {
        keys.add(r.getString(1));
        int i = Integer.parseInt(r.getString(1).substring("acct-".length()));
        assertThat(r.getDouble(2), equalTo(prediction(run, i).getScore()));
        assertThat(r.getString(3), equalTo(run.runId()));
      }
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      expected.add(key(i));
    }
    assertThat(keys, equalTo(expected));
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT run_id, records FROM " + JdbcSink.runsTable(TABLE) + " WHERE served")) {
      assertThat(r.next(), equalTo(true));
      assertThat(r.getString(1), equalTo(run.runId()));
      assertThat(r.getLong(2), equalTo((long) N));
      assertThat(r.next(), equalTo(false));
    }
  }

  @Test
  public void aPublishWhoseConnectionIsDroppedIsRetriedAndPublishesEveryRowOnce() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(previous));

    lock = lockTable();
    Future<Exception> running = start(run);
    letPrepareThrough(run);
    // Every row is written before the publish asks for the lock; its first two attempts are dropped.
    assertThat(terminateLockWaiters(2, running), equalTo(2));
    lock.close();
    lock = null;

    assertThat(running.get(120, TimeUnit.SECONDS), nullValue());
    try (Connection c = PG.connect()) {
      assertServes(c, run);
      assertThat(count(c, "SELECT count(*) FROM " + JdbcSink.runsTable(TABLE)), equalTo(2L));
      assertThat(count(c, "SELECT count(*) FROM " + JdbcSink.previousTable(TABLE)
          + " WHERE run_id = '" + previous.runId() + "'"), equalTo((long) N));
      assertThat(exists(c, JdbcSink.stagingTable(TABLE, run.runId())), equalTo(false));
    }
  }

  @Test
  public void aPublishWhoseConnectionKeepsDroppingGivesUpAfterSixAttemptsAndTheReRunPublishes() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(previous));

    lock = lockTable();
    Future<Exception> running = start(run);
    letPrepareThrough(run);
    // FluentBackoff with 5 retries: the first attempt and 5 more, then the run fails.
    assertThat(terminateLockWaiters(100, running), equalTo(6));
    Exception e = running.get(120, TimeUnit.SECONDS);
    assertThat(StoreTestData.chain(e), containsString("terminating connection due to administrator command"));
    lock.close();
    lock = null;

    try (Connection c = PG.connect()) {
      assertServes(c, previous);
      assertThat(count(c, "SELECT count(*) FROM " + JdbcSink.stagingTable(TABLE, run.runId())), equalTo((long) N));
    }
    StoreTestData.publish(run, N, sink(run));
    try (Connection c = PG.connect()) {
      assertServes(c, run);
    }
  }

  @Test
  public void aWriteWhoseConnectionIsDroppedFailsTheRunCleanlyAndTheReRunPublishesEveryRowOnce() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(previous));

    lock = lockTable();
    Future<Exception> running = start(run);
    letPrepareThrough(run);
    // The publish cannot start while the test holds the lock. Once 50 rows are in, drop a writer's
    // connection while it is in use (inside a batch's transaction), not one idle in the pool.
    long deadline = deadline();
    try (Connection c = PG.connect()) {
      String staging = JdbcSink.stagingTable(TABLE, run.runId());
      while (count(c, "SELECT count(*) FROM " + staging) < 50) {
        checkDeadline(deadline, "50 written rows");
        Thread.sleep(2);
      }
      int dropped = 0;
      while (dropped == 0) {
        checkDeadline(deadline, "a writer in a transaction");
        try (PreparedStatement s = c.prepareStatement("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            + " WHERE application_name = ? AND state IN ('active', 'idle in transaction')"
            + " AND query LIKE 'INSERT INTO " + staging + " %'")) {
          s.setString(1, APP);
          try (ResultSet r = s.executeQuery()) {
            r.next();
            dropped = r.getInt(1);
          }
        }
      }
      assertThat(count(c, "SELECT count(*) FROM " + staging) < N, equalTo(true));
    }
    lock.close();
    lock = null;

    // JdbcIO retries a retryable batch on the same connection, whose rollback fails once it is
    // gone: the bundle, and so the run, fails; nothing is published.
    Exception e = running.get(120, TimeUnit.SECONDS);
    assertThat(StoreTestData.chain(e), containsString("org.postgresql.util.PSQLException"));
    try (Connection c = PG.connect()) {
      assertServes(c, previous);
    }
    StoreTestData.publish(run, N, sink(run));
    try (Connection c = PG.connect()) {
      assertServes(c, run);
      assertThat(count(c, "SELECT count(*) FROM " + JdbcSink.previousTable(TABLE)), equalTo((long) N));
    }
  }
}
