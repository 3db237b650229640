package dev.batchserve.pipelines.runners;

import static dev.batchserve.pipelines.runners.RunnerFixtures.assertSamePredictions;
import static dev.batchserve.pipelines.runners.RunnerFixtures.options;
import static dev.batchserve.pipelines.runners.RunnerFixtures.readJsonl;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.flink.LocalFlinkCluster;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * One scoring job, three runners: the Direct runner, Flink embedded in this JVM
 * ({@code --flinkMaster=[local]}) and a real Flink session cluster (a JobManager and a TaskManager
 * JVM started by {@link LocalFlinkCluster}, one per class). Every runner must give every key exactly
 * one prediction, with the same fields; scores within 1e-6.
 */
public class CrossRunnerTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static final int ACCOUNTS = 300;
  private static final String RUN_DATE = "2026-11-28";
  private static Path model;
  private static Path csv;
  private static Set<String> sampleKeys;
  private static Map<String, JsonNode> direct;
  private static LocalFlinkCluster cluster;

  @BeforeClass
  public static void trainGenerateAndStartCluster() throws Exception {
    Path root = TMP.getRoot().toPath();
    model = root.resolve("models/fraud-mlp/1");
    TrainFraudModel.train(model, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    sampleKeys = rows.stream().map(r -> (String) r.get(FraudSample.KEY)).collect(Collectors.toSet());
    csv = root.resolve("sample/accounts.csv");
    FraudSample.writeCsv(rows, csv);

    cluster = LocalFlinkCluster.in(root.resolve("flink"))
        .withLibDir(RunnerFixtures.clusterLib())
        .withTaskManagers(1)
        .start();

    RunSummary s = BatchScoringPipeline.run(options(csv, model, root.resolve("out-direct"), RUN_DATE,
        "--runner=DirectRunner"));
    direct = readJsonl(s.runDirectory);
  }

  @AfterClass
  public static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  public void theDirectRunnerScoresEveryKeyOnce() {
    assertThat(direct.keySet(), is(sampleKeys));
  }

  @Test
  public void embeddedFlinkGivesTheDirectRunnersPredictions() throws Exception {
    RunSummary s = BatchScoringPipeline.run(options(csv, model, TMP.getRoot().toPath().resolve("out-embedded"),
        RUN_DATE, "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"));
    assertThat(s.predictions, is((long) ACCOUNTS));
    Map<String, JsonNode> got = readJsonl(s.runDirectory);
    assertThat(got.keySet(), is(sampleKeys));
    assertSamePredictions("embedded Flink", direct, got);
  }

  @Test
  public void aFlinkSessionClusterGivesTheDirectRunnersPredictions() throws Exception {
    long start = System.nanoTime();
    RunSummary s = BatchScoringPipeline.run(options(csv, model, TMP.getRoot().toPath().resolve("out-cluster"),
        RUN_DATE, "--runner=FlinkRunner", "--flinkMaster=" + cluster.restAddress(), "--parallelism=2",
        "--filesToStage=" + RunnerFixtures.filesToStage()));
    assertThat(s.predictions, is((long) ACCOUNTS));
    Map<String, JsonNode> got = readJsonl(s.runDirectory);
    assertThat(got.keySet(), is(sampleKeys));
    assertSamePredictions("Flink cluster", direct, got);

    List<JsonNode> jobs = cluster.jobs();
    assertThat(jobs.toString(), jobs, hasSize(1));
    assertThat(jobs.get(0).path("state").asText(), is("FINISHED"));
    System.out.printf("cluster job took %.1f s (submission included)%n", (System.nanoTime() - start) / 1e9);
  }
}
