package dev.batchserve.transforms.redis.reliability;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;

import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.After;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Redis SIGKILLed while a run is being written, or after its last write and right before its
 * switch: readers keep resolving the previous run (or, when Redis lost everything, nothing at all),
 * never a half-written one, and a re-run of the killed run publishes it completely.
 *
 * <p>The kill happens in a step the publish waits on ({@code publishAfter}), once Redis holds 50 of
 * the run's 500 keys, or all of them, so the switch can never come first.
 */
@RunWith(JUnit4.class)
public class RedisCrashTest {
  /** Persists every acknowledged write (AOF, fsync always): a restart brings back what was confirmed. */
  @ClassRule public static final RedisServer PERSISTENT = RedisServer.appendOnly();
  /** Persistence off: a restart brings back nothing. */
  @ClassRule public static final RedisServer EPHEMERAL = new RedisServer();

  private static final String PREFIX = "fraud";
  private static final int N = 500;

  /** The server the gate kills; static because the direct runner runs the gate in this JVM. */
  private static volatile RedisServer target;

  @After
  public void restartAndClean() throws Exception {
    for (RedisServer r : List.of(PERSISTENT, EPHEMERAL)) {
      if (!r.isAlive()) {
        r.restart();
      }
      r.flushAll();
    }
  }

  private static RedisSink<String> sink(RedisServer redis, RunInfo run) {
    return RedisSink.<String>to(redis.host(), redis.port()).withRunInfo(run).withKeyPrefix(PREFIX);
  }

  /**
   * SIGKILLs {@link #target} once the database holds {@code atLeast} more keys than {@code base}
   * (the run's attempt marker, then its values), then lets the publish go ahead.
   */
  static final class KillRedisOnceWritten extends DoFn<Long, Long> {
    private final long base;
    private final long atLeast;

    KillRedisOnceWritten(long base, long atLeast) {
      this.base = base;
      this.atLeast = atLeast;
    }

