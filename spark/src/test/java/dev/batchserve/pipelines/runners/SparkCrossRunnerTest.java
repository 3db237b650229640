package dev.batchserve.pipelines.runners;

import static dev.batchserve.pipelines.runners.RunnerFixtures.assertSamePredictions;
import static dev.batchserve.pipelines.runners.RunnerFixtures.options;
import static dev.batchserve.pipelines.runners.RunnerFixtures.readJsonl;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The scoring job on Beam's SparkRunner with Spark 3.5 in this JVM ({@code --sparkMaster=local[2]}):
 * every key gets exactly one prediction, the Direct runner's (scores within 1e-6). The test JVM gets
 * the module opens Spark's launcher sets on Java 17 (the pipelines pom's {@code spark.addOpens}).
 */
public class SparkCrossRunnerTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static final int ACCOUNTS = 300;
  private static final String RUN_DATE = "2026-11-28";
  private static Path model;
  private static Path csv;
  private static Set<String> sampleKeys;
  private static Map<String, JsonNode> direct;

  @BeforeClass
  public static void trainGenerateAndScoreOnDirect() throws Exception {
    Path root = TMP.getRoot().toPath();
    model = root.resolve("models/fraud-mlp/1");
    TrainFraudModel.train(model, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    sampleKeys = rows.stream().map(r -> (String) r.get(FraudSample.KEY)).collect(Collectors.toSet());
    csv = root.resolve("sample/accounts.csv");
    FraudSample.writeCsv(rows, csv);
    RunSummary s = BatchScoringPipeline.run(options(csv, model, root.resolve("out-direct"), RUN_DATE,
        "--runner=DirectRunner"));
    direct = readJsonl(s.runDirectory);
    assertThat(direct.keySet(), is(sampleKeys));
  }

  @Test
  public void sparkLocalGivesTheDirectRunnersPredictions() throws Exception {
    RunSummary s = BatchScoringPipeline.run(options(csv, model, TMP.getRoot().toPath().resolve("out-spark"),
        RUN_DATE, "--runner=SparkRunner", "--sparkMaster=local[2]"));
    assertThat(s.predictions, is((long) ACCOUNTS));
    Map<String, JsonNode> got = readJsonl(s.runDirectory);
    assertThat(got.keySet(), is(sampleKeys));
    assertSamePredictions("Spark local[2]", direct, got);
  }
}
