package dev.batchserve.transforms.sink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link FileSink#shardWriter()} with {@code KeyedPrediction.writingShards}: the join back writes the
 * shards as it resolves the keys; the files are those {@link FileSink} writes on its own, with one
 * shuffle fewer.
 */
public class ShardsWrittenInJoinTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final RunInfo RUN = RunInfo.of("fraud", LocalDate.parse("2026-11-27"), RunInfo.Interval.DAILY);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Prediction score(float s) {
    return Prediction.builder().scores(new float[] {s}).confidence(0.5 + s / 2).model("fraud-mlp", "3")
        .predictionTimestampMillis(RUN.predictionTimestamp().toEpochMilli()).runId(RUN.runId()).build();
  }

  /** 200 scored keys, one stray (unexpected) prediction, and 20 expected keys without a prediction. */
  private static List<KV<String, Prediction>> predictions() {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      out.add(KV.of("acct-" + i, score(i / 200f)));
    }
    out.add(KV.of("stray", score(0.9f)));
    return out;
  }

  private static List<String> expected() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 220; i++) {
      keys.add("acct-" + i);
    }
    return keys;
  }

  private static Pipeline pipeline() {
    return Pipeline.create(TestPipeline.testingPipelineOptions());
  }

  private static KeyedPrediction.FromPredictions<String> join() {
    return KeyedPrediction.<String>fromPredictions().withRunInfo(RUN).withModelVersion("3")
        .withFallback(Fallback.constant(0.02f));
  }

  /** Builds the run into a new pipeline, the shards written in the join or by the sink; returns the pipeline. */
  private static Pipeline build(String root, boolean inJoin) {
    Pipeline p = pipeline();
    PCollection<KV<String, Prediction>> in = p.apply("Predictions",
        Create.of(predictions()).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    PCollection<String> keys = p.apply("Expected", Create.of(expected()).withCoder(StringUtf8Coder.of()));
    FileSink<String> files = SinkWithMetadata.<String>files(root).withRunInfo(RUN)
        .withAttempt("a1").withNumShards(5);
    KeyedPrediction.FromPredictions<String> join = join().withExpectedKeys(keys);
    if (inJoin) {
      KeyedPrediction.Result<String> r = in.apply(join.writingShards(files.shardWriter()));
      r.predictions().apply(files.withWrittenFiles(r.writtenFiles()).withInputCount(r.resolvedCount())
          .publishAfter(r.counts()));
    } else {
      KeyedPrediction.Result<String> r = in.apply(join);
      r.predictions().apply(files.publishAfter(r.counts()));
    }
    return p;
  }

  private static int groupByKeys(Pipeline p) {
    int[] n = {0};
    p.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        if (node.getTransform() instanceof GroupByKey) {
          n[0]++;
        }
      }
    });
    return n[0];
  }

  /** Every published file, by its path below the attempt, with its bytes as text (JSON lines) or sha256 (Parquet). */
  private static Map<String, String> publishedFiles(String root) throws Exception {
    Path dir = Path.of(FileSink.publishedDirectory(root, RUN));
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
        String rel = dir.relativize(f).toString();
        if (rel.startsWith("parquet/") || rel.startsWith("jsonl/")) {
          out.put(rel, rel.endsWith(".jsonl") ? Files.readString(f) : String.valueOf(Files.size(f)));
        }
      }
    }
    return out;
  }

  @Test
  public void theJoinWritesTheFilesTheSinkWritesWithOneShuffleFewer() throws Exception {
    String inJoin = tmp.getRoot() + "/in-join";
    String bySink = tmp.getRoot() + "/by-sink";
    Pipeline joined = build(inJoin, true);
    Pipeline separate = build(bySink, false);
    assertThat("the sink's regroup by shard and its input count are gone", groupByKeys(joined),
        is(groupByKeys(separate) - 2));
    joined.run().waitUntilFinish();
    separate.run().waitUntilFinish();

    Map<String, String> written = publishedFiles(inJoin);
    assertThat(written.keySet().size(), is(10));
    assertThat("same shards, same rows in the same order", written, is(publishedFiles(bySink)));
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, String> e : written.entrySet()) {
      if (e.getKey().startsWith("jsonl/")) {
        List<String> shard = e.getValue().lines().collect(Collectors.toList());
        List<String> keys = shard.stream().map(l -> json(l).get("key").asText()).collect(Collectors.toList());
        assertThat("rows sorted by key in " + e.getKey(), keys, is(keys.stream().sorted().collect(Collectors.toList())));
        lines.addAll(shard);
      }
    }
    assertThat("one row per expected key, none for the stray key", lines.size(), is(220));
    assertThat(lines.stream().filter(l -> l.contains("\"cold_start\"")).count(), is(20L));
    assertFalse(lines.stream().anyMatch(l -> l.contains("\"stray\"")));

    Path dir = Path.of(FileSink.publishedDirectory(inJoin, RUN));
    JsonNode manifest = JSON.readTree(dir.resolve("_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is(220L));
    assertThat(manifest.get("files").get("parquet").size(), is(5));
    // Rows per model, counted by the shard writers in the join, as the sink counts them alone.
    JsonNode perModel = manifest.get("predictions_by_model");
    JsonNode alone = JSON.readTree(Path.of(FileSink.publishedDirectory(bySink, RUN), "_MANIFEST.json").toFile())
        .get("predictions_by_model");
    assertThat(perModel, is(alone));
    assertThat(perModel.size(), is(2));
    long sum = 0;
    for (JsonNode n : perModel) {
      sum += n.asLong();
    }
    assertThat(sum, is(220L));
    assertTrue(Files.exists(dir.resolve("_SUCCESS")));
    assertFalse(Files.exists(dir.resolve("_staging")));
  }

  @Test
  public void aShardWriterNeedsTheAttemptChosenFirst() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SinkWithMetadata.<String>files(tmp.getRoot().toString()).withRunInfo(RUN).shardWriter());
    assertThat(e.getMessage(), containsString("withAttempt(FileSink.newAttemptId())"));
  }

  @Test
  public void filesWrittenByAnotherSinksWriterAreRefusedAndNothingIsPublished() {
    String root = tmp.getRoot() + "/out";
    Pipeline p = pipeline();
    PCollection<KV<String, Prediction>> in = p.apply("Predictions",
        Create.of(predictions()).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    FileSink<String> mine = SinkWithMetadata.<String>files(root).withRunInfo(RUN).withAttempt("a1").withNumShards(5);
    FileSink<String> other = mine.withAttempt("a2");
    KeyedPrediction.Result<String> r = in.apply(join().writingShards(other.shardWriter()));
    r.predictions().apply(mine.withWrittenFiles(r.writtenFiles()).publishAfter(r.counts()));
    PipelineExecutionException e = assertThrows(PipelineExecutionException.class, () -> p.run().waitUntilFinish());
    assertThat(e.getMessage(), containsString("was not written by this sink's shardWriter()"));
    assertThat(FileSink.publishedDirectory(root, RUN), is((String) null));
  }

  @Test
  public void writtenFilesNeedWritingShards() {
    Pipeline p = pipeline();
    PCollection<KV<String, Prediction>> in = p.apply("Predictions",
        Create.of(predictions()).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    KeyedPrediction.Result<String> r = in.apply(join());
    IllegalStateException e = assertThrows(IllegalStateException.class, r::writtenFiles);
    assertThat(e.getMessage(), containsString("writingShards(fileSink.shardWriter())"));
  }

  private static JsonNode json(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError(line, e);
    }
  }
}
