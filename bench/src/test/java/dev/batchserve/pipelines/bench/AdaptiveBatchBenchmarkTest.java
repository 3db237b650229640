package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

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

/** The fixed vs adaptive harness at a tiny size: it runs and reports every mode (no timing assertions). */
public class AdaptiveBatchBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void reportsRatesAndBatchSizesOfEveryMode() throws Exception {
    Path out = tmp.getRoot().toPath().resolve("adaptive.json");
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    AdaptiveBatchBenchmark.run(new String[] {"--runner=DirectRunner"}, tmp.getRoot().toPath(), out, 3000,
        List.of(64), 8, 512, new PrintStream(table, true, StandardCharsets.UTF_8));
    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("results").size(), is(2));
    JsonNode fixed = json.get("results").get(0);
    assertThat(fixed.get("mode").asText(), is("fixed 64"));
    assertThat(fixed.get("batchSizeMax").asLong(), lessThanOrEqualTo(64L));
    JsonNode adaptive = json.get("results").get(1);
    assertThat(adaptive.get("mode").asText(), is("adaptive 8..512"));
    assertThat(adaptive.get("recordsPerSecond").asDouble(), greaterThan(0.0));
    assertThat(adaptive.get("batchSizeMax").asLong(), lessThanOrEqualTo(512L));
    for (JsonNode target : adaptive.get("batchSizeTarget")) {
      assertThat(target.asLong(), greaterThanOrEqualTo(8L));
      assertThat(target.asLong(), lessThanOrEqualTo(512L));
    }
    assertThat(table.toString(StandardCharsets.UTF_8), containsString("| adaptive 8..512 |"));
  }
}
