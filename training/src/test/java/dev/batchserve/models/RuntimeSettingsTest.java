package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.sameInstance;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;
import static org.junit.Assume.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.batchserve.models.ModelOptions.ExecutionProvider;
import dev.batchserve.models.ModelOptions.OptimizationLevel;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import dev.batchserve.models.training.XGBoostExporter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link ModelOptions} reach each backend's engine at load, and {@link Model#runtimeSettings()}
 * reports what the engine was given.
 */
public class RuntimeSettingsTest {
  @ClassRule public static final TemporaryFolder SHARED = new TemporaryFolder();

  private static Path tf;
  private static Path onnx;
  private static Path xgb;
  private static Path linear;

  @BeforeClass
  public static void exportModels() throws Exception {
    MlpWeights weights = TrainedModels.trainedMlp();
    Path root = SHARED.getRoot().toPath();
    tf = root.resolve("tf");
    TrainedModels.exportTensorFlow(weights, tf);
    onnx = root.resolve("onnx");
    OnnxExporter.export(weights, onnx, TestModels.partialManifest("1"));
    linear = root.resolve("linear");
    TrainedModels.exportLinear(linear, "1");
    float[][] x = TestModels.features(64, 1L);
    float[] flat = new float[x.length * 4];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * 4, 4);
    }
    DMatrix train = new DMatrix(flat, x.length, 4, Float.NaN);
    Booster booster;
    try {
      train.setLabel(TestModels.labels(x));
      Map<String, Object> params = new HashMap<>();
      params.put("objective", "binary:logistic");
      params.put("max_depth", 2);
      params.put("nthread", 1);
      booster = XGBoost.train(train, params, 3, new HashMap<>(), null, null);
    } finally {
      train.dispose();
    }
    xgb = root.resolve("xgb");
    XGBoostExporter.export(booster, xgb, TestModels.partialManifest("1"), 1);
    booster.dispose();
  }

  @Test
  public void tensorFlowReportsTheThreadsAndDeviceOfItsConfigProto() {
    try (Model m = Models.load(tf, ModelOptions.defaults().withIntraOpThreads(2).withInterOpThreads(1)
        .withDevice("/CPU:0"))) {
      Map<String, String> s = m.runtimeSettings();
      assertThat(s, hasEntry(Model.INTRA_OP_THREADS, "2"));
      assertThat(s, hasEntry(Model.INTER_OP_THREADS, "1"));
      assertThat(s, hasEntry(Model.DEVICE, "/CPU:0"));
      assertThat(s.get(Model.ENGINE), startsWith("tensorflow "));
    }
    try (Model m = Models.load(tf)) {
      assertThat(m.runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "0"));
      assertThat(m.runtimeSettings(), hasEntry(Model.DEVICE, "default"));
    }
  }

  @Test
  public void onnxReportsTheSessionOptionsItWasCreatedWith() {
    ModelOptions options = ModelOptions.defaults().withIntraOpThreads(3).withInterOpThreads(2)
        .withOptimizationLevel(OptimizationLevel.BASIC).withExecutionProvider(ExecutionProvider.CPU);
    try (Model m = Models.load(onnx, options)) {
      Map<String, String> s = m.runtimeSettings();
      assertThat(s, hasEntry(Model.INTRA_OP_THREADS, "3"));
      assertThat(s, hasEntry(Model.INTER_OP_THREADS, "2"));
      assertThat(s, hasEntry(Model.OPTIMIZATION_LEVEL, "BASIC_OPT"));
      assertThat(s, hasEntry(Model.EXECUTION_PROVIDER, "CPU"));
      assertThat(s.get(Model.ENGINE), startsWith("onnxruntime "));
    }
    try (Model m = Models.load(onnx)) {
      assertThat(m.runtimeSettings(), hasEntry(Model.OPTIMIZATION_LEVEL, "ALL_OPT"));
      assertThat(m.runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "0"));
    }
  }

  @Test
  public void onnxOptimizationLevelsDoNotChangeTheScores() {
    float[][] x = TestModels.features(50, 3L);
    try (Model none = Models.load(onnx, ModelOptions.defaults().withOptimizationLevel(OptimizationLevel.NONE));
        Model all = Models.load(onnx, ModelOptions.defaults().withOptimizationLevel(OptimizationLevel.ALL))) {
      assertThat(none.runtimeSettings(), hasEntry(Model.OPTIMIZATION_LEVEL, "NO_OPT"));
      float[][] a = none.predict(x);
      float[][] b = all.predict(x);
      for (int r = 0; r < x.length; r++) {
        assertThat("row " + r, (double) a[r][0], org.hamcrest.Matchers.closeTo(b[r][0], 1e-5));
      }
    }
  }

  @Test
  public void cudaWithoutAGpuFailsAtLoadNamingTheOptionToChange() {
    assumeFalse("this machine's ONNX Runtime has CUDA",
        OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(onnx,
        ModelOptions.defaults().withExecutionProvider(ExecutionProvider.CUDA)));
    assertThat(e.getMessage(), allOf(containsString("--onnxExecutionProvider=cuda"),
        containsString("not available"), containsString("onnxruntime_gpu"),
        containsString("--onnxExecutionProvider=cpu")));
    ModelLoadException byDevice = assertThrows(ModelLoadException.class,
        () -> Models.load(onnx, ModelOptions.defaults().withDevice("/GPU:0")));
    assertThat(byDevice.getMessage(), allOf(containsString("--modelDevice=/GPU:0"),
        containsString("--onnxExecutionProvider=cpu")));
  }

  @Test
  public void contradictoryDeviceAndProviderFailBeforeTheEngineIsAsked() {
    ModelLoadException cpuProviderOnGpu = assertThrows(ModelLoadException.class, () -> Models.load(onnx,
        ModelOptions.defaults().withDevice("/GPU:0").withExecutionProvider(ExecutionProvider.CPU)));
    assertThat(cpuProviderOnGpu.getMessage(), containsString("set --onnxExecutionProvider=cuda"));
    ModelLoadException cudaOnCpu = assertThrows(ModelLoadException.class, () -> Models.load(onnx,
        ModelOptions.defaults().withDevice("/CPU:0").withExecutionProvider(ExecutionProvider.CUDA)));
    assertThat(cudaOnCpu.getMessage(), containsString("--modelDevice=/GPU:n"));
  }

  @Test
  public void xgboostReportsNthread() {
    try (Model m = Models.load(xgb, ModelOptions.defaults().withIntraOpThreads(2))) {
      assertThat(m.runtimeSettings(), hasEntry("nthread", "2"));
      assertThat(m.runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "2"));
    }
    try (Model m = Models.load(xgb)) {
      assertThat(m.runtimeSettings(), hasEntry("nthread", "1"));
    }
    ModelLoadException gpu = assertThrows(ModelLoadException.class,
        () -> Models.load(xgb, ModelOptions.defaults().withExecutionProvider(ExecutionProvider.CUDA)));
    assertThat(gpu.getMessage(), containsString("CPU only"));
  }

  @Test
  public void linearRunsOnTheCallersThreadWhateverIsAsked() {
    try (Model m = Models.load(linear, ModelOptions.defaults().withIntraOpThreads(8))) {
      assertThat(m.runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "1"));
    }
    ModelLoadException gpu = assertThrows(ModelLoadException.class,
        () -> Models.load(linear, ModelOptions.defaults().withDevice("/GPU:1")));
    assertThat(gpu.getMessage(), containsString("--modelDevice=/GPU:1"));
  }

  @Test
  public void optionsAreValuesThatSurviveSerialization() throws Exception {
    ModelOptions a = ModelOptions.defaults().withIntraOpThreads(2).withInterOpThreads(1)
        .withDevice("/CPU:0").withOptimizationLevel(OptimizationLevel.EXTENDED)
        .withExecutionProvider(ExecutionProvider.CPU);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(a);
      out.writeObject(ModelOptions.defaults());
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      Object copy = in.readObject();
      assertThat(copy, equalTo(a));
      assertThat(copy.hashCode(), equalTo(a.hashCode()));
      assertThat(in.readObject(), sameInstance(ModelOptions.defaults()));
    }
    assertThat(a.withOptimizationLevel(OptimizationLevel.ALL), not(equalTo(a)));
    assertThat(a.withExecutionProvider(null), not(equalTo(a)));
    assertThat(OptimizationLevel.parse(" Extended "), equalTo(OptimizationLevel.EXTENDED));
    assertThat(ExecutionProvider.parse("CUDA"), equalTo(ExecutionProvider.CUDA));
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> ExecutionProvider.parse("tpu"));
    assertThat(bad.getMessage(), containsString("cpu or cuda, but was tpu"));
    assertThrows(IllegalArgumentException.class, () -> OptimizationLevel.parse("max"));
  }

  @Test
  public void theSharedCacheLoadsOneModelPerDistinctOptions() {
    ModelOptions two = ModelOptions.defaults().withIntraOpThreads(2);
    try (ModelHandle a = SharedModelCache.acquire(onnx, two);
        ModelHandle b = SharedModelCache.acquire(onnx, ModelOptions.defaults().withIntraOpThreads(2));
        ModelHandle c = SharedModelCache.acquire(onnx, two.withOptimizationLevel(OptimizationLevel.NONE))) {
      assertThat(b.model(), sameInstance(a.model()));
      assertThat(c.model(), not(sameInstance(a.model())));
      assertThat(c.model().runtimeSettings(), hasEntry(Model.OPTIMIZATION_LEVEL, "NO_OPT"));
    }
  }
}
