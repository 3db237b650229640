package dev.batchserve.pipelines.reliability;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.pipelines.monitoring.RunReport;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.testing.RedisServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import redis.clients.jedis.Jedis;

/**
 * The circuit breaker's volume limits through the whole job, with files and a real Redis as sinks: a
 * header-only input, or one that lost more than half the previous run's records, fails the run, and
 * readers of the files ({@code _LATEST}) and of Redis ({@code <prefix>:current}) keep the previous run,
 * every key still resolving to its previous value. A run of normal size passes and moves both.
 */
public class VolumeGateTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ACCOUNTS = 200;
  private static Path model;

  @BeforeClass
  public static void setUp() {
    model = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(model, 2000, 7, "1");
  }

  private static Path csv(String name, int accounts, long seed) {
    Path p = TMP.getRoot().toPath().resolve(name + "/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(accounts, seed), p);
    return p;
  }

  private static BatchScoringOptions options(Path input, Path out, String prefix, String date, String... more) {
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--input=" + input, "--model=" + model,
        "--output=" + out, "--runDate=" + date, "--formats=jsonl", "--numShards=1", "--progressEvery=0",
        "--redisHost=" + REDIS.host(), "--redisPort=" + REDIS.port(), "--redisPrefix=" + prefix));
    args.addAll(List.of(more));
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).withValidation().as(BatchScoringOptions.class);
  }

  /** What Redis serves now: every key of {@code keys} read through {@code <prefix>:current}. */
  private static Map<String, String> served(String prefix, int keys) {
    Map<String, String> out = new HashMap<>();
    try (Jedis j = REDIS.client()) {
      String current = j.get(RedisSink.currentKey(prefix));
      for (int i = 0; i < keys; i++) {
        String key = FraudSample.accountId(i);
        out.put(key, j.get(RedisSink.valueKey(prefix, current, key)));
      }
    }
    return out;
  }

  private static String current(String prefix) {
    try (Jedis j = REDIS.client()) {
      return RedisSink.runIdOf(j.get(RedisSink.currentKey(prefix)));
    }
  }

  private static String messages(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t.getMessage()).append('\n');
    }
    return b.toString();
  }

  /** The report of the run's newest attempt (a tripped run's attempt keeps its report). */
  private static JsonNode report(Path out, String runId, String date) throws Exception {
    Path dir = out.resolve("run_date=" + date + "/run_id=" + runId);
    Path newest;
    try (java.util.stream.Stream<Path> attempts = Files.list(dir)) {
      newest = attempts.filter(a -> a.getFileName().toString().startsWith(FileSink.ATTEMPT_PREFIX))
          .max(java.util.Comparator.comparing(a -> a.getFileName().toString()))
          .orElseThrow(() -> new AssertionError("no attempt in " + dir));
    }
    return JSON.readTree(Files.readString(newest.resolve(RunReport.JSON_FILE)));
  }

  /** Whether any attempt of the run has its {@code _SUCCESS}. */
  private static boolean anyAttemptSucceeded(Path out, String runId, String date) throws Exception {
    Path dir = out.resolve("run_date=" + date + "/run_id=" + runId);
    if (!Files.exists(dir)) {
      return false;
    }
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      return files.anyMatch(p -> p.getFileName().toString().equals(FileSink.SUCCESS));
    }
  }

  @Test
  public void aHeaderOnlyInputFailsTheGateAndEveryReaderKeepsThePreviousRun() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("out-empty");
    RunSummary first = BatchScoringPipeline.run(options(csv("full-a", ACCOUNTS, 42), out, "empty", "2026-11-27"));
    assertThat(first.predictions, is((long) ACCOUNTS));
    String latest = Files.readString(out.resolve("_LATEST"));
    Map<String, String> before = served("empty", ACCOUNTS);
    assertThat(current("empty"), is("fraud-daily-20261127"));
    for (String value : before.values()) {
      assertThat(JSON.readTree(value).path("run_id").asText(), is("fraud-daily-20261127"));
    }

    Path headerOnly = TMP.getRoot().toPath().resolve("header-only/accounts.csv");
    Files.createDirectories(headerOnly.getParent());
    Files.write(headerOnly, List.of(String.join(",", FraudSample.COLUMNS)), StandardCharsets.UTF_8);
    RuntimeException e = assertThrows(RuntimeException.class,
        () -> BatchScoringPipeline.run(options(headerOnly, out, "empty", "2026-11-28")));
    assertThat(messages(e), containsString("circuit breaker tripped for run fraud-daily-20261128"));
    assertThat(messages(e), containsString("minRecords: 0 records reached scoring (0 unreadable), fewer than the"
        + " minimum of 1"));
    assertThat(messages(e), containsString("lower --minRecords (0 turns the check off)"));

    assertThat(Files.readString(out.resolve("_LATEST")), is(latest));
    assertThat(anyAttemptSucceeded(out, "fraud-daily-20261128", "2026-11-28"), is(false));
    assertThat(current("empty"), is("fraud-daily-20261127"));
    assertThat(served("empty", ACCOUNTS), is(before));
    JsonNode r = report(out, "fraud-daily-20261128", "2026-11-28");
    assertThat(r.path("status").asText(), is("tripped"));
    assertThat(r.path("quality").path("input_records").asLong(), is(0L));
    assertThat(r.path("thresholds").path("min_records").asLong(), is(1L));
  }

  @Test
  public void aRunThatLostMoreThanHalfItsRecordsFailsAndANormalOnePasses() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("out-drop");
    BatchScoringPipeline.run(options(csv("full-b", ACCOUNTS, 42), out, "drop", "2026-11-27"));
    String latest = Files.readString(out.resolve("_LATEST"));
    Map<String, String> before = served("drop", ACCOUNTS);

    Path truncated = csv("truncated", 80, 42); // 60% fewer records than yesterday
    RuntimeException e = assertThrows(RuntimeException.class,
        () -> BatchScoringPipeline.run(options(truncated, out, "drop", "2026-11-28")));
    assertThat(messages(e), containsString("maxRecordDrop: 80 records against 200 in the previous run"
        + " fraud-daily-20261127, a drop of 0.6000 > 0.5"));
    assertThat(messages(e), containsString("raise --maxRecordDrop (1 turns the check off)"));
    assertThat(Files.readString(out.resolve("_LATEST")), is(latest));
    assertThat(current("drop"), is("fraud-daily-20261127"));
    assertThat(served("drop", ACCOUNTS), is(before));

    // 25% fewer: within the limit, published to files and Redis.
    RunSummary normal = BatchScoringPipeline.run(options(csv("normal", 150, 43), out, "drop", "2026-11-29"));
    assertThat(normal.predictions, is(150L));
    assertThat(Files.readString(out.resolve("_LATEST")).trim(),
        startsWith("run_date=2026-11-29/run_id=fraud-daily-20261129/attempt="));
    assertThat(current("drop"), is("fraud-daily-20261129"));
    for (String value : served("drop", 150).values()) {
      assertThat(JSON.readTree(value).path("run_id").asText(), is("fraud-daily-20261129"));
    }

    // The check switched off: 60 against 150 publishes.
    RunSummary small = BatchScoringPipeline.run(
        options(csv("small", 60, 44), out, "drop", "2026-11-30", "--maxRecordDrop=1"));
    assertThat(small.predictions, is(60L));
    assertThat(current("drop"), is("fraud-daily-20261130"));
    assertThat(report(out, "fraud-daily-20261130", "2026-11-30").path("quality").path("previous_records").asLong(),
        is(150L));
  }
}
