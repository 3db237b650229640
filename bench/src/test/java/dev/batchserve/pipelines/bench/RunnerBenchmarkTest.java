package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.flink.FlinkClusterClasspath;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The runner benchmark at a tiny size, all three runners included: the Flink session cluster is
 * started from the jars the build copies for the runner tests (target/flink-cluster-lib), and the job
 * stages the test class path. No timing assertions.
 */
public class RunnerBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void runsTheJobOnThreeRunnersAndFindsTheSamePredictions() throws Exception {
    Path root = tmp.getRoot().toPath();
    Path lib = FlinkClusterClasspath.copy(Path.of(System.getProperty("batchserve.flinkPom", "../flink/pom.xml")),
        Path.of("target", "flink-cluster-lib"));
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    RunnerBenchmark.Cluster cluster = new RunnerBenchmark.Cluster(root.resolve("flink"), lib,
        FlinkClusterClasspath.filesToStage(Arrays.asList(cp.split(File.pathSeparator))));
    Path out = root.resolve("runners.json");
    ByteArrayOutputStream table = new ByteArrayOutputStream();

    RunnerBenchmark.run(root.resolve("work"), 300, 64, 3000, cluster, out,
        new PrintStream(table, true, StandardCharsets.UTF_8));

    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("records").asLong(), is(300L));
    assertThat(json.get("clusterStartSeconds").asDouble(), greaterThan(0.0));
    assertThat(json.get("machine").get("availableProcessors").asInt(), greaterThan(0));
    List<String> runners = StreamSupport.stream(json.get("results").spliterator(), false)
        .map(r -> r.get("runner").asText()).collect(Collectors.toList());
    assertThat(runners, is(List.of("Direct", "Flink embedded", "Flink cluster")));
    for (JsonNode r : json.get("results")) {
      assertThat(r.get("keys").asLong(), is(300L));
      assertThat(r.get("predictions").asLong() + r.get("fallbacks").asLong(), is(300L));
      assertThat(r.get("samePredictionsAsDirect").asBoolean(), is(true));
      assertThat(r.get("seconds").asDouble(), greaterThan(0.0));
      assertThat(r.get("rowsPerSecond").asDouble(), greaterThan(0.0));
    }
    assertThat(table.toString(StandardCharsets.UTF_8), containsString("| Flink cluster |"));
  }

  @Test
  public void aDifferentScoreOrAMissingKeyIsNotTheSamePrediction() throws Exception {
    String line = "{\"key\":\"a\",\"score\":0.5,\"scores\":[0.5],\"label\":null,\"confidence\":0.5,\"run_id\":\"r\"}";
    String close = line.replace("0.5", "0.5000001");
    String far = line.replace("0.5", "0.6");
    String other = line.replace("\"r\"", "\"s\"");
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", line)).same(), is(true));
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", line)).identicalLines, is(1L));
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", close)).same(), is(true));
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", far)).same(), is(false));
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", other)).same(), is(false));
    assertThat(RunnerBenchmark.compare(Map.of("a", line, "b", line), Map.of("a", line)).same(), is(false));
    assertThat(RunnerBenchmark.compare(Map.of("a", line), Map.of("a", line, "b", line)).same(), is(false));
  }
}
