package dev.batchserve.transforms.serving;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;

import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.sink.RedisEndpoint;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link RedisPredictionStore} reading what the Redis sink published. */
@RunWith(JUnit4.class)
public class RedisPredictionStoreTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static final String PREFIX = "churn";
  private static final Instant NOW = Instant.parse("2026-11-29T06:00:00Z");

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private static RunInfo day(int d) {
    return RunInfo.of("churn", LocalDate.of(2026, 11, d), RunInfo.Interval.DAILY);
  }

  private static Prediction prediction(RunInfo run, int i) {
    return Prediction.builder()
        .scores(new float[] {run.runDate().getDayOfMonth() + i / 1000f, 0.25f})
        .items(List.of("stay", "leave"))
        .label(i % 2 == 0 ? "stay" : null)
        .confidence(i % 2 == 0 ? 0.8 : null)
        .model("churn-gbt", "12")
        .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
        .runId(run.runId())
        .build();
  }

  private static String key(int i) {
    return "cust-" + i;
  }

  private static void publish(RunInfo run, int n, int keepVersions) {
    List<KV<String, Prediction>> in = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      in.add(KV.of(key(i), prediction(run, i)));
    }
    publish(run, in, keepVersions);
  }

  private static void publish(RunInfo run, List<KV<String, Prediction>> in, int keepVersions) {
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    q.apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
        .apply(SinkWithMetadata.<String>redis(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX)
            .withKeepVersions(keepVersions).withBatchSize(7));
    q.run().waitUntilFinish();
  }

  private static RedisPredictionStore.Builder store() {
    return RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix(PREFIX).withClock(Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  public void getReturnsTheServedPredictionWithItsMetadataAndAge() {
    Instant before = Instant.ofEpochMilli(System.currentTimeMillis());
    publish(day(28), 5, 2);
    Instant after = Instant.now();
    // Six hours after the publish: the age counts from it, not from the prediction timestamp.
    try (RedisPredictionStore s = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix(PREFIX).withClock(Clock.fixed(after.plus(Duration.ofHours(6)), ZoneOffset.UTC)).build()) {
      Lookup l = s.get(key(2));
      assertThat(l.source(), equalTo(Lookup.Source.STORE));
      assertThat(l.prediction().get(), equalTo(prediction(day(28), 2)));
      assertThat(l.servedRunId().get(), equalTo("churn-daily-20261128"));
      Instant publishedAt = l.publishedAt().get();
      assertThat(publishedAt.isBefore(before), equalTo(false));
      assertThat(publishedAt.isAfter(after), equalTo(false));
      assertThat(l.age().get(), equalTo(Duration.between(publishedAt, after.plus(Duration.ofHours(6)))));
      assertThat(l.fallbackReason().isPresent(), equalTo(false));
    }
    // A reader whose clock is behind the writer's sees age zero, never a negative one.
    try (RedisPredictionStore s = store().build()) {
      assertThat(s.get(key(2)).age().get(), equalTo(Duration.ZERO));
    }
  }

  @Test
  public void aRunWhoseInputWindowEndsInTheFutureStillHasAPositiveAge() throws Exception {
    // Today's run: its prediction timestamp (the end of its window) is tomorrow.
    RunInfo today = RunInfo.of("churn", java.time.LocalDate.now(ZoneOffset.UTC), RunInfo.Interval.DAILY);
    publish(today, 3, 2);
    Thread.sleep(1100);
    try (RedisPredictionStore s = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix(PREFIX).build()) {
      Lookup l = s.get(key(1));
      assertThat(l.source(), equalTo(Lookup.Source.STORE));
      assertThat(l.age().get().getSeconds(), org.hamcrest.Matchers.greaterThanOrEqualTo(1L));
      assertThat(l.age().get().getSeconds(), org.hamcrest.Matchers.lessThan(120L));
    }
  }

  @Test
  public void aBackfillLeavesTheLookupOnTheNewerRun() {
    publish(day(28), 5, 2);
    publish(day(27), 5, 2);
    try (RedisPredictionStore s = store().build()) {
      Lookup l = s.get(key(2));
      assertThat(l.servedRunId().get(), equalTo("churn-daily-20261128"));
      assertThat(l.prediction().get(), equalTo(prediction(day(28), 2)));
    }
  }

  @Test
  public void aMissingKeyOrStoreIsAFallbackThatSaysWhy() {
    try (RedisPredictionStore s = store().build()) {
      Lookup none = s.get(key(1));
      assertThat(none.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(none.fallbackReason().get(), equalTo("no_published_run"));
      assertThat(none.servedRunId().isPresent(), equalTo(false));

      publish(day(28), 3, 2);
      Lookup missing = s.get("cust-unknown");
      assertThat(missing.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(missing.fallbackReason().get(), equalTo("not_found"));
      assertThat(missing.servedRunId().get(), equalTo("churn-daily-20261128"));
      assertThat(missing.prediction().isPresent(), equalTo(false));
      assertThat(missing.age().isPresent(), equalTo(false));
    }
  }

  @Test
  public void getOrComputePredictsMissingKeysWithTheBatchSpecAndModel() throws Exception {
    publish(day(28), 3, 2);
    Path model = Path.of(TestFixtures.linearModel(TMP.newFolder("lin").toPath(), List.of("a", "b", "c")));
    List<Map<String, Object>> training = new ArrayList<>();
    training.add(Map.of("a", 1.0, "b", 2.0, "c", 3.0));
    training.add(Map.of("a", 0.0, "b", 1.0, "c", 5.0));
    FeatureSpec spec = TestFixtures.passthroughSpec(training);

    try (RedisPredictionStore s = store().withModel(spec, model).build()) {
      // A stored key is served from the store, features or not.
      Lookup stored = s.getOrCompute(key(1), Map.of("a", 9.0, "b", 9.0, "c", 9.0));
      assertThat(stored.source(), equalTo(Lookup.Source.STORE));
      assertThat(stored.prediction().get(), equalTo(prediction(day(28), 1)));

      Lookup computed = s.getOrCompute("cust-new", Map.of("a", 1.5, "b", -2.0, "c", 0.25));
      assertThat(computed.source(), equalTo(Lookup.Source.COMPUTED));
      assertThat(computed.servedRunId().get(), equalTo("churn-daily-20261128"));
      assertThat(computed.computedBecause().get(), equalTo("not_found"));
      assertThat(computed.age().get(), equalTo(Duration.ZERO));
      assertThat(computed.prediction().get(), equalTo(Prediction.builder()
          .scores(new float[] {TestFixtures.linearScore(1.5f, -2.0f, 0.25f)})
          .model("lin", "7")
          .predictionTimestampMillis(NOW.toEpochMilli())
          .runId("on-demand")
          .build()));

      Map<String, Object> noA = new HashMap<>();
      noA.put("b", 1.0);
      noA.put("c", 2.0);
      Lookup invalid = s.getOrCompute("cust-bad", noA);
      assertThat(invalid.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(invalid.fallbackReason().get().startsWith("features_invalid: "), equalTo(true));
    }
  }

  /** A fallback the batch job stored for a key: what the model would say about the features, if it can. */
  private static Prediction storedFallback(RunInfo run, String reason) {
    return Prediction.builder()
        .scores(new float[0])
        .model("churn-gbt", "12")
        .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
        .runId(run.runId())
        .fallbackReason(reason)
        .build();
  }

  @Test
  public void getOrComputePredictsKeysWhoseStoredRowIsAFallbackAndSaysWhy() throws Exception {
    RunInfo run = day(28);
    publish(run, List.of(KV.of("cust-cold", storedFallback(run, "cold_start")),
        KV.of("cust-dup", storedFallback(run, "duplicate_key")), KV.of(key(1), prediction(run, 1))), 2);
    Path model = Path.of(TestFixtures.linearModel(TMP.newFolder("lin-fallback").toPath(), List.of("a", "b", "c")));
    FeatureSpec spec = TestFixtures.passthroughSpec(List.of(Map.<String, Object>of("a", 1.0, "b", 2.0, "c", 3.0),
        Map.<String, Object>of("a", 0.0, "b", 1.0, "c", 5.0)));
    Map<String, Object> features = Map.of("a", 1.5, "b", -2.0, "c", 0.25);
    Prediction onDemand = Prediction.builder()
        .scores(new float[] {TestFixtures.linearScore(1.5f, -2.0f, 0.25f)})
        .model("lin", "7")
        .predictionTimestampMillis(NOW.toEpochMilli())
        .runId("on-demand")
        .build();

    try (RedisPredictionStore s = store().withModel(spec, model).build()) {
      Lookup cold = s.getOrCompute("cust-cold", features);
      assertThat(cold.toString(), cold.source(), equalTo(Lookup.Source.COMPUTED));
      assertThat(cold.computedBecause().get(), equalTo("cold_start"));
      assertThat(cold.prediction().get(), equalTo(onDemand));
      assertThat(cold.servedRunId().get(), equalTo("churn-daily-20261128"));
      Lookup dup = s.getOrCompute("cust-dup", features);
      assertThat(dup.source(), equalTo(Lookup.Source.COMPUTED));
      assertThat(dup.computedBecause().get(), equalTo("duplicate_key"));

      // No features, or features the spec rejects: the stored fallback, as the batch job wrote it.
      for (Map<String, ?> none : java.util.Arrays.<Map<String, ?>>asList(Map.of(), null, Map.of("b", 1.0))) {
        Lookup stored = s.getOrCompute("cust-cold", none);
        assertThat(stored.source(), equalTo(Lookup.Source.STORE));
        assertThat(stored.prediction().get(), equalTo(storedFallback(run, "cold_start")));
        assertThat(stored.computedBecause().isPresent(), equalTo(false));
      }
      // A stored model prediction is never recomputed.
      Lookup model1 = s.getOrCompute(key(1), features);
      assertThat(model1.source(), equalTo(Lookup.Source.STORE));
      assertThat(model1.prediction().get(), equalTo(prediction(run, 1)));
    }
    // Without a model there is nothing to compute with: the stored fallback.
    try (RedisPredictionStore s = store().build()) {
      assertThat(s.getOrCompute("cust-cold", features).prediction().get(), equalTo(storedFallback(run, "cold_start")));
    }
  }

  @Test
  public void aStoreThatCannotReachRedisNamesHostAndPortButNeverThePassword() throws Exception {
    int closed;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Path secret = TMP.newFile().toPath();
    java.nio.file.Files.writeString(secret, "closed-Secret-8d1e\n");
    try (RedisPredictionStore s = RedisPredictionStore.builder(RedisEndpoint.of("127.0.0.1", closed)
        .withPassword(dev.batchserve.transforms.sink.Secret.fromFile(secret.toString()))).withKeyPrefix(PREFIX).build()) {
      RuntimeException e = org.junit.Assert.assertThrows(RuntimeException.class, () -> s.get(key(1)));
      assertThat(e.getMessage(), org.hamcrest.Matchers.containsString("Redis 127.0.0.1:" + closed + " (db 0): "
          + "looking up key 'cust-1' under prefix churn failed: "));
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(trace));
      assertThat(trace.toString().contains("closed-Secret"), equalTo(false));
    }
  }

  @Test
  public void aLookupRedisRefusesNamesHostAndPort() throws Exception {
    publish(day(28), 3, 2);
    Path secret = TMP.newFile().toPath();
    java.nio.file.Files.writeString(secret, "reader-Secret-2b7a\n");
    try (redis.clients.jedis.Jedis admin = REDIS.client()) {
      admin.aclSetUser("noscript", "reset", "on", ">reader-Secret-2b7a", "~*", "+@all", "-@scripting");
    }
    try (RedisPredictionStore s = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port())
        .withUser("noscript").withPassword(dev.batchserve.transforms.sink.Secret.fromFile(secret.toString())))
        .withKeyPrefix(PREFIX).build()) {
      RuntimeException e = org.junit.Assert.assertThrows(RuntimeException.class, () -> s.get(key(1)));
      // Redis' NOPERM names no server; the store's message does.
      assertThat(e.getMessage(), org.hamcrest.Matchers.startsWith("Redis 127.0.0.1:" + REDIS.port() + " (db 0): "
          + "looking up key 'cust-1' under prefix churn failed: NOPERM"));
      assertThat(e.getMessage().contains("reader-Secret"), equalTo(false));
    } finally {
      try (redis.clients.jedis.Jedis admin = REDIS.client()) {
        admin.aclDelUser("noscript");
      }
    }
  }

  @Test
  public void withoutAModelGetOrComputeFallsBack() {
    publish(day(28), 1, 2);
    try (RedisPredictionStore s = store().build()) {
      Lookup l = s.getOrCompute("cust-new", Map.of("a", 1.0));
      assertThat(l.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(l.fallbackReason().get(), equalTo("not_found"));
    }
  }

  /** keepVersions 1: the old run's keys are unlinked right after the switch, and still no miss. */
  @Test
  public void aReaderNeverMixesRunsNorMissesAKeyDuringAPublish() throws Exception {
    int n = 150;
    publish(day(27), n, 1);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger passes = new AtomicInteger();
    List<String> violations = Collections.synchronizedList(new ArrayList<>());
    Set<String> seen = Collections.synchronizedSet(new TreeSet<>());
    Thread reader = new Thread(() -> {
      try (RedisPredictionStore s = store().build()) {
        while (!stop.get() && passes.get() < 100_000) {
          for (int i = 0; i < n; i++) {
            Lookup l = s.get(key(i));
            if (!l.isPresent()) {
              violations.add(l.toString());
            } else if (!l.prediction().get().getRunId().equals(l.servedRunId().get())) {
              violations.add("mixed: " + l);
            } else {
              seen.add(l.servedRunId().get());
            }
          }
          passes.incrementAndGet();
        }
      } catch (RuntimeException e) {
        violations.add(e.toString());
      }
    });
    reader.start();
    while (passes.get() < 1 && reader.isAlive()) {
      Thread.sleep(10);
    }
    publish(day(28), n, 1);
    int after = passes.get();
    while (passes.get() < after + 2 && reader.isAlive()) {
      Thread.sleep(10);
    }
    stop.set(true);
    reader.join();

    assertThat(violations, empty());
    assertThat(seen, equalTo(new TreeSet<>(List.of("churn-daily-20261127", "churn-daily-20261128"))));
  }
}
