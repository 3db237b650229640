package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.pipelines.config.JobConfig;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 20: model runtime options given as pipeline options (or in a job file) reach the model the
 * workers load, and that model reports them.
 */
public class ModelRuntimeOptionsTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final RunInfo RUN = RunInfo.of("opts", LocalDate.parse("2026-12-01"), RunInfo.Interval.DAILY);
  private static Path tfModel;

  @BeforeClass
  public static void exportTensorFlowModel() throws Exception {
    MlpWeights weights = new MlpWeights(List.of(
        new MlpWeights.Layer(new float[][] {{1f, -1f}, {0.5f, 2f}}, new float[] {0.1f, -0.2f}),
        new MlpWeights.Layer(new float[][] {{1f}, {-0.5f}}, new float[] {0.25f})),
        MlpWeights.OutputActivation.IDENTITY);
    tfModel = TMP.newFolder("tf").toPath();
    TensorFlowExporter.export(weights, tfModel,
        ModelManifest.builder().name("mlp").version("1").inputFeatures(List.of("a", "b")).build());
  }

  private static BatchScoringOptions options(String... args) {
    return BatchScoringPipeline.options(args);
  }

  @Test
  public void threadSettingsChosenInPipelineOptionsAreTheOnesTheLoadedModelReports() {
    ModelOptions chosen = OptionValues.modelOptions(
        options("--modelIntraOpThreads=2", "--modelInterOpThreads=1"));
    List<KV<String, FeatureVector>> in = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      in.add(KV.of("k" + i, FeatureVector.of(new float[] {i, -i * 0.5f})));
    }
    // The model the workers acquire: held open with the same options (built independently), the
    // DoFns share it, so the run loads nothing; a model loaded with other options would be a new load.
    try (ModelHandle held = SharedModelCache.acquire(tfModel,
        ModelOptions.defaults().withIntraOpThreads(2).withInterOpThreads(1))) {
      long loads = SharedModelCache.loadCount();
      PCollection<KV<String, FeatureVector>> vectors = p.apply(Create.of(in)
          .withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())));
      BatchInfer.Result<String> r = vectors.apply(BatchInfer.<String>withModel(tfModel.toString())
          .withRunInfo(RUN).withModelOptions(chosen));
      PAssert.that(r.deadLetters()).empty();
      p.run().waitUntilFinish();
      assertThat("the workers' model is the one loaded with the chosen options",
          SharedModelCache.loadCount() - loads, is(0L));
      assertThat(held.model().runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "2"));
      assertThat(held.model().runtimeSettings(), hasEntry(Model.INTER_OP_THREADS, "1"));
    }
  }

  @Test
  public void everyRuntimeOptionIsRead() {
    ModelOptions m = OptionValues.modelOptions(options("--modelIntraOpThreads=4",
        "--modelInterOpThreads=2", "--modelDevice=/CPU:0", "--onnxOptimizationLevel=Extended",
        "--onnxExecutionProvider=cpu"));
    assertThat(m, equalTo(ModelOptions.defaults().withIntraOpThreads(4).withInterOpThreads(2)
        .withDevice("/CPU:0").withOptimizationLevel(ModelOptions.OptimizationLevel.EXTENDED)
        .withExecutionProvider(ModelOptions.ExecutionProvider.CPU)));
    assertThat(OptionValues.modelOptions(options()), equalTo(ModelOptions.defaults()));
  }

  @Test
  public void badValuesNameTheirOption() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.modelOptions(
        options("--onnxExecutionProvider=tpu"))).getMessage(),
        containsString("--onnxExecutionProvider: ONNX execution provider must be cpu or cuda, but was tpu"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.modelOptions(
        options("--onnxOptimizationLevel=max"))).getMessage(), containsString("--onnxOptimizationLevel: "));
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.modelOptions(
        options("--modelDevice=gpu"))).getMessage(), containsString("--modelDevice: device must look like"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.modelOptions(
        options("--modelIntraOpThreads=-1"))).getMessage(),
        containsString("--modelIntraOpThreads must be >= 0, but was -1"));
  }

  @Test
  public void theJobFileModelRuntimeBecomesTheSameOptions() {
    String json = "{\"name\": \"orders\", \"source\": {\"type\": \"files\", \"path\": \"in/*.csv\"},"
        + " \"keyColumns\": [\"id\"], \"model\": \"m/1\", \"sinks\": [{\"type\": \"files\", \"root\": \"out\"}],"
        + " \"modelRuntime\": {\"intraOpThreads\": 2, \"interOpThreads\": 1,"
        + " \"onnxOptimizationLevel\": \"basic\", \"onnxExecutionProvider\": \"cpu\"}}";
    JobConfig job = JobConfig.parse(json, true, "job.json", List.of());
    List<String> args = dev.batchserve.pipelines.config.SetOptions.of(job, job.runInfo(LocalDate.parse("2026-11-28"), 0));
    assertThat(args, hasItems("--modelIntraOpThreads=2", "--modelInterOpThreads=1",
        "--onnxOptimizationLevel=basic", "--onnxExecutionProvider=cpu"));
    assertThat(OptionValues.modelOptions(job.toOptions(null)), equalTo(job.modelOptions()));
    // Without the block, no runtime option is passed at all.
    JobConfig plain = JobConfig.parse(json.replaceAll(", \"modelRuntime\": \\{[^}]*}", ""), true, "job.json", List.of());
    assertThat(dev.batchserve.pipelines.config.SetOptions.of(plain, plain.runInfo(LocalDate.parse("2026-11-28"), 0)),
        not(hasItem(containsString("OpThreads"))));
    JobConfig.InvalidConfig bad = assertThrows(JobConfig.InvalidConfig.class, () -> JobConfig.parse(
        json.replace("\"cpu\"", "\"tpu\""), true, "job.json", List.of()));
    assertThat(bad.getMessage(), containsString("modelRuntime: ONNX execution provider must be cpu or cuda, but was tpu"));
  }
}
