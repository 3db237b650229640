package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The end-to-end benchmark at a tiny size on the Direct runner: it runs the job and reports (no timing assertions). */
public class EndToEndBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void scoresEveryRowAndReportsRatesAndMemory() throws Exception {
    Path out = tmp.getRoot().toPath().resolve("e2e.json");
    EndToEndBenchmark.main(new String[] {"--records=3000", "--workDir=" + tmp.getRoot(), "--out=" + out,
        "--runner=DirectRunner"});
    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("records").asLong(), is(3000L));
    assertThat(json.get("runner").asText(), is("DirectRunner"));
    assertThat(json.get("pipelineRowsPerSecond").asDouble(), greaterThan(0.0));
    assertThat(json.get("rawRowsPerSecond").asDouble(), greaterThan(0.0));
    assertThat(json.get("peakRssBytes").asLong(), greaterThan(0L));
  }
}
