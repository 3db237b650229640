package dev.batchserve.pipelines.reliability;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.jdbc.JdbcEndpoint;
import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.PostgresServer;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;

/**
 * Store passwords never show: a Redis sink and a PostgreSQL sink read theirs from secrets files, run
 * once with the right password and once with a wrong one, and neither password (right or wrong)
 * appears in anything the run printed (System.out, System.err, which slf4j-simple writes to, and
 * java.util.logging, which the PostgreSQL driver logs to, at its finest level), in the failures
 * with their causes, suppressed exceptions and stack traces, in the {@code toString()} or display
 * data of the sinks, endpoints and secrets, or in the serialized sinks that would travel to workers.
 */
@RunWith(JUnit4.class)
public class SecretsNeverLeakTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @ClassRule public static final PostgresServer PG = new PostgresServer();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final String REDIS_PASSWORD = "redis-Secret-1f7c";
  private static final String PG_PASSWORD = "pg-Secret-93ab";
  private static final String WRONG_REDIS_PASSWORD = "wrong-redis-Secret-4711";
  private static final String WRONG_PG_PASSWORD = "wrong-pg-Secret-0815";
  private static final List<String> SECRETS = List.of(REDIS_PASSWORD, PG_PASSWORD, WRONG_REDIS_PASSWORD, WRONG_PG_PASSWORD);

  /** Everything printed or logged while it is open. */
  private static final class Capture implements AutoCloseable {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = System.out;
    private final PrintStream err = System.err;
    private final Logger root = Logger.getLogger("");
    private final Logger pgjdbc = Logger.getLogger("org.postgresql");
    private final Level rootLevel = root.getLevel();
    private final Level pgjdbcLevel = pgjdbc.getLevel();
    private final StringBuilder jul = new StringBuilder();
    private final Handler handler = new Handler() {
      @Override
      public void publish(LogRecord r) {
        StringWriter w = new StringWriter();
        w.append(r.getLoggerName()).append(' ').append(String.valueOf(r.getMessage()));
        if (r.getParameters() != null) {
          for (Object p : r.getParameters()) {
            w.append(' ').append(String.valueOf(p));
          }
        }
        if (r.getThrown() != null) {
          r.getThrown().printStackTrace(new PrintWriter(w));
        }
        synchronized (jul) {
          jul.append(w).append('\n');
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };

    Capture() {
      System.setOut(new PrintStream(new Tee(out, bytes), true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(new Tee(err, bytes), true, StandardCharsets.UTF_8));
      handler.setLevel(Level.ALL);
      root.addHandler(handler);
      pgjdbc.setLevel(Level.ALL);
    }

    String text() {
      System.out.flush();
      System.err.flush();
      synchronized (jul) {
        return bytes.toString(StandardCharsets.UTF_8) + jul;
      }
    }

    @Override
    public void close() {
      System.setOut(out);
      System.setErr(err);
      root.removeHandler(handler);
      root.setLevel(rootLevel);
      pgjdbc.setLevel(pgjdbcLevel);
    }
  }

  /** Writes to the original stream and to the capture. */
  private static final class Tee extends OutputStream {
    private final OutputStream a;
    private final ByteArrayOutputStream b;

    Tee(OutputStream a, ByteArrayOutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws java.io.IOException {
      a.write(x);
      synchronized (b) {
        b.write(x);
      }
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      synchronized (b) {
        b.write(buf, off, len);
      }
    }
  }

  private Secret file(String password) throws Exception {
    Path f = tmp.newFile().toPath();
    Files.writeString(f, password + "\n");
    return Secret.fromFile(f.toString());
  }

  /** The failure, its causes and suppressed exceptions, with their stack traces. */
  private static String describe(Throwable e) {
    StringWriter w = new StringWriter();
    e.printStackTrace(new PrintWriter(w));
    return w.toString();
  }

  /** What a sink shows of itself: toString, display data, and its serialized form. */
  private static String shown(Object transform) {
    return transform + "\n" + DisplayData.from((org.apache.beam.sdk.transforms.display.HasDisplayData) transform)
        + "\n" + new String(SerializableUtils.serializeToByteArray((java.io.Serializable) transform),
            StandardCharsets.ISO_8859_1);
  }

  @Test
  public void noPasswordAppearsInLogsFailuresOrTheSinks() throws Exception {
    RunInfo run = day(28);
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("DROP ROLE IF EXISTS writer");
      s.execute("CREATE ROLE writer LOGIN PASSWORD '" + PG_PASSWORD + "'");
      s.execute("GRANT ALL ON SCHEMA public TO writer");
    }
    PG.requirePasswordFor("writer");
    try (Jedis j = REDIS.client()) {
      j.configSet("requirepass", REDIS_PASSWORD);
    }

    RedisSink<String> redis = RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run)
        .withPassword(file(REDIS_PASSWORD));
    RedisSink<String> wrongRedis = RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(day(29))
        .withPassword(file(WRONG_REDIS_PASSWORD));
    JdbcSink<String> jdbc = JdbcSink.<String>to(PG.jdbcUrl()).withUser("writer").withTable("fraud_scores")
        .withRunInfo(run).withPassword(file(PG_PASSWORD));
    JdbcSink<String> wrongJdbc = JdbcSink.<String>to(PG.jdbcUrl()).withUser("writer")
        .withTable("fraud_scores").withRunInfo(day(29)).withPassword(file(WRONG_PG_PASSWORD));

    StringBuilder seen = new StringBuilder();
    String logged;
    try (Capture capture = new Capture()) {
      // The capture works: a line through slf4j and one through java.util.logging are in it.
      LoggerFactory.getLogger(SecretsNeverLeakTest.class).warn("capture check: slf4j");
      Logger.getLogger("org.postgresql.capture").fine("capture check: jul");

      StoreTestData.publish(run, 10, redis);
      StoreTestData.publish(run, 10, jdbc);
      Exception redisFailure = StoreTestData.runExpectingFailure(StoreTestData.pipeline(day(29), 10, wrongRedis));
      Exception jdbcFailure = StoreTestData.runExpectingFailure(StoreTestData.pipeline(day(29), 10, wrongJdbc));
      assertThat(StoreTestData.chain(redisFailure), containsString("WRONGPASS"));
      assertThat(StoreTestData.chain(jdbcFailure), containsString("password authentication failed for user \"writer\""));
      seen.append(describe(redisFailure)).append(describe(jdbcFailure));

      // A reader with the password, as the serving side would hold it.
      try (RedisPredictionStore store = RedisPredictionStore.builder(
          RedisEndpoint.of(REDIS.host(), REDIS.port()).withPassword(file(REDIS_PASSWORD))).build()) {
        seen.append(store.get("acct-0001")).append('\n');
      }
      logged = capture.text();
    } finally {
      try (Jedis j = REDIS.client()) {
        j.auth(REDIS_PASSWORD);
        j.configSet("requirepass", "");
      }
    }
    assertThat(logged, containsString("capture check: slf4j"));
    assertThat(logged, containsString("capture check: jul"));
    // The PostgreSQL driver logged at its finest level, and the failures were printed.
    assertThat(logged, containsString("org.postgresql"));

    for (Object o : List.of(redis, wrongRedis, jdbc, wrongJdbc)) {
      seen.append(shown(o));
    }
    seen.append(RedisEndpoint.of("h", 1).withUser("u").withPassword(file(REDIS_PASSWORD))).append('\n')
        .append(JdbcEndpoint.of(PG.jdbcUrl()).withUser("writer").withPassword(file(PG_PASSWORD))).append('\n')
        .append(file(PG_PASSWORD)).append('\n');

    for (String secret : SECRETS) {
      assertThat("logged: " + secret, logged.contains(secret), equalTo(false));
      assertThat("shown: " + secret, seen.toString().contains(secret), equalTo(false));
    }
    assertThat(seen.toString(), not(containsString("Secret-")));
  }
}
