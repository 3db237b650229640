package dev.batchserve.examples.recommend;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.startsWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.sink.FileSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The change rate of recommendations: each run says how much its top-k lists moved since the last. */
public class RecommendChangeTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String run(String date, long seed) {
    RecommendPipeline.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--users=120",
        "--items=80", "--k=10", "--seed=" + seed, "--recsModel=" + TMP.getRoot() + "/models/" + seed + "/1",
        "--recsOutput=" + TMP.getRoot() + "/out", "--runDate=" + date, "--numShards=1")
        .as(RecommendPipeline.Options.class);
    Pipeline p = Pipeline.create(o);
    String dir = RecommendPipeline.build(p, o);
    p.run().waitUntilFinish();
    return dir;
  }

  private static Map<String, Set<String>> lists(String runDir) throws Exception {
    Map<String, Set<String>> out = new HashMap<>();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f)) {
          JsonNode n = JSON.readTree(line);
          if (n.get("fallback_reason").isNull()) {
            Set<String> items = new HashSet<>();
            n.get("items").forEach(i -> items.add(i.asText()));
            out.put(n.get("key").asText(), items);
          }
        }
      }
    }
    return out;
  }

  @Test
  public void eachRunMeasuresTheOverlapOfItsListsWithThePreviousRun() throws Exception {
    String day1 = run("2026-11-26", 42);
    assertThat(Files.exists(Path.of(day1, RecommendPipeline.CHANGE_FILE)), is(false)); // nothing to compare
    String day2 = run("2026-11-27", 43); // another catalog: the lists move
    String day3 = run("2026-11-28", 43); // the same inputs again: the lists stay

    Map<String, Set<String>> l1 = lists(day1);
    Map<String, Set<String>> l2 = lists(day2);
    double sum = 0;
    int compared = 0;
    for (Map.Entry<String, Set<String>> e : l2.entrySet()) {
      Set<String> before = l1.get(e.getKey());
      if (before != null) {
        compared++;
        sum += e.getValue().stream().filter(before::contains).count() / (double) e.getValue().size();
      }
    }
    JsonNode change2 = JSON.readTree(Path.of(day2, RecommendPipeline.CHANGE_FILE).toFile());
    assertThat(change2.get("previous_run_id").asText(), is("recs-daily-20261126"));
    assertThat(change2.get("users_compared").asInt(), is(compared));
    assertThat(change2.get("mean_top_k_overlap").asDouble(), closeTo(sum / compared, 1e-12));
    assertThat(change2.get("mean_top_k_overlap").asDouble(), lessThan(1.0));

    JsonNode change3 = JSON.readTree(Path.of(day3, RecommendPipeline.CHANGE_FILE).toFile());
    assertThat(change3.get("previous_run_id").asText(), is("recs-daily-20261127"));
    assertThat(change3.get("users_compared").asInt(), is(lists(day3).size()));
    assertThat(change3.get("identical_lists").asInt(), is(lists(day3).size()));
    assertThat(change3.get("mean_top_k_overlap").asDouble(), is(1.0));
    assertThat(Files.readString(Path.of(TMP.getRoot() + "/out", FileSink.LATEST)).trim(),
        startsWith(FileSink.runPath(RecommendPipeline.runInfo(
            PipelineOptionsFactory.fromArgs("--runDate=2026-11-28").as(RecommendPipeline.Options.class))) + "/attempt="));
  }
}
