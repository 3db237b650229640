package dev.batchserve.pipelines.runners;

import static dev.batchserve.pipelines.runners.RunnerFixtures.options;
import static dev.batchserve.pipelines.runners.RunnerFixtures.readJsonl;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.flink.LocalFlinkCluster;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.features.FeatureSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A TaskManager SIGKILLed in the middle of a scoring job: with two TaskManagers and a fixed-delay
 * restart strategy the job restarts on the survivor and FINISHES, and the published run still has
 * exactly one prediction per key, each equal to the model's score computed outside Beam.
 */
public class FlinkFailoverTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  private static final int ACCOUNTS = 20_000;
  private static Path model;
  private static Path csv;
  private static Map<String, Float> reference;
  private static LocalFlinkCluster cluster;

  @BeforeClass
  public static void trainGenerateAndStartCluster() throws Exception {
    Path root = TMP.getRoot().toPath();
    model = root.resolve("models/fraud-mlp/1");
    dev.batchserve.tools.training.TrainingSet.Trained trained = TrainFraudModel.train(model, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 43);
    csv = root.resolve("sample/accounts.csv");
    FraudSample.writeCsv(rows, csv);
    FeatureSpec saved = FeatureSpec.read(model.resolve(TrainFraudModel.SPEC_FILE).toString());
    reference = new HashMap<>();
    for (Map<String, Object> row : rows) {
      reference.put((String) row.get(FraudSample.KEY), trained.weights.predict(saved.transform(row).vector())[0]);
    }

    cluster = LocalFlinkCluster.in(root.resolve("flink"))
        .withLibDir(RunnerFixtures.clusterLib())
        .withTaskManagers(2)
        // One lost TaskManager costs several restarts: every consumer of a partition it held fails
        // on its own (PartitionNotFoundException), and on a busy 2-core machine a slow survivor may
        // miss a 5 s heartbeat too; 3 attempts were seen to run out.
        .withRestarts(10, Duration.ofSeconds(1))
        .withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(5))
        // Vertex metrics on /jobs/<id> refresh every second: the test kills once records flow.
        .withConf("metrics.fetcher.update-interval", "1000")
        .start();
  }

  @AfterClass
  public static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  public void aJobSurvivesATaskManagerKilledMidwayWithOnePredictionPerKey() throws Exception {
    ExecutorService client = Executors.newSingleThreadExecutor();
    long start = System.nanoTime();
    // Small batches make inference the long step, so that the kill lands while records flow.
    Future<RunSummary> run = client.submit(() -> BatchScoringPipeline.run(options(csv, model,
        TMP.getRoot().toPath().resolve("out"), "2026-11-28", "--runner=FlinkRunner",
        "--flinkMaster=" + cluster.restAddress(), "--parallelism=2", "--batchSize=2",
        "--filesToStage=" + RunnerFixtures.filesToStage())));

    String jobId = awaitInferenceRunning(run);
    long killed = cluster.killTaskManager(0);
    JsonNode atKill = cluster.rest("/jobs/" + jobId);
    System.out.printf("killed TaskManager 0 (pid %d) %.1f s after submission; job state %s%n",
        killed, (System.nanoTime() - start) / 1e9, atKill.path("state").asText());
    assertFalse("the kill must land before the job ends", atKill.path("state").asText().equals("FINISHED"));

    RunSummary s = run.get(10, TimeUnit.MINUTES);
    client.shutdown();
    System.out.printf("job with failover took %.1f s%n", (System.nanoTime() - start) / 1e9);

    List<JsonNode> jobs = cluster.jobs();
    assertThat(jobs.toString(), jobs, hasSize(1));
    assertThat(jobs.get(0).path("state").asText(), is("FINISHED"));
    // The job did fail over: its exception history names the lost TaskManager.
    JsonNode exceptions = cluster.rest("/jobs/" + jobId + "/exceptions");
    assertThat(exceptions.path("exceptionHistory").path("entries").toString(), containsString("tm-0"));
    assertTrue("the job restarted", cluster.rest("/jobs/" + jobId).path("timestamps").path("RESTARTING").asLong() > 0);

    assertThat(s.predictions, is((long) ACCOUNTS));
    assertThat(s.fallbacks, is(0L));
    Map<String, JsonNode> got = readJsonl(s.runDirectory); // fails on a key written twice
    assertThat(got.keySet(), is(reference.keySet()));
    for (Map.Entry<String, JsonNode> e : got.entrySet()) {
      assertThat(e.getKey(), e.getValue().get("score").asDouble(), closeTo(reference.get(e.getKey()), 1e-5));
    }
  }

  /**
   * Waits until the inference vertex has read records (or already finished while the job still runs:
   * the partitions it left on the TaskManager are then lost and must be recomputed); returns the job id.
   */
  private static String awaitInferenceRunning(Future<RunSummary> run) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    String last = "no job yet";
    while (System.nanoTime() < deadline) {
      if (run.isDone()) {
        run.get(); // surfaces a submission failure
        throw new AssertionError("the job ended before the TaskManager could be killed: " + last);
      }
      List<JsonNode> jobs = cluster.jobs();
      if (!jobs.isEmpty()) {
        String jobId = jobs.get(0).path("jid").asText();
        JsonNode job = cluster.rest("/jobs/" + jobId);
        last = job.path("state").asText();
        for (JsonNode v : job.path("vertices")) {
          String status = v.path("status").asText();
          if (v.path("name").asText().contains("KeyedPrediction/Infer/Infer")
              && job.path("state").asText().equals("RUNNING")
              && ((status.equals("RUNNING") && v.path("metrics").path("read-records").asLong() > 0)
                  || status.equals("FINISHED"))) {
            return jobId;
          }
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("inference never ran: " + last);
  }
}
