package dev.batchserve.pipelines.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.tools.flink.FlinkClusterClasspath;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * What the runner tests share: the cluster's jars, what to stage, options, and reading a run's output;
 * batchserve-examples' ExamplesOnFlinkTest compares runs with {@link #readJsonl} and {@link #assertSamePredictions}.
 */
public final class RunnerFixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunnerFixtures() {}

  /** The cluster's lib folder, copied once per build into target/ (the build sets these properties). */
  static Path clusterLib() throws IOException, InterruptedException {
    Path pom = Path.of(System.getProperty("batchserve.flinkPom", "../flink/pom.xml"));
    return FlinkClusterClasspath.copy(pom, Path.of("target", "flink-cluster-lib"));
  }

  /** The test JVM's class path (surefire starts it through a manifest-only jar). */
  static List<String> testClasspath() {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    return Arrays.stream(cp.split(File.pathSeparator)).filter(s -> !s.isEmpty()).collect(Collectors.toList());
  }

  /** What a job stages: see {@link FlinkClusterClasspath#filesToStage(List)}. */
  static String filesToStage() {
    return FlinkClusterClasspath.filesToStage(testClasspath());
  }

  static BatchScoringOptions options(Path input, Path model, Path output, String runDate, String... runnerArgs) {
    List<String> args = new ArrayList<>(List.of(
        "--input=" + input.toAbsolutePath(), "--model=" + model.toAbsolutePath(),
        "--output=" + output.toAbsolutePath(), "--runDate=" + runDate, "--numShards=2"));
    args.addAll(Arrays.asList(runnerArgs));
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  /** The run's JSON-lines predictions by key; fails on a key written twice. */
  public static Map<String, JsonNode> readJsonl(String runDir) throws IOException {
    return dev.batchserve.pipelines.PublishedFiles.jsonLines(runDir);
  }

  /**
   * Same keys and every field equal, but scores within 1e-6: the engine's float sums may round
   * differently when a record shares its batch with other records.
   */
  public static void assertSamePredictions(String what, Map<String, JsonNode> want, Map<String, JsonNode> got) {
    assertThat(what + " keys", got.keySet(), is(want.keySet()));
    for (Map.Entry<String, JsonNode> e : want.entrySet()) {
      ObjectNode w = e.getValue().deepCopy();
      ObjectNode g = got.get(e.getKey()).deepCopy();
      assertThat(what + " score of " + e.getKey(), g.get("score").asDouble(), closeTo(w.get("score").asDouble(), 1e-6));
      for (int i = 0; i < w.get("scores").size(); i++) {
        assertThat(what + " scores of " + e.getKey(), g.get("scores").get(i).asDouble(),
            closeTo(w.get("scores").get(i).asDouble(), 1e-6));
      }
      assertThat(what + " confidence of " + e.getKey(), g.get("confidence").asDouble(),
          closeTo(w.get("confidence").asDouble(), 1e-6));
      for (ObjectNode n : List.of(w, g)) {
        n.remove("score");
        n.remove("scores");
        n.remove("confidence");
      }
      assertThat(what + " " + e.getKey(), g, is(w));
    }
  }
}
