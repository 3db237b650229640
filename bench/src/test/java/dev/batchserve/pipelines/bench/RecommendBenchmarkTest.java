package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The recommendations benchmark at a tiny size on the Direct runner: every step reports its figures (no timing assertions). */
public class RecommendBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void reportsEveryStepWithUsersAndGflops() throws Exception {
    Path out = tmp.getRoot().toPath().resolve("recommend.json");
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    RecommendBenchmark.run(new String[] {"--runner=DirectRunner"}, tmp.getRoot().toPath(), out,
        new RecommendBenchmark.Sizes(300, 200, 8, 10, 64), new PrintStream(table, true, StandardCharsets.UTF_8));

    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("runner").asText(), is("DirectRunner"));
    assertThat(json.get("users").asInt(), is(300));
    assertThat(json.get("items").asInt(), is(200));
    assertThat(json.get("dim").asInt(), is(8));
    assertThat(json.get("k").asInt(), is(10));
    assertThat(json.get("batchSize").asInt(), is(64));
    assertThat(json.get("machine").get("availableProcessors").asInt(), greaterThan(0));
    assertThat(json.get("machine").has("loadAverageAtStart"), is(true));
    // About 5% of the generated users are new (cold start): handled, but not scored by the model.
    int scored = json.get("scoredUsers").asInt();
    assertThat(scored, greaterThan(200));
    assertThat(scored, lessThan(300));
    assertThat(json.get("rawMatmulGflops").asDouble(), greaterThan(0.0));

    List<String> steps = StreamSupport.stream(json.get("results").spliterator(), false)
        .map(r -> r.get("step").asText()).collect(Collectors.toList());
    assertThat(steps, is(List.of("raw: TF matmul only", "raw: TF matmul + top-k graph", "raw: Model.predictNamed",
        "pipeline: Recommend only", "pipeline: RecommendPipeline")));
    for (JsonNode r : json.get("results")) {
      assertThat(r.get("scoredUsers").asInt(), is(scored));
      assertThat(r.get("users").asInt(), is(r.get("step").asText().startsWith("raw") ? scored : 300));
      for (String field : List.of("seconds", "usersPerSecond", "gflops", "ratioToRawMatmul")) {
        assertThat(r.get("step") + " " + field, r.get(field).asDouble(), greaterThan(0.0));
      }
    }
    assertThat(json.get("results").get(0).get("ratioToRawMatmul").asDouble(), is(1.0));
    assertThat(table.toString(StandardCharsets.UTF_8), containsString("| pipeline: RecommendPipeline | 300 |"));
  }
}
