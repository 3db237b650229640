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
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Re-runs of the run id Redis serves (issue 15, item 1): whatever happens to the re-run, readers
 * resolve every key to exactly the value published before, until a re-run passes every gate and
 * is switched to as a whole; two attempts of one run id at the same time publish once.
 *
 * <p>The re-run writes other values than the served run (score {@code 1000 + i}), so a value
 * written in place would show. Its faults happen in a step the publish waits on
 * ({@code publishAfter}), once Redis holds its writes: a rejected quality gate after all of them,
 * a killed job after some of them.
 */
@RunWith(JUnit4.class)
public class RedisReRunTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();

  private static final String PREFIX = "fraud";
  private static final int N = 200;

  /** Released by the test when the concurrent attempt may go on to its publish. */
  private static volatile CountDownLatch mayPublish;

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private static RedisSink<String> sink(RunInfo run) {
    return RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX);
  }

  /** The re-run's value of key i: the same run id, another score than {@link StoreTestData#prediction}. */
  static Prediction rerun(RunInfo run, int i) {
    return prediction(run, i).toBuilder().scores(new float[] {1000 + i}).build();
  }

  private static List<KV<String, Prediction>> rerunPredictions(RunInfo run) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      out.add(KV.of(key(i), rerun(run, i)));
    }
    return out;
  }

  private static Create.Values<KV<String, Prediction>> createRerun(RunInfo run) {
    return Create.of(rerunPredictions(run)).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
  }

  /** How many values Redis holds (under any key of the prefix) that are the re-run's. */
  static long rerunValuesInRedis(RunInfo run) {
    Set<String> wanted = new HashSet<>();
    for (int i = 0; i < N; i++) {
      wanted.add(rerun(run, i).toJson(key(i)));
    }
    long found = 0;
    try (Jedis j = REDIS.client()) {
      ScanParams match = new ScanParams().match(PREFIX + ":*").count(1000);
      String cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> page = j.scan(cursor, match);
        for (String k : page.getResult()) {
          if ("string".equals(j.type(k)) && wanted.contains(j.get(k))) {
            found++;
          }
        }
        cursor = page.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }
    return found;
  }

  /** A gate the publish waits on: it fails once Redis holds {@code atLeast} of the re-run's values. */
  static final class FailOnceWritten extends DoFn<Long, Long> {
    private final RunInfo run;
    private final long atLeast;
    private final String why;

    FailOnceWritten(RunInfo run, long atLeast, String why) {
      this.run = run;
      this.atLeast = atLeast;
      this.why = why;
    }

    @ProcessElement
    public void process(@Element Long i) throws Exception {
      long deadline = System.nanoTime() + 60_000_000_000L; // bounded: 60 s
      for (long n = rerunValuesInRedis(run); n < atLeast; n = rerunValuesInRedis(run)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the re-run never wrote " + atLeast + " values; Redis holds " + n);
        }
        Thread.sleep(5);
      }
      throw new IllegalStateException(why);
    }
  }

  /** A gate the publish waits on: it passes once the test releases {@link #mayPublish}. */
  static final class AwaitRelease extends DoFn<Long, Long> {
    @ProcessElement
    public void process(@Element Long i, OutputReceiver<Long> out) throws Exception {
      if (!mayPublish.await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the test never released the gate");
      }
      out.output(i);
    }
  }

  /** Every key resolves, through the lookup client, to exactly {@code run}'s stored value. */
  private static void assertEveryKeyResolvesTo(RunInfo run, boolean rerunValues) {
    try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix(PREFIX).build()) {
      int wrong = 0;
      for (int i = 0; i < N; i++) {
        Lookup l = store.get(key(i));
        Prediction want = rerunValues ? rerun(run, i) : prediction(run, i);
        if (l.source() != Lookup.Source.STORE || !l.servedRunId().get().equals(run.runId())
            || !l.prediction().get().toJson(key(i)).equals(want.toJson(key(i)))) {
          wrong++;
        }
      }
      assertThat("keys not resolving to the " + (rerunValues ? "re-run's" : "served") + " value", wrong, equalTo(0));
    }
  }

  private static long dbSize() {
    try (Jedis j = REDIS.client()) {
      return j.dbSize();
    }
  }

  @Test
  public void aReRunOfTheServedRunRejectedByAGateLeavesEveryKeyAtTheServedValue() throws Exception {
    RunInfo run = day(28);
    StoreTestData.publish(run, N, sink(run));

    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollection<KV<String, Prediction>> in = p.apply("Predictions", createRerun(run));
    // The gate judges the whole input, as the circuit breaker does, and rejects the run only once
    // every one of its values is in Redis.
    PCollection<Long> gate = in.apply("InputRead", Count.globally())
        .apply("Breaker", ParDo.of(new FailOnceWritten(run, N, "injected fault: circuit breaker tripped")));
    in.apply("Sink", sink(run).withBatchSize(10).publishAfter(gate));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(StoreTestData.chain(e), containsString("circuit breaker tripped"));

    assertEveryKeyResolvesTo(run, false);
  }

  @Test
  public void aReRunOfTheServedRunKilledMidWriteLeavesEveryKeyAtTheServedValue() throws Exception {
    RunInfo run = day(28);
    StoreTestData.publish(run, N, sink(run));

    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollection<KV<String, Prediction>> in = p.apply("Predictions", createRerun(run));
    PCollection<Long> gate = p.apply("Start", Create.of(1L))
        .apply("Kill", ParDo.of(new FailOnceWritten(run, 50, "injected fault: job killed mid-write")));
    in.apply("Sink", sink(run).withBatchSize(10).publishAfter(gate));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(StoreTestData.chain(e), containsString("job killed mid-write"));

    assertEveryKeyResolvesTo(run, false);
    // And the next attempt still publishes, completely, dropping what the killed one left.
    StoreTestData.publish(run, N, sink(run));
    assertEveryKeyResolvesTo(run, false);
    assertThat(dbSize(), equalTo(N + 4L));
  }

  @Test
  public void aPassingReRunOfTheServedRunReplacesItAsAWholeAndLeavesNoKeyOfTheOldAttempt() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(previous));
    StoreTestData.publish(run, N, sink(run));

    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    p.apply("Predictions", createRerun(run)).apply("Sink", sink(run).withBatchSize(10));
    p.run().waitUntilFinish();

    assertEveryKeyResolvesTo(run, true);
    try (Jedis j = REDIS.client()) {
      String served = j.get(RedisSink.currentKey(PREFIX));
      assertThat(RedisSink.runIdOf(served), equalTo(run.runId()));
      // The versions: the previous run and the re-run; the replaced attempt is gone from them.
      List<String> versions = j.zrange(RedisSink.versionsKey(PREFIX), 0, -1);
      assertThat(versions.size(), equalTo(2));
      assertThat(RedisSink.runIdOf(versions.get(0)), equalTo(previous.runId()));
      assertThat(versions.get(1), equalTo(served));
      // Both runs' values, current, versions, two run records, two attempt registries: the first
      // attempt of the re-run left no key behind.
      assertThat(j.dbSize(), equalTo(2L * N + 6));
    }
  }

  @Test
  public void ofTwoConcurrentAttemptsOfOneRunOnlyTheNewerPublishesAndTheOtherFailsSayingWhy() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    StoreTestData.publish(previous, N, sink(previous));
    long before = dbSize();

    mayPublish = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      // Attempt A writes all its values, then waits at a gate before its publish.
      Pipeline a = Pipeline.create(PipelineOptionsFactory.create());
      PCollection<KV<String, Prediction>> in = a.apply("Predictions", StoreTestData.create(run, N));
      PCollection<Long> gate = in.apply("InputRead", Count.globally()).apply("Gate", ParDo.of(new AwaitRelease()));
      in.apply("Sink", sink(run).withBatchSize(10).publishAfter(gate));
      Future<Exception> attemptA = pool.submit(() -> {
        try {
          a.run().waitUntilFinish();
          return null;
        } catch (Exception e) {
          return e;
        }
      });
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (dbSize() < before + 1 + N) { // its attempt registry and its values
        assertThat("attempt A never wrote its values", System.nanoTime() < deadline, equalTo(true));
        assertThat("attempt A ended early: " + (attemptA.isDone() ? attemptA.get() : ""), attemptA.isDone(),
            equalTo(false));
        Thread.sleep(5);
      }

      // Attempt B of the same run starts meanwhile and runs to the end.
      Pipeline b = Pipeline.create(PipelineOptionsFactory.create());
      b.apply("Predictions", createRerun(run)).apply("Sink", sink(run).withBatchSize(10));
      b.run().waitUntilFinish();
      assertEveryKeyResolvesTo(run, true);

      // A may go on now: it must not publish over B.
      mayPublish.countDown();
      Exception e = attemptA.get(120, TimeUnit.SECONDS);
      assertThat("attempt A published over the newer attempt B", e != null, equalTo(true));
      StoreTestData.awaitQuiet();
      String all = StoreTestData.chain(e);
      assertThat(all, containsString("run " + run.runId() + ": attempt "));
      assertThat(all, containsString("was superseded by the newer attempt "));
      assertThat(all, containsString("127.0.0.1:" + REDIS.port()));
    } finally {
      mayPublish.countDown();
      pool.shutdownNow();
    }
    assertEveryKeyResolvesTo(run, true);
    // The previous run, B's values and the layout: A dropped what it had written.
    assertThat(dbSize(), equalTo(2L * N + 6));
  }
}
