package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The benchmark harness at a tiny size: it runs and reports every batch size (no timing assertions). */
public class PipelineBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void reportsEveryBatchSizeWithBothRates() throws Exception {
    Path out = tmp.getRoot().toPath().resolve("pipeline.json");
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    PipelineBenchmark.run(new String[] {"--runner=DirectRunner"}, tmp.getRoot().toPath(), out, 2000,
        List.of(1, 64), new PrintStream(table, true, StandardCharsets.UTF_8));
    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("runner").asText(), is("DirectRunner"));
    assertThat(json.get("results").size(), is(2));
    assertThat(json.get("results").get(0).get("records").asLong(), is(200L));
    for (JsonNode r : json.get("results")) {
      assertThat(r.get("rawRecordsPerSecond").asDouble(), greaterThan(0.0));
      assertThat(r.get("pipelineRecordsPerSecond").asDouble(), greaterThan(0.0));
    }
    assertThat(table.toString(StandardCharsets.UTF_8), containsString("| 64 | 2,000 |"));
  }

  @Test
  public void vectorsAreDeterministicAndBounded() {
    float[] a = PipelineBenchmark.vector(12345);
    assertThat(java.util.Arrays.equals(a, PipelineBenchmark.vector(12345)), is(true));
    for (float f : a) {
      assertThat(f >= -1f && f < 1f, is(true));
    }
  }
}
