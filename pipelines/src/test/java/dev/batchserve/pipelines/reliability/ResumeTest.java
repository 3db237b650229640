package dev.batchserve.pipelines.reliability;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Job-level checkpointing: a run split into partitions, killed (SIGKILL) after its first partition
 * committed, then re-run: only the missing partitions are processed, nothing is published until all are
 * present, and the result equals an uninterrupted run. A re-run on another input starts over.
 */
public class ResumeTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ACCOUNTS = 600;
  private static Path modelDir;
  private static Path input;

  @BeforeClass
  public static void setUp() {
    modelDir = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(modelDir, 2000, 7, "1");
    input = TMP.getRoot().toPath().resolve("in/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), input);
  }

  private static List<String> args(Path output) {
    return args(input, output);
  }

  private static List<String> args(Path in, Path output) {
    return List.of("--runner=DirectRunner", "--input=" + in, "--model=" + modelDir, "--output=" + output,
        "--runDate=2026-11-28", "--numShards=2", "--partitions=3", "--progressEvery=0");
  }

  private static BatchScoringOptions options(Path output) {
    return options(input, output);
  }

  /** Drift is not judged: the new input is drawn with another seed, and a 150-record partition of it drifts. */
  private static BatchScoringOptions options(Path in, Path output) {
    List<String> a = new ArrayList<>(args(in, output));
    if (!in.equals(input)) {
      a.add("--minDriftSample=1000000");
    }
    return PipelineOptionsFactory.fromArgs(a.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  private static Map<String, JsonNode> predictions(String runDir) throws Exception {
    Map<String, JsonNode> byKey = new HashMap<>();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = JSON.readTree(line);
          assertTrue("key " + n.get("key") + " twice", byKey.put(n.get("key").asText(), n) == null);
        }
      }
    }
    return byKey;
  }

  /** The {@code _SUCCESS} of partition p's published attempt (a path that does not exist while it has none). */
  private static Path partitionSuccess(Path output, int p) throws java.io.IOException {
    String run = "run_date=2026-11-28/run_id=fraud-daily-20261128";
    Path partitionRun = output.resolve(run).resolve(String.format("_partitions/part-%05d", p)).resolve(run);
    Path current = partitionRun.resolve("_CURRENT");
    return Files.exists(current)
        ? partitionRun.resolve(Files.readString(current).trim()).resolve("_SUCCESS")
        : partitionRun.resolve("_SUCCESS");
  }

  @Test
  public void aPartitionedRunPublishesEveryKeyOnce() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("whole");
    RunSummary s = BatchScoringPipeline.run(options(out));
    assertThat(s.recordsRead, is((long) ACCOUNTS));
    assertThat(s.predictions, is((long) ACCOUNTS));
    assertThat(predictions(s.runDirectory).size(), is(ACCOUNTS));
    JsonNode manifest = JSON.readTree(Path.of(s.runDirectory, "_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is((long) ACCOUNTS));
    assertThat(manifest.get("partitions").asInt(), is(3));
    assertThat(manifest.get("files").get("parquet").size(), is(6));
    assertThat(Files.readString(out.resolve("_LATEST")).trim(), is(out.relativize(Path.of(s.runDirectory)).toString()));
    assertTrue(s.runDirectory, s.runDirectory.contains("run_date=2026-11-28/run_id=fraud-daily-20261128/attempt="));
  }

  /**
   * The same run id re-run on another input (the file rewritten in place: same path, new content) starts
   * over: every key is scored from the new input, nothing is left from the old one. Re-run once more on
   * the same input, it resumes as before: nothing is processed again.
   */
  @Test
  public void aReRunOnAnotherInputDiscardsTheCommittedPartitions() throws Exception {
    Path changing = TMP.getRoot().toPath().resolve("changing/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), changing);
    Path out = TMP.getRoot().toPath().resolve("changed");
    RunSummary old = BatchScoringPipeline.run(options(changing, out));
    assertThat(predictions(old.runDirectory).size(), is(ACCOUNTS));

    int fewer = 450;
    FraudSample.writeCsv(FraudSample.generate(fewer, 43), changing);
    Path copy = TMP.getRoot().toPath().resolve("new-input/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(fewer, 43), copy);
    Map<String, JsonNode> expected =
        predictions(BatchScoringPipeline.run(options(copy, TMP.getRoot().toPath().resolve("new-reference"))).runDirectory);
    assertThat(expected.size(), is(fewer));

    RunSummary rerun = BatchScoringPipeline.run(options(changing, out));
    assertThat("every partition was processed again", rerun.recordsRead, is((long) fewer));
    Map<String, JsonNode> got = predictions(rerun.runDirectory);
    assertThat(got.keySet(), is(expected.keySet()));
    for (Map.Entry<String, JsonNode> e : expected.entrySet()) {
      assertThat(e.getKey(), got.get(e.getKey()), is(e.getValue()));
    }
    JsonNode manifest = JSON.readTree(Path.of(rerun.runDirectory, "_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is((long) fewer));

    FileTime committedAt = Files.getLastModifiedTime(partitionSuccess(out, 1));
    RunSummary again = BatchScoringPipeline.run(options(changing, out));
    assertThat("same input: every partition resumed", again.recordsRead, is(0L));
    assertThat(Files.getLastModifiedTime(partitionSuccess(out, 1)), is(committedAt));
    assertThat(predictions(again.runDirectory).keySet(), is(expected.keySet()));
  }

  @Test
  public void aKilledRunResumesFromItsCommittedPartitions() throws Exception {
    Path reference = TMP.getRoot().toPath().resolve("reference");
    Map<String, JsonNode> uninterrupted = predictions(BatchScoringPipeline.run(options(reference)).runDirectory);

    Path out = TMP.getRoot().toPath().resolve("killed");
    List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), BatchScoringPipeline.class.getName()));
    cmd.addAll(args(out));
    Path log = TMP.getRoot().toPath().resolve("killed.log");
    Process job = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!Files.exists(partitionSuccess(out, 0))) {
      if (!job.isAlive()) {
        fail("the job ended before its first partition committed: " + Files.readString(log));
      }
      if (System.nanoTime() > deadline) {
        job.destroyForcibly();
        fail("partition 0 did not commit in 5 minutes: " + Files.readString(log));
      }
      Thread.sleep(20);
    }
    job.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
    job.waitFor(60, TimeUnit.SECONDS);
    assertFalse("killed before the last partition", Files.exists(partitionSuccess(out, 2)));
    assertFalse("nothing published", Files.exists(out.resolve("_LATEST")));
    assertFalse(Files.exists(out.resolve("run_date=2026-11-28/run_id=fraud-daily-20261128/_CURRENT")));
    FileTime committedAt = Files.getLastModifiedTime(partitionSuccess(out, 0));

    RunSummary resumed = BatchScoringPipeline.run(options(out));
    assertThat("partition 0 was not processed again", Files.getLastModifiedTime(partitionSuccess(out, 0)),
        is(committedAt));
    assertThat("only the missing partitions were read", resumed.recordsRead < ACCOUNTS, is(true));
    Map<String, JsonNode> got = predictions(resumed.runDirectory);
    assertThat(got.keySet(), is(uninterrupted.keySet()));
    for (Map.Entry<String, JsonNode> e : uninterrupted.entrySet()) {
      assertThat(e.getKey(), got.get(e.getKey()), is(e.getValue()));
    }
    assertTrue(Files.exists(out.resolve("_LATEST")));
  }
}
