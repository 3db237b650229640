package dev.batchserve.examples.runners;

import static dev.batchserve.pipelines.runners.RunnerFixtures.assertSamePredictions;
import static dev.batchserve.pipelines.runners.RunnerFixtures.readJsonl;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.examples.churn.ChurnPipeline;
import dev.batchserve.tools.training.TrainChurnModel;
import dev.batchserve.examples.fraud.ScoreFraudTransactions;
import dev.batchserve.examples.recommend.RecommendPipeline;
import dev.batchserve.tools.training.TrainFraudModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The worked examples (fraud from raw transactions, top-k recommendations, weekly churn) on Flink
 * embedded in this JVM ({@code --flinkMaster=[local] --parallelism=2}) give, key for key, what the
 * Direct runner gives: every key once, the same fallbacks, labels and item lists, scores within 1e-6.
 */
public class ExamplesOnFlinkTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final String[] FLINK = {"--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"};
  private static final String[] DIRECT = {"--runner=DirectRunner"};
  private static Path root;

  @BeforeClass
  public static void train() {
    root = TMP.getRoot().toPath();
    TrainFraudModel.train(root.resolve("models/fraud-mlp/1"), 3000, 7, "1");
    TrainChurnModel.train(root.resolve("models/churn/1"), 3000, 7, "1");
  }

  /** Runs the example's pipeline on Direct and on Flink; returns both runs' predictions by key. */
  private static <O extends PipelineOptions> List<Map<String, JsonNode>> onBothRunners(
      Class<O> type, BiFunction<Pipeline, O, String> build, String outputOption, String... args) throws Exception {
    List<Map<String, JsonNode>> runs = new ArrayList<>();
    for (String[] runner : List.of(DIRECT, FLINK)) {
      List<String> all = new ArrayList<>(List.of(args));
      all.addAll(List.of(runner));
      all.add("--" + outputOption + "=" + root.resolve("out-" + type.getEnclosingClass().getSimpleName() + "-" + runner[0].substring(9)));
      O o = PipelineOptionsFactory.fromArgs(all.toArray(new String[0])).as(type);
      Pipeline p = Pipeline.create(o);
      String runDir = build.apply(p, o);
      assertThat(String.join(" ", runner), p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
      runs.add(readJsonl(runDir));
    }
    return runs;
  }

  @Test
  public void fraudFromRawTransactions() throws Exception {
    List<Map<String, JsonNode>> runs = onBothRunners(ScoreFraudTransactions.Options.class, ScoreFraudTransactions::build,
        "fraudTxOutput", "--accounts=300", "--seed=42", "--model=" + root.resolve("models/fraud-mlp/1"),
        "--runDate=2026-11-28", "--numShards=2");
    assertThat(runs.get(0).size(), is(300));
    assertSamePredictions("fraud on Flink", runs.get(0), runs.get(1));
  }

  @Test
  public void topKRecommendations() throws Exception {
    List<Map<String, JsonNode>> runs = onBothRunners(RecommendPipeline.Options.class, RecommendPipeline::build,
        "recsOutput", "--users=400", "--items=300", "--k=20", "--recsModel=" + root.resolve("models/recs/1"),
        "--runDate=2026-11-28", "--numShards=2");
    assertThat(runs.get(0).size(), is(400));
    assertSamePredictions("recommendations on Flink", runs.get(0), runs.get(1));
  }

  @Test
  public void weeklyChurn() throws Exception {
    List<Map<String, JsonNode>> runs = onBothRunners(ChurnPipeline.Options.class, ChurnPipeline::build,
        "churnOutput", "--customers=500", "--seed=11", "--churnModel=" + root.resolve("models/churn/1"),
        "--runDate=2026-11-23", "--threshold=0.3", "--numShards=2");
    assertThat(runs.get(0).size(), is(500));
    assertSamePredictions("churn on Flink", runs.get(0), runs.get(1));
  }
}