    @ProcessElement
    public void process(@Element Long i, OutputReceiver<Long> out) throws Exception {
      long deadline = System.nanoTime() + 60_000_000_000L; // bounded: 60 s
      try (Jedis j = target.client()) {
        for (long size = j.dbSize(); size < base + 1 + atLeast; size = j.dbSize()) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the run never wrote " + atLeast + " keys: the database holds "
                + size + ", " + base + " before the run");
          }
          Thread.sleep(1);
        }
      }
      target.kill();
      out.output(i);
    }
  }

  /**
   * Runs {@code run} with the kill gate; the pipeline must fail. The gate starts at once, or, with
   * {@code afterInputRead}, once the whole input was read: the direct runner reads no more of a
   * {@code Create} while another step is busy, so a gate that waits for every write must not start
   * before that.
   */
  private static Exception runKilledAfter(RedisServer redis, RunInfo run, long atLeast, boolean afterInputRead)
      throws Exception {
    long base;
    try (Jedis j = redis.client()) {
      base = j.dbSize();
    }
    target = redis;
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollection<KV<String, Prediction>> predictions = p.apply("Predictions", StoreTestData.create(run, N));
    PCollection<Long> start = afterInputRead
        ? predictions.apply("InputRead", Count.globally())
        : p.apply("Start", Create.of(1L));
    PCollection<Long> gate = start.apply("KillRedis", ParDo.of(new KillRedisOnceWritten(base, atLeast)));
    // Small batches: many round trips, so that the kill lands between them.
    predictions.apply("Sink", sink(redis, run).withBatchSize(10).publishAfter(gate));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(StoreTestData.chain(e), redis.isAlive(), equalTo(false));
    // The client's "Unexpected end of stream" names no server: the sink's message does.
    assertThat(StoreTestData.chain(e), containsString("Redis " + redis.host() + ":" + redis.port() + " (db 0): "));
    return e;
  }

  private static Set<String> namespace(Jedis j, String runId) {
    Set<String> keys = new TreeSet<>();
    // Every attempt of the run: <prefix>:<run_id>~<attempt_id>:<key>.
    ScanParams match = new ScanParams().match(RedisSink.valueKey(PREFIX, RedisSink.namespace(runId, "*"), "*"))
        .count(1000);
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = j.scan(cursor, match);
      keys.addAll(page.getResult());
      cursor = page.getCursor();
    } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    return keys;
  }

  /** What a reader resolves for every key: exactly {@code run}'s prediction, from {@code run}. */
  private static void assertReadersResolve(RedisServer redis, RunInfo run) {
    try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of(redis.host(), redis.port()))
        .withKeyPrefix(PREFIX).build()) {
      for (int i = 0; i < N; i++) {
        Lookup l = store.get(key(i));
        assertThat(l.source(), equalTo(Lookup.Source.STORE));
        assertThat(l.servedRunId().get(), equalTo(run.runId()));
        assertThat(l.prediction().get().toJson(key(i)), equalTo(prediction(run, i).toJson(key(i))));
      }
    }
  }

  /** The run ids of the published versions, oldest first. */
  private static List<String> versions(Jedis j) {
    List<String> runs = new java.util.ArrayList<>();
    for (String ns : j.zrange(RedisSink.versionsKey(PREFIX), 0, -1)) {
      runs.add(RedisSink.runIdOf(ns));
    }
    return runs;
  }

  /** The run id {@code <p>:current} names (it holds the served attempt's namespace). */
  private static String servedRun(Jedis j) {
    String ns = j.get(RedisSink.currentKey(PREFIX));
    return ns == null ? null : RedisSink.runIdOf(ns);
  }

  /** The namespaces of the run's attempts hold only that run's exact values; returns how many. */
  private static int assertOnlyExactValues(Jedis j, RunInfo run) {
    Set<String> keys = namespace(j, run.runId());
    for (String k : keys) {
      String key = k.substring(k.lastIndexOf(':') + 1);
      int i = Integer.parseInt(key.substring("acct-".length()));
      assertThat(k, j.get(k), equalTo(prediction(run, i).toJson(key)));
    }
    return keys.size();
  }

  /** The re-run of {@code run} is served completely, next to {@code previous}. */
  private static void assertReRunServed(RedisServer redis, RunInfo previous, RunInfo run) {
    StoreTestData.publish(run, N, sink(redis, run));
    try (Jedis j = redis.client()) {
      assertThat(servedRun(j), equalTo(run.runId()));
      assertThat(versions(j), equalTo(List.of(previous.runId(), run.runId())));
      assertThat(namespace(j, run.runId()).size(), equalTo(N));
      assertThat(assertOnlyExactValues(j, run), equalTo(N));
      // Both runs' values, current, versions, two run records, two attempt registries: nothing else
      // (the killed attempt's values were dropped when the re-run started).
      assertThat(j.dbSize(), equalTo(2L * N + 6));
    }
    assertReadersResolve(redis, run);
  }

  @Test
  public void redisKilledWhileARunIsWrittenKeepsServingThePreviousRunAndTheReRunPublishes() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(PERSISTENT, previous));

    Exception e = runKilledAfter(PERSISTENT, run, 50, false);
    assertThat(StoreTestData.chain(e), containsString("JedisConnectionException"));
    PERSISTENT.restart();

    try (Jedis j = PERSISTENT.client()) {
      assertThat(servedRun(j), equalTo(previous.runId()));
      assertThat(versions(j), equalTo(List.of(previous.runId())));
      assertThat(j.exists(RedisSink.runKey(PREFIX, run.runId())), equalTo(false));
      assertThat(assertOnlyExactValues(j, previous), equalTo(N));
      // Part of the killed run survived (everything Redis confirmed was fsynced), and nobody sees it.
      int survived = assertOnlyExactValues(j, run);
      assertThat(survived, greaterThanOrEqualTo(50));
      assertThat(j.exists(RedisSink.attemptKey(PREFIX, run.runId())), equalTo(true));
    }
    assertReadersResolve(PERSISTENT, previous);

    assertReRunServed(PERSISTENT, previous, run);
  }

  @Test
  public void redisKilledRightBeforeTheSwitchKeepsServingThePreviousRunAndTheReRunPublishes() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(PERSISTENT, previous));

    // Every write is confirmed before the kill, and the publish waits for it.
    Exception e = runKilledAfter(PERSISTENT, run, N, true);
    assertThat(StoreTestData.chain(e), containsString("JedisConnectionException"));
    PERSISTENT.restart();

    try (Jedis j = PERSISTENT.client()) {
      assertThat(servedRun(j), equalTo(previous.runId()));
      assertThat(versions(j), equalTo(List.of(previous.runId())));
      assertThat(j.exists(RedisSink.runKey(PREFIX, run.runId())), equalTo(false));
      assertThat(assertOnlyExactValues(j, previous), equalTo(N));
      // The whole killed run survived the restart, and nobody sees it.
      assertThat(assertOnlyExactValues(j, run), equalTo(N));
    }
    assertReadersResolve(PERSISTENT, previous);

    assertReRunServed(PERSISTENT, previous, run);
  }

  @Test
  public void redisThatLostItsDataWhenKilledServesNothingHalfWrittenAndTheReRunPublishes() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(EPHEMERAL, previous));

    Exception e = runKilledAfter(EPHEMERAL, run, 50, false);
    assertThat(StoreTestData.chain(e), containsString("JedisConnectionException"));
    EPHEMERAL.restart();

    try (Jedis j = EPHEMERAL.client()) {
      assertThat(servedRun(j), nullValue());
      assertThat(j.dbSize(), equalTo(0L));
    }
    try (RedisPredictionStore store = RedisPredictionStore.builder(
        RedisEndpoint.of(EPHEMERAL.host(), EPHEMERAL.port())).withKeyPrefix(PREFIX).build()) {
      for (int i = 0; i < N; i++) {
        Lookup l = store.get(key(i));
        assertThat(l.source(), equalTo(Lookup.Source.FALLBACK));
        assertThat(l.fallbackReason().get(), equalTo(RedisPredictionStore.NO_PUBLISHED_RUN));
      }
    }

    // The re-run publishes into the empty server: it alone is served.
    StoreTestData.publish(run, N, sink(EPHEMERAL, run));
    try (Jedis j = EPHEMERAL.client()) {
      assertThat(servedRun(j), equalTo(run.runId()));
      assertThat(versions(j), equalTo(List.of(run.runId())));
      assertThat(assertOnlyExactValues(j, run), equalTo(N));
      assertThat(j.dbSize(), equalTo(N + 4L));
    }
    assertReadersResolve(EPHEMERAL, run);
  }
}
