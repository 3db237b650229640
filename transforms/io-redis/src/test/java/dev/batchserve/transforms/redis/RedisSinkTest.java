package dev.batchserve.transforms.redis;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** {@link RedisSink} against a real Redis server. */
@RunWith(JUnit4.class)
public class RedisSinkTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final String PREFIX = "fraud";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private RedisSink<String> sink(RunInfo run) {
    return RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX);
  }

  /** Publishes a run in its own pipeline, as an earlier scheduled run would have. */
  private static void publish(RedisSink<String> sink, RunInfo run, int n) {
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    q.apply(create(run, n)).apply(sink);
    q.run().waitUntilFinish();
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

  /** The namespace {@code <prefix>:current} names: the served attempt's. */
  private static String served(Jedis j) {
    return j.get(RedisSink.currentKey(PREFIX));
  }

  /** The run ids of the published versions, oldest first. */
  private static List<String> versions(Jedis j) {
    List<String> runs = new ArrayList<>();
    for (String ns : j.zrange(RedisSink.versionsKey(PREFIX), 0, -1)) {
      runs.add(RedisSink.runIdOf(ns));
    }
    return runs;
  }

  /** Every key of the run is served with exactly that run's prediction; no other attempt of it has keys. */
  private static void assertServes(Jedis j, RunInfo run, int n) {
    assertThat(RedisSink.runIdOf(served(j)), equalTo(run.runId()));
    assertThat(namespace(j, run.runId()).size(), equalTo(n));
    for (int i = 0; i < n; i++) {
      assertThat(j.get(RedisSink.valueKey(PREFIX, served(j), key(i))), equalTo(prediction(run, i).toJson(key(i))));
    }
  }

  @Test
  public void writesJsonPerKeyUnderTheRunNamespaceAndPublishes() throws Exception {
    RunInfo run = day(28);
    PCollection<String> published = p.apply(create(run, 25)).apply(sink(run).withBatchSize(7)).published();
    PAssert.that(published).containsInAnyOrder(run.runId());
    org.apache.beam.sdk.PipelineResult result = p.run();
    result.waitUntilFinish();

    long written = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> m : result.metrics().queryMetrics(
        org.apache.beam.sdk.metrics.MetricsFilter.builder().addNameFilter(
            org.apache.beam.sdk.metrics.MetricNameFilter.named(RedisSink.METRICS_NAMESPACE, "records_written"))
            .build()).getCounters()) {
      written += m.getCommitted();
    }
    assertThat(written, equalTo(25L));
    try (Jedis j = REDIS.client()) {
      assertServes(j, run, 25);
      // The attempt's own namespace: the run id, then the attempt id (UTC time and a random part).
      assertThat(served(j).matches("fraud-daily-20261128~\\d{8}T\\d{6}Z-[0-9a-f]{8}"), equalTo(true));
      String raw = j.get("fraud:" + served(j) + ":acct-0003");
      JsonNode n = JSON.readTree(raw);
      assertThat(n.get("key").asText(), equalTo("acct-0003"));
      assertThat(n.get("run_id").asText(), equalTo("fraud-daily-20261128"));
      assertThat(n.get("label").asText(), equalTo("fraud"));
      assertThat(n.get("prediction_timestamp").asText(), equalTo("2026-11-29T00:00:00Z"));
      assertThat(j.zrange(RedisSink.versionsKey(PREFIX), 0, -1), equalTo(List.of(served(j))));
      assertThat(j.hget(RedisSink.runKey(PREFIX, run.runId()), "records"), equalTo("25"));
      assertThat(j.hget(RedisSink.runKey(PREFIX, run.runId()), "namespace"), equalTo(served(j)));
      // Nothing but the layout: 25 values, current, versions, run meta, attempt registry.
      assertThat(j.dbSize(), equalTo(29L));
    }
  }

  @Test
  public void defaultTtlIsOneAndAHalfIntervals() {
    RunInfo run = day(28);
    p.apply(create(run, 3)).apply(sink(run));
    p.run().waitUntilFinish();

    assertThat(sink(run).effectiveTtl(), equalTo(Duration.ofHours(36)));
    try (Jedis j = REDIS.client()) {
      for (int i = 0; i < 3; i++) {
        long pttl = j.pttl(RedisSink.valueKey(PREFIX, served(j), key(i)));
        assertThat(pttl, lessThanOrEqualTo(Duration.ofHours(36).toMillis()));
        assertThat(pttl, greaterThan(Duration.ofHours(35).toMillis()));
      }
      // The alias outlives any one version: it never expires.
      assertThat(j.pttl(RedisSink.currentKey(PREFIX)), equalTo(-1L));
    }
  }

  @Test
  public void configuredTtlIsSetOnEveryKey() {
    RunInfo run = day(28);
    p.apply(create(run, 3)).apply(sink(run).withTtl(Duration.ofMinutes(90)));
    p.run().waitUntilFinish();

    try (Jedis j = REDIS.client()) {
      for (int i = 0; i < 3; i++) {
        long pttl = j.pttl(RedisSink.valueKey(PREFIX, served(j), key(i)));
        assertThat(pttl, lessThanOrEqualTo(Duration.ofMinutes(90).toMillis()));
        assertThat(pttl, greaterThan(Duration.ofMinutes(89).toMillis()));
      }
    }
  }

  /**
   * A sink whose ACL user may write but not run scripts: every write lands (publish waits for all
   * of them), then the publish step fails in Redis itself. A deterministic fault after all writes.
   */
  private RedisSink<String> sinkThatCannotPublish(RunInfo run) throws Exception {
    Path secret = tmp.newFile().toPath();
    Files.write(secret, "writer-pw".getBytes(StandardCharsets.UTF_8));
    try (Jedis admin = REDIS.client()) {
      admin.aclSetUser("writer", "reset", "on", ">writer-pw", "~*", "+@all", "-@scripting");
    }
    return sink(run).withUser("writer").withPassword(Secret.fromFile(secret.toString()));
  }

  @Test
  public void aRunThatFailsAfterAllItsWritesLeavesThePreviousRunServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, 20);

    p.apply(create(run, 20)).apply(sinkThatCannotPublish(run));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(String.valueOf(e.getMessage()), containsString("NOPERM"));
    // Redis' own answer does not say which server refused: the sink's message does.
    assertThat(String.valueOf(e.getMessage()), containsString(
        "Redis 127.0.0.1:" + REDIS.port() + " (db 0): publishing attempt "));

    try (Jedis j = REDIS.client()) {
      // Every write of the failed run landed, and still nobody sees it.
      assertThat(namespace(j, run.runId()).size(), equalTo(20));
      assertServes(j, previous, 20);
      assertThat(versions(j), equalTo(List.of(previous.runId())));
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

    try (Jedis j = REDIS.client()) {
      assertServes(j, previous, 20);
      assertThat(versions(j), equalTo(List.of(previous.runId())));
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

    try (Jedis j = REDIS.client()) {
      assertServes(j, previous, 20);
    }
  }

  @Test
  public void aReRunOfTheSameRunIdAddsNoKeys() {
    RunInfo run = day(28);
    publish(sink(run), run, 30);
    publish(sink(run), run, 30);

    try (Jedis j = REDIS.client()) {
      assertServes(j, run, 30);
      assertThat(versions(j), equalTo(List.of(run.runId())));
      assertThat(j.dbSize(), equalTo(34L));
    }
  }

  @Test
  public void aReRunAfterAFailedAttemptDropsTheAttemptsLeftovers() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, 10);
    // A failed attempt that wrote 40 keys.
    p.apply(create(run, 40)).apply(sinkThatCannotPublish(run));
    StoreTestData.runExpectingFailure(p);
    try (Jedis j = REDIS.client()) {
      assertThat(namespace(j, run.runId()).size(), equalTo(40));
    }

    // The re-run has only 25 records: none of the attempt's other 15 keys may survive.
    publish(sink(run), run, 25);
    try (Jedis j = REDIS.client()) {
      assertServes(j, run, 25);
    }
  }

  /** The namespace of the run's published attempt, as its run hash records it. */
  private static String publishedNamespace(Jedis j, RunInfo run) {
    return j.hget(RedisSink.runKey(PREFIX, run.runId()), "namespace");
  }

  @Test
  public void aBackfillPublishesItsOwnRunAndLeavesCurrentOnTheNewerOne() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(sink(today), today, 10);
    String served;
    try (Jedis j = REDIS.client()) {
      served = served(j);
    }

    PCollection<String> published = p.apply(create(yesterday, 12)).apply(sink(yesterday)).published();
    PAssert.that(published).containsInAnyOrder(yesterday.runId());
    p.run().waitUntilFinish();

    try (Jedis j = REDIS.client()) {
      assertThat(served(j), equalTo(served));
      assertServes(j, today, 10);
      // Its own run: a complete namespace, recorded with its timestamp and publish time.
      String ns = publishedNamespace(j, yesterday);
      assertThat(RedisSink.runIdOf(ns), equalTo(yesterday.runId()));
      assertThat(namespace(j, yesterday.runId()).size(), equalTo(12));
      assertThat(j.get(RedisSink.valueKey(PREFIX, ns, key(3))), equalTo(prediction(yesterday, 3).toJson(key(3))));
      assertThat(j.hget(RedisSink.runKey(PREFIX, yesterday.runId()), "records"), equalTo("12"));
      assertThat(Long.parseLong(j.hget(RedisSink.runKey(PREFIX, yesterday.runId()), "published_at")),
          greaterThan(System.currentTimeMillis() - 60_000));
      assertThat(versions(j), equalTo(List.of(yesterday.runId(), today.runId())));
    }
  }

  @Test
  public void aForcedBackfillMovesCurrentBackToIt() {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(sink(today), today, 10);
    publish(sink(yesterday).withForceLatest(true), yesterday, 12);
    try (Jedis j = REDIS.client()) {
      assertServes(j, yesterday, 12);
      assertThat(versions(j), equalTo(List.of(yesterday.runId(), today.runId())));
    }
    // The next scheduled run moves it forward again, past both.
    publish(sink(day(29)), day(29), 5);
    try (Jedis j = REDIS.client()) {
      assertServes(j, day(29), 5);
    }
  }

  @Test
  public void aBackfillOlderThanEveryVersionNeverTrimsTheServedOne() {
    publish(sink(day(27)), day(27), 5);
    publish(sink(day(28)), day(28), 5);
    publish(sink(day(24)).withForceLatest(true), day(24), 5); // served, and the oldest version
    publish(sink(day(23)), day(23), 5); // a backfill older still: trimming must skip the served namespace
    try (Jedis j = REDIS.client()) {
      assertServes(j, day(24), 5);
      assertThat(namespace(j, day(23).runId()).size(), equalTo(5));
    }
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneIsABackfill() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(sink(day(26)), day(26), 4);
    // Yesterday's run starts first, writes, and is held before its publish ...
    Pipeline older = Pipeline.create(PipelineOptionsFactory.create());
    older.apply(create(yesterday, 12)).apply(sink(yesterday).publishAfter(StoreTestData.HeldGate.in(older, "redis-27")));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    // ... today's run starts later and publishes first.
    publish(sink(today), today, 10);
    StoreTestData.HeldGate.open("redis-27");
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);

    try (Jedis j = REDIS.client()) {
      assertServes(j, today, 10);
      assertThat(namespace(j, yesterday.runId()).size(), equalTo(12));
      assertThat(RedisSink.runIdOf(publishedNamespace(j, yesterday)), equalTo(yesterday.runId()));
    }
  }

  @Test
  public void keepsTheNewestVersionsAndDropsTheKeysOfOlderOnes() {
    for (int d = 25; d <= 28; d++) {
      publish(sink(day(d)).withKeepVersions(2), day(d), 15);
    }
    try (Jedis j = REDIS.client()) {
      assertServes(j, day(28), 15);
      assertThat(versions(j), equalTo(List.of(day(27).runId(), day(28).runId())));
      assertThat(namespace(j, day(27).runId()).size(), equalTo(15));
      assertThat(namespace(j, day(26).runId()), empty());
      assertThat(namespace(j, day(25).runId()), empty());
      assertThat(j.exists(RedisSink.runKey(PREFIX, day(25).runId())), equalTo(false));
      assertThat(j.exists(RedisSink.attemptKey(PREFIX, day(25).runId())), equalTo(false));
    }
  }

  @Test
  public void aConcurrentReaderOnlyEverSeesOneCompleteRun() throws Exception {
    int n = 200;
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(sink(previous), previous, n);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger passes = new AtomicInteger();
    List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    Set<String> seenRuns = java.util.Collections.synchronizedSet(new TreeSet<>());
    Thread reader = new Thread(() -> {
      try (Jedis j = REDIS.client()) {
        // Bounded: at most 100000 passes, and it stops when told.
        while (!stop.get() && passes.get() < 100_000) {
          String current = j.get(RedisSink.currentKey(PREFIX));
          seenRuns.add(RedisSink.runIdOf(current));
          for (int i = 0; i < n; i++) {
            String v = j.get(RedisSink.valueKey(PREFIX, current, key(i)));
            if (v == null) {
              violations.add(current + " missing " + key(i));
            } else if (!JSON.readTree(v).get("run_id").asText().equals(RedisSink.runIdOf(current))) {
              violations.add(current + " served " + v);
            }
          }
          passes.incrementAndGet();
        }
      } catch (Exception e) {
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
    try (Jedis j = REDIS.client()) {
      assertServes(j, run, n);
    }
  }

  @Test
  public void readsThePasswordFromASecretsFile() throws Exception {
    Path secret = tmp.newFile("redis-password").toPath();
    Files.write(secret, "s3cret-pw\n".getBytes(StandardCharsets.UTF_8));
    RunInfo run = day(28);
    try (Jedis admin = REDIS.client()) {
      admin.configSet("requirepass", "s3cret-pw");
    }
    try {
      RedisSink<String> sink = sink(run).withPassword(Secret.fromFile(secret.toString()));
      p.apply(create(run, 5)).apply(sink);
      p.run().waitUntilFinish();
      try (Jedis j = REDIS.client()) {
        j.auth("s3cret-pw");
        assertServes(j, run, 5);
      }
      assertThat(RedisEndpoint.of("h", 1).withPassword(Secret.fromFile(secret.toString())).toString(),
          not(containsString("s3cret")));
    } finally {
      try (Jedis admin = REDIS.client()) {
        admin.auth("s3cret-pw");
        admin.configSet("requirepass", "");
      }
    }
  }

  /**
   * What a version before attempt namespaces left: {@code <p>:<run_id>:<key>} values, {@code current}
   * holding a plain run id, and a string marker at {@code <p>:attempt:<run_id>}.
   */
  private static void writeLegacyRun(Jedis j, RunInfo run, int n, boolean served) {
    for (int i = 0; i < n; i++) {
      j.set(PREFIX + ":" + run.runId() + ":" + key(i), prediction(run, i).toJson(key(i)));
    }
    j.set(RedisSink.attemptKey(PREFIX, run.runId()), "1");
    if (served) {
      j.set(RedisSink.currentKey(PREFIX), run.runId());
      j.zadd(RedisSink.versionsKey(PREFIX), run.predictionTimestamp().toEpochMilli(), run.runId());
      j.hset(RedisSink.runKey(PREFIX, run.runId()), "records", Integer.toString(n));
    }
  }

  @Test
  public void theLayoutBeforeAttemptNamespacesIsReadAndReplacedByTheNextAttempts() {
    RunInfo served = day(28);
    RunInfo failed = day(29);
    try (Jedis j = REDIS.client()) {
      writeLegacyRun(j, served, 10, true);
      writeLegacyRun(j, failed, 5, false);
    }
    try (dev.batchserve.transforms.redis.RedisPredictionStore store =
        dev.batchserve.transforms.redis.RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
            .withKeyPrefix(PREFIX).build()) {
      dev.batchserve.transforms.serving.Lookup l = store.get(key(3));
      assertThat(l.servedRunId().get(), equalTo(served.runId()));
      assertThat(l.prediction().get(), equalTo(prediction(served, 3)));
    }

    // A re-run of the served run: its legacy keys go once the new attempt is switched to.
    publish(sink(served), served, 10);
    try (Jedis j = REDIS.client()) {
      assertServes(j, served, 10);
      assertThat(versions(j), equalTo(List.of(served.runId())));
      assertThat(j.exists(PREFIX + ":" + served.runId() + ":" + key(0)), equalTo(false));
      // 10 values, current, versions, run meta, registry; the failed run's 5 values and marker.
      assertThat(j.dbSize(), equalTo(20L));
    }

    // The failed run's next attempt drops what the legacy attempt left.
    publish(sink(failed), failed, 10);
    try (Jedis j = REDIS.client()) {
      assertServes(j, failed, 10);
      assertThat(versions(j), equalTo(List.of(served.runId(), failed.runId())));
      assertThat(j.type(RedisSink.attemptKey(PREFIX, failed.runId())), equalTo("zset"));
      assertThat(j.dbSize(), equalTo(2L * 10 + 6));
    }
  }

  @Test
  public void aSinkThatCannotReachRedisNamesHostAndPortButNeverThePassword() throws Exception {
    int closed;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Path secret = tmp.newFile().toPath();
    Files.write(secret, "closed-Secret-41c0".getBytes(StandardCharsets.UTF_8));
    RunInfo run = day(28);
    p.apply(create(run, 5)).apply(RedisSink.<String>to("127.0.0.1", closed).withRunInfo(run)
        .withKeyPrefix(PREFIX).withPassword(Secret.fromFile(secret.toString())));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(e.getMessage(), containsString("Redis 127.0.0.1:" + closed + " (db 0): "));
    java.io.StringWriter trace = new java.io.StringWriter();
    e.printStackTrace(new java.io.PrintWriter(trace));
    assertThat(trace.toString(), not(containsString("closed-Secret")));
  }

  @Test
  public void aMissingPasswordVariableIsNamedNotGuessed() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Secret.fromEnv("BATCHSERVE_TEST_UNSET_PASSWORD").resolve());
    assertThat(e.getMessage(), equalTo("password environment variable BATCHSERVE_TEST_UNSET_PASSWORD is not set"));
  }

  @Test
  public void validatesItsSettings() {
    RedisSink<String> s = RedisSink.to("h", 6379);
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withKeyPrefix("a*b")).getMessage(),
        equalTo("keyPrefix must match [A-Za-z0-9_.:/-]{1,200}, but was 'a*b'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withTtl(Duration.ZERO)).getMessage(),
        equalTo("ttl must be positive, but was PT0S"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withKeepVersions(0)).getMessage(),
        equalTo("keepVersions must be >= 1, but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withBatchSize(0)).getMessage(),
        equalTo("batchSize must be >= 1, but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> RedisSink.to("h", 0)).getMessage(),
        equalTo("port must be in [1, 65535], but was 0"));
    assertThat(assertThrows(IllegalStateException.class, s::effectiveTtl).getMessage(),
        equalTo("RedisSink needs withRunInfo(run)"));
  }

  @Test
  public void needsARunInfo() {
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    PCollection<KV<String, Prediction>> in = q.apply(create(day(28), 1));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> in.apply(RedisSink.<String>to("h", 6379)));
    assertThat(e.getMessage(), equalTo("RedisSink needs withRunInfo(run)"));
    assertThat(RedisSink.<String>to("h", 6379).withRunInfo(day(28)).withTls(true).withDatabase(3),
        not(nullValue()));
  }
}
