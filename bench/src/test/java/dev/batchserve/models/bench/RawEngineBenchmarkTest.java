package dev.batchserve.models.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Smoke test at a tiny size: the report has every backend x batch size. No timing assertions. */
public class RawEngineBenchmarkTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void reportsEveryBackendAtEveryBatchSize() throws Exception {
    Path json = tmp.getRoot().toPath().resolve("out/bench.json");
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    int[] sizes = {1, 32, 256, 1024, 4096};
    RawEngineBenchmark.run(
        RawEngineBenchmark.Config.defaults().withBatchSizes(sizes).withRecords(1).withWarmupRecords(1),
        tmp.newFolder("work").toPath(), json, new PrintStream(table, true, StandardCharsets.UTF_8));

    JsonNode report = new ObjectMapper().readTree(json.toFile());
    Set<String> seen = new HashSet<>();
    for (JsonNode result : report.get("results")) {
      int batch = result.get("batchSize").asInt();
      seen.add(result.get("backend").asText() + "@" + batch);
      assertThat(result.get("records").asLong(), equalTo((long) batch)); // one batch per point
    }
    Set<String> expected = new HashSet<>();
    for (String backend : new String[] {"TF_SAVED_MODEL", "LINEAR_JSON", "ONNX", "XGBOOST"}) {
      for (int size : sizes) {
        expected.add(backend + "@" + size);
      }
    }
    assertThat(seen, equalTo(expected));
    assertThat(report.get("results").size(), equalTo(20));

    String markdown = table.toString(StandardCharsets.UTF_8);
    assertThat(markdown.lines().findFirst().orElse(""),
        equalTo("| backend | batch 1 | batch 32 | batch 256 | batch 1024 | batch 4096 |"));
    assertThat(markdown.lines().filter(l -> l.startsWith("| XGBOOST |")).count(), equalTo(1L));
  }

  @Test
  public void randomMlpIsReproducible() {
    assertThat(RawEngineBenchmark.randomMlp(new int[] {4, 3, 1}, 5).toJson(),
        equalTo(RawEngineBenchmark.randomMlp(new int[] {4, 3, 1}, 5).toJson()));
  }
}
