package dev.batchserve.transforms.redis;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The store benchmark at a tiny size against a real redis-server: it runs and reports (no timing assertions). */
public class StoreBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void reportsTheSinkAndRawRatesAndLookupLatencies() throws Throwable {
    Path out = tmp.getRoot().toPath().resolve("store.json");
    StoreBenchmark.main(new String[] {"--records=2000", "--lookups=200", "--out=" + out});
    JsonNode json = new ObjectMapper().readTree(out.toFile());
    assertThat(json.get("records").asInt(), is(2000));
    assertThat(json.get("rawPipelinedSetPerSecond").asDouble(), greaterThan(0.0));
    assertThat(json.get("sinkRecordsPerSecond").asDouble(), greaterThan(0.0));
    assertThat(json.get("lookupP99Millis").asDouble(), greaterThan(0.0));
  }
}
