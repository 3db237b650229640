package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.FraudSample;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The scoring job end to end (Direct runner) with the engines that batchserve-models keeps optional:
 * an ONNX model and an XGBoost model, each publishing exactly the scores its engine computes outside Beam.
 */
public class OnnxAndXGBoostPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final int ACCOUNTS = 300;
  private static List<Map<String, Object>> rows;
  private static Path csv;
  private static Path onnx;
  private static Path xgboost;

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    EngineModels models = EngineModels.fit(2000, 7);
    onnx = TMP.getRoot().toPath().resolve("models/fraud-onnx/1");
    models.writeOnnx(onnx);
    xgboost = TMP.getRoot().toPath().resolve("models/fraud-xgb/1");
    models.writeXGBoost(xgboost);
    rows = FraudSample.generate(ACCOUNTS, 42);
    csv = TMP.getRoot().toPath().resolve("sample/accounts.csv");
    FraudSample.writeCsv(rows, csv);
  }

  private static Map<String, Double> score(Path model, String output) throws Exception {
    BatchScoringOptions o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--input=" + csv,
        "--model=" + model, "--output=" + output, "--runDate=2026-11-28", "--formats=jsonl", "--numShards=2")
        .withValidation().as(BatchScoringOptions.class);
    RunSummary s = BatchScoringPipeline.run(o);
    assertThat(s.render(), s.predictions, is((long) ACCOUNTS));
    assertThat(s.render(), s.fallbacks, is(0L));
    assertThat(s.render(), s.deadLetters, is(0L));
    Map<String, Double> scores = new HashMap<>();
    ObjectMapper json = new ObjectMapper();
    try (Stream<Path> files = Files.list(Path.of(s.runDirectory, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = json.readTree(line);
          scores.put(n.get("key").asText(), n.get("score").asDouble());
        }
      }
    }
    return scores;
  }

  private static void assertSameScores(Map<String, Double> published, Map<String, Float> engine) {
    assertThat(published.keySet(), is(engine.keySet()));
    for (Map.Entry<String, Float> e : engine.entrySet()) {
      assertThat(e.getKey(), published.get(e.getKey()), closeTo(e.getValue(), 1e-6));
    }
  }

  @Test
  public void anOnnxModelPublishesOnnxRuntimesOwnScores() throws Exception {
    assertSameScores(score(onnx, TMP.getRoot() + "/predictions/onnx"), EngineModels.onnxScores(onnx, rows));
  }

  @Test
  public void anXGBoostModelPublishesBoosterPredict() throws Exception {
    assertSameScores(score(xgboost, TMP.getRoot() + "/predictions/xgb"), EngineModels.xgboostScores(xgboost, rows));
  }
}
