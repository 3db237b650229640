package dev.batchserve.transforms.testing;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;

/** The harness itself: both servers start, answer, and are real. */
@RunWith(JUnit4.class)
public class LocalServersTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @ClassRule public static final PostgresServer PG = new PostgresServer();

  @Test
  public void redisAnswersCommands() {
    try (Jedis j = REDIS.client()) {
      assertThat(j.ping(), equalTo("PONG"));
      j.set("harness", "ok");
      assertThat(j.get("harness"), equalTo("ok"));
    }
  }

  @Test
  public void postgresRunsSql() throws Exception {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE harness (k text PRIMARY KEY)");
      s.execute("INSERT INTO harness VALUES ('a'), ('b')");
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM harness")) {
        r.next();
        assertThat(r.getLong(1), equalTo(2L));
      }
    }
  }
}
