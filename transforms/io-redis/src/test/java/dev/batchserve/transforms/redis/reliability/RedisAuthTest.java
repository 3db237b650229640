package dev.batchserve.transforms.redis.reliability;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.After;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;

/**
 * A Redis with {@code requirepass}: a sink without the password, or with a wrong one, is refused with
 * Redis's own clear error, which names neither password, and writes nothing; with it, it publishes.
 */
@RunWith(JUnit4.class)
public class RedisAuthTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final String PASSWORD = "auth-Secret-5e2d";
  private static final String WRONG = "wrong-Secret-77aa";
  private static final String PREFIX = "fraud";

  @Before
  public void requirePassword() {
    try (Jedis j = REDIS.client()) {
      j.configSet("requirepass", PASSWORD);
    }
  }

  @After
  public void removePassword() {
    try (Jedis j = REDIS.client()) {
      j.auth(PASSWORD);
      j.flushAll();
      j.configSet("requirepass", "");
    }
  }

  private static RedisSink<String> sink(RunInfo run) {
    return RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX);
  }

  private Secret file(String password) throws Exception {
    Path f = tmp.newFile().toPath();
    Files.writeString(f, password + "\n");
    return Secret.fromFile(f.toString());
  }

  private static long keys() {
    try (Jedis j = REDIS.client()) {
      j.auth(PASSWORD);
      return j.dbSize();
    }
  }

  @Test
  public void aSinkWithoutThePasswordIsRefusedWithNoauthAndWritesNothing() throws Exception {
    RunInfo run = day(28);
    Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, 10, sink(run)));
    String all = StoreTestData.chain(e);
    assertThat(all, containsString("NOAUTH Authentication required."));
    assertThat(all, not(containsString(PASSWORD)));
    assertThat(keys(), equalTo(0L));
  }

  @Test
  public void aSinkWithAWrongPasswordIsRefusedWithoutShowingAnyPasswordAndWritesNothing() throws Exception {
    RunInfo run = day(28);
    Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, 10, sink(run).withPassword(file(WRONG))));
    String all = StoreTestData.chain(e);
    assertThat(all, containsString("WRONGPASS invalid username-password pair or user is disabled."));
    assertThat(all, not(containsString(WRONG)));
    assertThat(all, not(containsString(PASSWORD)));
    assertThat(keys(), equalTo(0L));
  }

  @Test
  public void aSinkWithThePasswordPublishes() throws Exception {
    RunInfo run = day(28);
    StoreTestData.publish(run, 10, sink(run).withPassword(file(PASSWORD)));
    try (Jedis j = REDIS.client()) {
      j.auth(PASSWORD);
      assertThat(RedisSink.runIdOf(j.get(RedisSink.currentKey(PREFIX))), equalTo(run.runId()));
      assertThat(j.dbSize(), equalTo(14L));
    }
  }
}
