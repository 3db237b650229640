package dev.batchserve.examples.churn;

import dev.batchserve.tools.samples.ChurnSample;
import dev.batchserve.tools.training.TrainChurnModel;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.gcp.testing.FakeBigQuery;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ChurnPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final int CUSTOMERS = 300;
  private static Path modelDir;
  private static MlpWeights trained;

  @BeforeClass
  public static void train() {
    modelDir = TMP.getRoot().toPath().resolve("models/churn-logistic/1");
    trained = TrainChurnModel.train(modelDir, 3000, 7, "1");
  }

  /** sigmoid(w . x + b), written out: the logistic model by hand. */
  private static double byHand(int customer) {
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainChurnModel.SPEC_FILE).toString());
    float[] x = spec.transform(ChurnSample.customer(customer, 11)).vector();
    MlpWeights.Layer layer = trained.getLayers().get(0);
    double z = layer.getB()[0];
    for (int i = 0; i < x.length; i++) {
      z += (double) layer.getW()[i][0] * x[i];
    }
    return 1 / (1 + Math.exp(-z));
  }

  private static Map<String, JsonNode> published(String runDir) throws Exception {
    return dev.batchserve.pipelines.PublishedFiles.jsonLines(runDir);
  }

  /**
   * The weekly run lands in BigQuery (Beam's fakes, {@link FakeBigQuery}) beside Parquet: one row per
   * customer in the run's partition, with the file's probability and label.
   */
  @Test
  public void theWeeklyRunIsLoadedIntoBigQueryWithTheFilesProbabilitiesAndLabels() throws Exception {
    FakeBigQuery bq = new FakeBigQuery().dataset("analytics");
    ChurnPipeline.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--customers=" + CUSTOMERS,
        "--seed=11", "--churnModel=" + modelDir, "--churnOutput=" + TMP.getRoot() + "/bq-out", "--runDate=2026-11-23",
        "--threshold=0.3", "--numShards=2", "--bigQueryTable=" + FakeBigQuery.PROJECT + ":analytics.churn")
        .as(ChurnPipeline.Options.class);
    bq.configure(o, TMP.newFolder("bq-temp").getAbsolutePath());
    o.setBigQueryServices(bq.services);
    Pipeline p = Pipeline.create(o);
    String runDir = ChurnPipeline.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));

    Map<String, String> expected = new TreeMap<>();
    published(runDir).forEach((k, n) -> expected.put(k,
        (float) n.get("score").asDouble() + " " + n.get("label").asText() + " " + n.get("run_id").asText()));
    assertThat(expected.size(), is(CUSTOMERS));
    Map<String, String> loaded = new TreeMap<>();
    for (TableRow r : bq.rows("analytics", "churn")) {
      loaded.put((String) r.get("key"), ((Number) r.get("score")).floatValue() + " " + r.get("label") + " " + r.get("run_id"));
    }
    assertThat(loaded, is(expected));
  }

  @Test
  public void everyCustomerGetsItsProbabilityAndLabelAsComputedByHand() throws Exception {
    ChurnPipeline.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--customers=" + CUSTOMERS,
        "--seed=11", "--churnModel=" + modelDir, "--churnOutput=" + TMP.getRoot() + "/out", "--runDate=2026-11-23",
        "--threshold=0.3", "--numShards=2").as(ChurnPipeline.Options.class);
    Pipeline p = Pipeline.create(o);
    String runDir = ChurnPipeline.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
    assertTrue(Files.exists(Path.of(runDir, "_SUCCESS")));
    assertTrue(runDir, runDir.contains("run_date=2026-11-23/run_id=churn-weekly-20261123/attempt="));

    Map<String, JsonNode> byKey = published(runDir);
    assertThat(byKey.size(), is(CUSTOMERS));
    // Hand-checked keys, one of them with no recorded last order (imputed by the spec).
    int missing = -1;
    for (int i = 0; i < CUSTOMERS && missing < 0; i++) {
      if (ChurnSample.customer(i, 11).get("days_since_last_order") == null) {
        missing = i;
      }
    }
    assertTrue("the sample has a customer without a last order", missing >= 0);
    int churners = 0;
    for (int i : new int[] {0, 1, 42, 299, missing}) {
      JsonNode n = byKey.get(ChurnSample.customerId(i));
      double expected = byHand(i);
      assertThat(ChurnSample.customerId(i), n.get("score").asDouble(), closeTo(expected, 1e-6));
      assertThat(n.get("label").asText(), is(expected >= 0.3 ? "churn" : "stay"));
      assertThat(n.get("model_name").asText(), is("churn-logistic"));
      assertThat(n.get("run_id").asText(), is("churn-weekly-20261123"));
    }
    for (JsonNode n : byKey.values()) {
      assertThat(n.get("label").asText(), is(n.get("score").asDouble() >= 0.3 ? "churn" : "stay"));
      churners += n.get("label").asText().equals("churn") ? 1 : 0;
    }
    assertTrue("some churn, some stay: " + churners, churners > 0 && churners < CUSTOMERS);
  }

  @Test
  public void theThresholdIsInclusiveAndFallbacksKeepNoLabel() {
    RunInfo run = RunInfo.of("churn", LocalDate.parse("2026-11-23"), RunInfo.Interval.WEEKLY);
    Prediction half = Prediction.builder().scores(new float[] {0.5f}).model("m", "1")
        .predictionTimestampMillis(0).runId(run.runId()).build();
    assertThat(ChurnPipeline.label(half, 0.5).getLabel(), is("churn"));
    assertThat(ChurnPipeline.label(half, 0.50001).getLabel(), is("stay"));
    Prediction abstained = Fallback.abstain().fallback("k", "cold_start", run, "1", null);
    assertThat(ChurnPipeline.label(abstained, 0.5).getLabel(), nullValue());
  }
}
