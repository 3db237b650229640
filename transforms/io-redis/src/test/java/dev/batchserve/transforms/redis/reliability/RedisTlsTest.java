package dev.batchserve.transforms.redis.reliability;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import javax.net.ssl.SSLContext;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;

/**
 * {@code withTls(true)} against a Redis that accepts TLS only, with a self-signed certificate: the
 * sink and the reader work when the JVM trusts the certificate (a worker's
 * {@code -Djavax.net.ssl.trustStore}; here the default {@link SSLContext} is swapped for the test),
 * and refuse the server when it does not. Skipped where {@code openssl} is missing.
 */
@RunWith(JUnit4.class)
public class RedisTlsTest {
  @ClassRule public static final RedisServer TLS = RedisServer.tls();

  private static final String PREFIX = "fraud";
  private static final int N = 20;

  @Before
  public void clean() {
    TLS.flushAll();
  }

  private static RedisSink<String> sink(RunInfo run, boolean tls) {
    return RedisSink.<String>to(TLS.host(), TLS.port()).withRunInfo(run).withKeyPrefix(PREFIX).withTls(tls);
  }

  @Test
  public void aTlsSinkPublishesToARedisWhoseCertificateTheJvmTrusts() throws Exception {
    RunInfo run = day(28);
    SSLContext original = SSLContext.getDefault();
    SSLContext.setDefault(TLS.trusting());
    try {
      StoreTestData.publish(run, N, sink(run, true));
      try (RedisPredictionStore store = RedisPredictionStore.builder(
          RedisEndpoint.of(TLS.host(), TLS.port()).withTls(true)).withKeyPrefix(PREFIX).build()) {
        for (int i = 0; i < N; i++) {
          Lookup l = store.get(key(i));
          assertThat(l.servedRunId().get(), equalTo(run.runId()));
          assertThat(l.prediction().get().toJson(key(i)), equalTo(prediction(run, i).toJson(key(i))));
        }
      }
    } finally {
      SSLContext.setDefault(original);
    }
    try (Jedis j = TLS.client()) {
      assertThat(RedisSink.runIdOf(j.get(RedisSink.currentKey(PREFIX))), equalTo(run.runId()));
      // N values, current, versions, run record, attempt marker.
      assertThat(j.dbSize(), equalTo(N + 4L));
    }
  }

  @Test
  public void aTlsSinkRefusesARedisWhoseCertificateTheJvmDoesNotTrust() throws Exception {
    RunInfo run = day(28);
    Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, N, sink(run, true)));
    assertThat(StoreTestData.chain(e), containsString("javax.net.ssl.SSLHandshakeException: PKIX path building failed"));
    try (Jedis j = TLS.client()) {
      assertThat(j.dbSize(), equalTo(0L));
    }
  }

  @Test
  public void aPlainSinkCannotWriteToATlsOnlyRedis() throws Exception {
    RunInfo run = day(28);
    Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, N, sink(run, false)));
    assertThat(StoreTestData.chain(e), containsString("redis.clients.jedis.exceptions.JedisConnectionException"));
    try (Jedis j = TLS.client()) {
      assertThat(j.dbSize(), equalTo(0L));
    }
  }
}
