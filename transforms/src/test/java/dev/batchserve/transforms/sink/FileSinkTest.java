package dev.batchserve.transforms.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class FileSinkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final RunInfo DAY1 = RunInfo.of("fraud", LocalDate.parse("2026-11-27"), RunInfo.Interval.DAILY);
  private static final RunInfo DAY2 = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<KV<String, Prediction>> predictions(int n, RunInfo run) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Prediction.Builder b = Prediction.builder().scores(new float[] {i / (float) n}).confidence(0.5 + i / (2.0 * n))
          .model("fraud-mlp", "3").predictionTimestampMillis(run.predictionTimestamp().toEpochMilli()).runId(run.runId());
      if (i % 10 == 0) {
        b.scores(new float[] {0.02f}).model("fallback-constant", "3").confidence(null).fallbackReason("cold_start");
      }
      out.add(KV.of("acct-" + i, b.build()));
    }
    return out;
  }

  private static PCollection<KV<String, Prediction>> input(Pipeline p, List<KV<String, Prediction>> in) {
    return p.apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
  }

  private static Pipeline pipeline() {
    return Pipeline.create(TestPipeline.testingPipelineOptions());
  }

  private static List<Path> files(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().collect(Collectors.toList());
    }
  }

  private static List<String> jsonLines(Path runDir) throws IOException {
    List<String> lines = new ArrayList<>();
    for (Path f : files(runDir.resolve("jsonl"))) {
      lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
    }
    return lines;
  }

  @Test
  public void anInputCountGivenUpstreamThatDiffersFromTheRowsWrittenRefusesThePublish() throws Exception {
    String root = tmp.getRoot().toString() + "/predictions";
    Pipeline p = pipeline();
    // 20 predictions, but the count given upstream (as the run ledger would) says 21.
    input(p, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1)
        .withNumShards(2).withInputCount(p.apply("Count", Create.of(21L))));
    Exception e = assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    assertThat(rootCauseMessage(e), containsString("20, but the input had 21 records; not publishing"));
    assertFalse("nothing is published", Files.exists(Path.of(root, "_LATEST")));
    assertThat(FileSink.publishedDirectory(root, DAY1), is((String) null));

    // The right count publishes, with the same checks.
    String good = tmp.getRoot().toString() + "/good";
    Pipeline q = pipeline();
    input(q, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(good).withRunInfo(DAY1)
        .withNumShards(2).withInputCount(q.apply("Count", Create.of(20L))));
    q.run().waitUntilFinish();
    JsonNode manifest = JSON.readTree(Path.of(FileSink.publishedDirectory(good, DAY1), "_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is(20L));
  }

  @Test
  public void aRunWithoutDeadLettersListsOneEmptyDeadLetterFile() throws Exception {
    String root = tmp.getRoot().toString() + "/predictions";
    Pipeline p = pipeline();
    PCollection<DeadLetter> none = p.apply("NoDead", Create.empty(DeadLetter.DeadLetterCoder.of()));
    input(p, predictions(10, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1)
        .withNumShards(2).withDeadLetters(none));
    p.run().waitUntilFinish();

    Path runDir = Path.of(FileSink.publishedDirectory(root, DAY1));
    JsonNode manifest = JSON.readTree(runDir.resolve("_MANIFEST.json").toFile());
    assertThat(manifest.get("dead_letters").asLong(), is(0L));
    assertThat(manifest.get("files").get("dead_letters").size(), is(1));
    assertThat(manifest.get("files").get("dead_letters").get(0).get("path").asText(),
        is("dead_letters/part-00000-of-00001.jsonl"));
    assertThat(Files.size(runDir.resolve("dead_letters/part-00000-of-00001.jsonl")), is(0L));
  }

  private static String rootCauseMessage(Throwable t) {
    StringBuilder all = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      all.append(c.getMessage()).append('\n');
    }
    return all.toString();
  }

  @Test
  public void writesShardsManifestSuccessAndLatestInThatLayout() throws Exception {
    String root = tmp.getRoot().toString() + "/predictions";
    Pipeline p = pipeline();
    PCollection<DeadLetter> dead = p.apply("Dead", Create.of(
        DeadLetter.of("features", "acct-x", "{a=?}", "a", "unparsable", "not a number")));
    input(p, predictions(50, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1)
        .withNumShards(3).withDeadLetters(dead));
    p.run().waitUntilFinish();

    Path runDir = Path.of(FileSink.publishedDirectory(root, DAY1));
    assertThat(runDir.toString(), containsString("run_date=2026-11-27/run_id=fraud-daily-20261127/attempt="));
    String attempt = runDir.getFileName().toString();
    assertThat(Files.readString(Path.of(FileSink.runDirectory(root, DAY1), "_CURRENT")), is(attempt + "\n"));
    assertThat(Files.readString(Path.of(root, "_LATEST")),
        is("run_date=2026-11-27/run_id=fraud-daily-20261127/" + attempt + "\n"));
    assertThat(FileSink.latestDirectory(root), is(runDir.toString()));
    assertTrue(Files.exists(runDir.resolve("_SUCCESS")));
    assertFalse("staging is cleaned up", Files.exists(runDir.resolve("_staging")));
    assertThat(files(runDir.resolve("parquet")).stream().map(f -> f.getFileName().toString()).collect(Collectors.toList()),
        containsInAnyOrder("part-00000-of-00003.parquet", "part-00001-of-00003.parquet", "part-00002-of-00003.parquet"));

    JsonNode manifest = JSON.readTree(runDir.resolve("_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is(50L));
    assertThat(manifest.get("dead_letters").asLong(), is(1L));
    assertThat(manifest.get("run_id").asText(), is("fraud-daily-20261127"));
    assertThat(manifest.get("prediction_timestamp").asText(), is("2026-11-28T00:00:00Z"));
    assertThat(manifest.get("models").toString(), is("[\"fallback-constant:3\",\"fraud-mlp:3\"]"));
    assertThat(manifest.get("predictions_by_model").toString(), is("{\"fallback-constant:3\":5,\"fraud-mlp:3\":45}"));
    for (JsonNode f : manifest.get("files").get("parquet")) {
      byte[] bytes = Files.readAllBytes(runDir.resolve(f.get("path").asText()));
      assertThat(f.get("sha256").asText(), is(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))));
      assertThat(f.get("bytes").asLong(), is((long) bytes.length));
    }

    // JSON lines: every key once, a key's shard is fixed by its hash.
    List<String> lines = jsonLines(runDir);
    assertThat(lines.size(), is(50));
    JsonNode first = null;
    for (String line : lines) {
      JsonNode n = JSON.readTree(line);
      if (n.get("key").asText().equals("acct-0")) {
        first = n;
      }
    }
    assertThat(first.get("fallback_reason").asText(), is("cold_start"));
    assertThat(first.get("model_version").asText(), is("3"));
    assertThat(first.get("run_id").asText(), is("fraud-daily-20261127"));
    assertThat(first.get("prediction_timestamp").asText(), is("2026-11-28T00:00:00Z"));
    int shard = Math.floorMod("acct-7".hashCode(), 3);
    assertThat(Files.readString(runDir.resolve("jsonl/part-0000" + shard + "-of-00003.jsonl")), containsString("\"acct-7\""));

    // Dead letters beside the predictions.
    assertThat(Files.readString(runDir.resolve("dead_letters/part-00000-of-00001.jsonl")), containsString("\"reason\":\"unparsable\""));

    // Parquet, read back by parquet-avro (not through Beam), with the documented columns.
    List<GenericRecord> records = new ArrayList<>();
    for (Path f : files(runDir.resolve("parquet"))) {
      try (ParquetReader<GenericRecord> r = AvroParquetReader.<GenericRecord>builder(
          HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration())).build()) {
        for (GenericRecord rec; (rec = r.read()) != null; ) {
          records.add(rec);
        }
      }
    }
    assertThat(records.size(), is(50));
    List<String> fields = records.get(0).getSchema().getFields().stream().map(f -> f.name()).collect(Collectors.toList());
    assertThat(fields, is(List.of("key", "score", "scores", "items", "label", "confidence", "model_name",
        "model_version", "prediction_timestamp", "run_id", "fallback_reason")));
    GenericRecord acct5 = records.stream().filter(r -> r.get("key").toString().equals("acct-5")).findFirst().get();
    assertThat(((Number) acct5.get("score")).floatValue(), is(5 / 50f));
    assertThat(acct5.get("model_name").toString(), is("fraud-mlp"));
    assertThat(acct5.get("run_id").toString(), is("fraud-daily-20261127"));
    assertThat(acct5.get("prediction_timestamp"), is((Object) DAY1.predictionTimestamp().toEpochMilli()));
  }

  @Test
  public void aRerunOfTheSameRunReplacesItsShardsWithoutDuplicates() throws Exception {
    String root = tmp.getRoot().toString();
    Pipeline first = pipeline();
    input(first, predictions(40, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1).withNumShards(4));
    first.run().waitUntilFinish();
    Pipeline again = pipeline();
    input(again, predictions(40, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1).withNumShards(2));
    again.run().waitUntilFinish();

    Path runDir = Path.of(FileSink.publishedDirectory(root, DAY1));
    assertThat(files(runDir.resolve("jsonl")).size(), is(2));
    assertThat(files(runDir.resolve("parquet")).size(), is(2));
    List<String> lines = jsonLines(runDir);
    assertThat(lines.size(), is(40));
    assertThat(lines.stream().distinct().count(), is(40L));
  }

  @Test
  public void theSameRunWritesByteIdenticalFilesWhateverTheInputOrder() throws Exception {
    List<KV<String, Prediction>> in = predictions(300, DAY1);
    List<KV<String, Prediction>> shuffled = new ArrayList<>(in);
    java.util.Collections.shuffle(shuffled, new java.util.Random(9));
    String a = tmp.getRoot() + "/a";
    String b = tmp.getRoot() + "/b";
    Pipeline first = pipeline();
    input(first, in).apply(SinkWithMetadata.<String>files(a).withRunInfo(DAY1).withNumShards(3));
    first.run().waitUntilFinish();
    Pipeline second = pipeline();
    input(second, shuffled).apply(SinkWithMetadata.<String>files(b).withRunInfo(DAY1).withNumShards(3));
    second.run().waitUntilFinish();

    Path runA = Path.of(FileSink.publishedDirectory(a, DAY1));
    Path runB = Path.of(FileSink.publishedDirectory(b, DAY1));
    List<Path> filesA;
    try (Stream<Path> walk = Files.walk(runA)) {
      filesA = walk.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
    assertThat(filesA.size(), is(3 + 3 + 3)); // parquet, jsonl shards, _MANIFEST.json, _PUBLISHED.json, _SUCCESS
    for (Path f : filesA) {
      if (f.getFileName().toString().equals(FileSink.PUBLISHED)) {
        continue; // when it was published: the one file that differs
      }
      Path g = runB.resolve(runA.relativize(f));
      assertTrue(runA.relativize(f) + " differs", java.util.Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(g)));
    }
    // Rows inside a shard are in key order.
    List<String> keys = Files.readAllLines(runA.resolve("jsonl/part-00000-of-00003.jsonl")).stream()
        .map(l -> l.substring(8, l.indexOf('"', 8))).collect(Collectors.toList());
    List<String> sorted = new ArrayList<>(keys);
    java.util.Collections.sort(sorted);
    assertThat(keys, is(sorted));
  }

  @Test
  public void aFailedRunLeavesThePreviousRunServed() throws Exception {
    String root = tmp.getRoot().toString();
    Pipeline good = pipeline();
    input(good, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1));
    good.run().waitUntilFinish();

    Pipeline bad = pipeline();
    PCollection<String> failingCheck = bad.apply("Check", Create.of("x")).apply(ParDo.of(new FailingGate()));
    input(bad, predictions(20, DAY2)).apply(
        SinkWithMetadata.<String>files(root).withRunInfo(DAY2).publishAfter(failingCheck));
    assertThrows(PipelineExecutionException.class, () -> bad.run().waitUntilFinish());

    String served = FileSink.publishedDirectory(root, DAY1);
    assertThat(FileSink.latestDirectory(root), is(served));
    assertTrue(Files.exists(Path.of(served, "_SUCCESS")));
    assertThat(FileSink.publishedDirectory(root, DAY2), is((String) null));
    assertFalse(Files.exists(Path.of(FileSink.runDirectory(root, DAY2), "_CURRENT")));
    assertThat(regularFiles(Path.of(FileSink.runDirectory(root, DAY2))).stream()
        .filter(f -> f.toString().contains("/jsonl/") || f.endsWith("_SUCCESS")).count(), is(0L));
  }

  private static List<Path> regularFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).sorted().collect(Collectors.toList());
    }
  }

  private static java.util.Map<Path, String> contents(Path dir) throws IOException {
    java.util.Map<Path, String> m = new java.util.TreeMap<>();
    for (Path f : regularFiles(dir)) {
      m.put(dir.relativize(f), HexFormat.of().formatHex(
          org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.hash.Hashing.sha256().hashBytes(Files.readAllBytes(f)).asBytes()));
    }
    return m;
  }

  private static void publish(String root, RunInfo run, String attempt, int n) {
    Pipeline p = pipeline();
    input(p, predictions(n, run)).apply(SinkWithMetadata.<String>files(root).withRunInfo(run).withAttempt(attempt)
        .withNumShards(2));
    p.run().waitUntilFinish();
  }

  @Test
  public void aBackfillPublishesItsOwnRunAndLeavesLatestOnTheNewerOne() throws Exception {
    String root = tmp.getRoot().toString();
    publish(root, DAY2, "today", 30);
    String latest = Files.readString(Path.of(root, "_LATEST"));

    Pipeline p = pipeline();
    input(p, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1).withAttempt("back")
        .withNumShards(2));
    org.apache.beam.sdk.PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(Files.readString(Path.of(root, "_LATEST")), is(latest));
    assertThat(FileSink.runIdOf(FileSink.latestDirectory(root)), is(DAY2.runId()));
    // Its own run: published (its _CURRENT, _SUCCESS, every key), readable as a partition.
    Path own = Path.of(FileSink.publishedDirectory(root, DAY1));
    assertThat(own.getFileName().toString(), is("attempt=back"));
    assertThat(jsonLines(own).size(), is(20));
    assertTrue(FileSink.publishedAt(own.toString()).isAfter(java.time.Instant.now().minusSeconds(60)));
    long backfilled = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> m : result.metrics().queryMetrics(
        org.apache.beam.sdk.metrics.MetricsFilter.builder().addNameFilter(org.apache.beam.sdk.metrics.MetricNameFilter
            .named(FileSink.METRICS_NAMESPACE, Backfill.RUNS_BACKFILLED)).build()).getCounters()) {
      backfilled += m.getAttempted();
    }
    assertThat(backfilled, is(1L));

    // A re-run of the served run is no backfill, and a later run moves _LATEST as always.
    publish(root, DAY2, "today-again", 30);
    assertThat(FileSink.latestDirectory(root), is(FileSink.attemptDirectory(root, DAY2, "today-again")));
  }

  @Test
  public void aForcedBackfillMovesLatestBackToIt() throws Exception {
    String root = tmp.getRoot().toString();
    publish(root, DAY2, "today", 30);
    Pipeline p = pipeline();
    input(p, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1).withAttempt("back")
        .withNumShards(2).withForceLatest(true));
    p.run().waitUntilFinish();
    assertThat(FileSink.latestDirectory(root), is(FileSink.attemptDirectory(root, DAY1, "back")));
    assertThat(FileSink.publishedDirectory(root, DAY2), is(FileSink.attemptDirectory(root, DAY2, "today")));
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneIsABackfill() throws Exception {
    String root = tmp.getRoot().toString();
    Pipeline older = pipeline();
    input(older, predictions(20, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1)
        .withAttempt("late").withNumShards(2).publishAfter(StoreTestData.HeldGate.in(older, "files-27")));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    publish(root, DAY2, "today", 30);
    StoreTestData.HeldGate.open("files-27");
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);

    assertThat(FileSink.latestDirectory(root), is(FileSink.attemptDirectory(root, DAY2, "today")));
    assertThat(FileSink.publishedDirectory(root, DAY1), is(FileSink.attemptDirectory(root, DAY1, "late")));
  }

  @Test
  public void publishedAtFallsBackToTheSuccessMarkersTime() throws Exception {
    Path legacy = tmp.newFolder("legacy").toPath();
    Files.writeString(legacy.resolve("_SUCCESS"), "");
    java.time.Instant t = java.time.Instant.parse("2026-11-29T01:02:03Z");
    Files.setLastModifiedTime(legacy.resolve("_SUCCESS"), java.nio.file.attribute.FileTime.from(t));
    assertThat(FileSink.publishedAt(legacy.toString()), is(t));
    Files.writeString(legacy.resolve("_PUBLISHED.json"), "{\"published_at\":\"2026-11-29T04:00:00Z\"}");
    assertThat(FileSink.publishedAt(legacy.toString()), is(java.time.Instant.parse("2026-11-29T04:00:00Z")));
    assertThat(FileSink.publishedAt(tmp.newFolder("never").toString()), is((java.time.Instant) null));
  }

  @Test
  public void aFailedRerunOfTheServedRunLeavesEveryServedFileAsItWas() throws Exception {
    String root = tmp.getRoot().toString();
    publish(root, DAY1, "a1", 30);
    Path served = Path.of(FileSink.publishedDirectory(root, DAY1));
    java.util.Map<Path, String> before = contents(served);
    String latest = Files.readString(Path.of(root, "_LATEST"));

    Pipeline bad = pipeline();
    PCollection<String> failingCheck = bad.apply("Check", Create.of("x")).apply(ParDo.of(new FailingGate()));
    input(bad, predictions(25, DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1)
        .withAttempt("a2").withNumShards(2).publishAfter(failingCheck));
    assertThrows(PipelineExecutionException.class, () -> bad.run().waitUntilFinish());

    assertThat(FileSink.publishedDirectory(root, DAY1), is(served.toString()));
    assertThat(Files.readString(Path.of(root, "_LATEST")), is(latest));
    assertThat(contents(served), is(before));
    assertThat(jsonLines(served).size(), is(30));
  }

  @Test
  public void publishingKeepsTheAttemptItReplacesAndRemovesOlderOnes() throws Exception {
    String root = tmp.getRoot().toString();
    Path run = Path.of(FileSink.runDirectory(root, DAY1));
    publish(root, DAY1, "a1", 10);
    publish(root, DAY1, "a2", 20);
    assertThat(FileSink.publishedDirectory(root, DAY1), is(run.resolve("attempt=a2").toString()));
    assertTrue("the attempt just replaced stays for readers still on it",
        Files.exists(run.resolve("attempt=a1/_SUCCESS")));
    assertThat(jsonLines(run.resolve("attempt=a1")).size(), is(10));

    // An attempt that failed (or was killed) after staging shards: only its shards go at the next publish.
    Path failed = run.resolve("attempt=a3");
    Files.createDirectories(failed.resolve("_staging/jsonl"));
    Files.writeString(failed.resolve("_staging/jsonl/part-00000-of-00004.jsonl"), "{\"key\":\"acct-1\"}\n");
    Files.writeString(failed.resolve("_REPORT.json"), "{\"status\":\"failed\"}");

    publish(root, DAY1, "a4", 40);
    assertThat(FileSink.publishedDirectory(root, DAY1), is(run.resolve("attempt=a4").toString()));
    assertThat(jsonLines(run.resolve("attempt=a4")).size(), is(40));
    assertFalse("superseded before the one just replaced: removed", Files.exists(run.resolve("attempt=a1")));
    assertTrue(Files.exists(run.resolve("attempt=a2/_SUCCESS")));
    assertThat(regularFiles(run.resolve("attempt=a3")), is(List.of(run.resolve("attempt=a3/_REPORT.json"))));
  }

  @Test
  public void discardingAnAttemptRemovesItsShardsAndNeverTouchesTheServedOne() throws Exception {
    String root = tmp.getRoot().toString();
    publish(root, DAY1, "a1", 10);
    Path run = Path.of(FileSink.runDirectory(root, DAY1));
    java.util.Map<Path, String> served = contents(run.resolve("attempt=a1"));
    assertFalse("the served attempt is not discarded", FileSink.discardAttempt(root, DAY1, "a1"));
    assertThat(contents(run.resolve("attempt=a1")), is(served));

    Path dead = run.resolve("attempt=a2");
    Files.createDirectories(dead.resolve("_staging/jsonl"));
    Files.writeString(dead.resolve("_staging/jsonl/part-00000-of-00001.jsonl"), "{}");
    Files.createDirectories(dead.resolve("parquet"));
    Files.writeString(dead.resolve("parquet/part-00000-of-00001.parquet"), "x");
    Files.writeString(dead.resolve("_QUALITY.json"), "{}");
    assertThat(FileSink.discardUnpublishedAttempts(root, DAY1), is(List.of("a2")));
    assertThat(regularFiles(dead), is(List.of(dead.resolve("_ABORTED"), dead.resolve("_QUALITY.json"))));
    assertThat(contents(run.resolve("attempt=a1")), is(served));
  }

  @Test
  public void aRunPublishedBeforeAttemptsIsStillFound() throws Exception {
    String root = tmp.getRoot().toString();
    Path legacy = Path.of(FileSink.runDirectory(root, DAY1));
    Files.createDirectories(legacy);
    Files.writeString(legacy.resolve("_SUCCESS"), "");
    assertThat(FileSink.publishedDirectory(root, DAY1), is(legacy.toString()));
    assertThat(FileSink.runIdOf(legacy + "/attempt=x"), is("fraud-daily-20261127"));
    assertThat(FileSink.publishedDirectory(root, DAY2), is((String) null));
    assertThat(FileSink.latestDirectory(root), is((String) null));
  }

  /** Three predictions: row_id and label set, label null, and a cold start without values. */
  static List<KV<String, Prediction>> withPassThrough(RunInfo run) {
    java.util.Map<String, String> both = new java.util.LinkedHashMap<>();
    both.put("row_id", "17");
    both.put("label", "fraud");
    java.util.Map<String, String> nullLabel = new java.util.LinkedHashMap<>();
    nullLabel.put("row_id", "18");
    nullLabel.put("label", null);
    List<KV<String, Prediction>> in = predictions(3, run);
    return List.of(
        KV.of("acct-0", in.get(0).getValue()),
        KV.of("acct-1", in.get(1).getValue().toBuilder().passThrough(both).build()),
        KV.of("acct-2", in.get(2).getValue().toBuilder().passThrough(nullLabel).build()));
  }

  @Test
  public void passThroughColumnsAreTheNestedRecordPassThroughInParquet() throws Exception {
    String root = tmp.getRoot().toString();
    Pipeline p = pipeline();
    input(p, withPassThrough(DAY1)).apply(SinkWithMetadata.<String>files(root).withRunInfo(DAY1).withNumShards(1)
        .withPassThroughColumns(List.of("row_id", "label")));
    p.run().waitUntilFinish();

    Path runDir = Path.of(FileSink.publishedDirectory(root, DAY1));
    List<GenericRecord> records = new ArrayList<>();
    try (ParquetReader<GenericRecord> r = AvroParquetReader.<GenericRecord>builder(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(runDir.resolve("parquet/part-00000-of-00001.parquet").toUri()),
        new Configuration())).build()) {
      for (GenericRecord rec; (rec = r.read()) != null; ) {
        records.add(rec);
      }
    }
    assertThat(records.stream().map(r -> r.get("key").toString()).collect(Collectors.toList()),
        is(List.of("acct-0", "acct-1", "acct-2")));
    assertThat(records.get(0).getSchema().getFields().stream().map(f -> f.name()).collect(Collectors.toList()),
        is(List.of("key", "score", "scores", "items", "label", "confidence", "model_name",
            "model_version", "prediction_timestamp", "run_id", "fallback_reason", "pass_through")));
    List<String> pt = new ArrayList<>();
    for (GenericRecord r : records) {
      GenericRecord nested = (GenericRecord) r.get("pass_through");
      assertThat(nested.getSchema().getFields().stream().map(f -> f.name()).collect(Collectors.toList()),
          is(List.of("row_id", "label")));
      pt.add(r.get("key") + " " + nested.get("row_id") + " " + nested.get("label"));
    }
    // The cold start has no values; a null value stays null; the prediction's own label is untouched.
    assertThat(pt, is(List.of("acct-0 null null", "acct-1 17 fraud", "acct-2 18 null")));
    assertThat(records.get(1).get("label"), is((Object) null));

    JsonNode schema = JSON.readTree(runDir.resolve("_MANIFEST.json").toFile()).get("schema");
    assertThat(schema.get(11).toString(), is("{\"name\":\"pass_through\",\"type\":\"ROW\",\"nullable\":false,"
        + "\"fields\":[{\"name\":\"row_id\",\"type\":\"STRING\",\"nullable\":true},"
        + "{\"name\":\"label\",\"type\":\"STRING\",\"nullable\":true}]}"));
    assertThat(jsonLines(runDir).get(2), containsString("\"pass_through\":{\"row_id\":\"18\",\"label\":null}"));
  }

  @Test
  public void passThroughColumnNamesMustBeParquetFieldNames() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> SinkWithMetadata.<String>files("/x").withPassThroughColumns(List.of("row id"))).getMessage(),
        is("pass-through column 'row id' cannot be a Parquet field name (it must match [A-Za-z_][A-Za-z0-9_]{0,127}):"
            + " drop it from --passThroughColumns (withPassThroughColumns) or rename the input column"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> SinkWithMetadata.<String>files("/x").withPassThroughColumns(List.of("a", "a"))).getMessage(),
        is("pass-through column 'a' is named twice in [a, a]"));
  }

  /** A check that fails, standing for a tripped quality gate. */
  static final class FailingGate extends DoFn<String, String> {
    @ProcessElement
    public void process(@Element String s) {
      throw new IllegalStateException("quality gate failed");
    }
  }

  @Test
  public void settingsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> SinkWithMetadata.files(""));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SinkWithMetadata.files("/x").withNumShards(0));
    assertThat(e.getMessage(), is("numShards must be in [1, 10000], but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> FileFormat.parse("orc")).getMessage(),
        is("file format must be parquet or jsonl, but was 'orc'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> SinkWithMetadata.files("/x").withAttempt("../a"))
        .getMessage(), containsString("an attempt id is 1-100 letters, digits"));
    assertTrue(FileSink.newAttemptId().matches("\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{6}"));
  }
}
