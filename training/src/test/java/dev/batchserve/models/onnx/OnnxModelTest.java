package dev.batchserve.models.onnx;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.Models;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.models.TestModels;
import dev.batchserve.models.TrainedModels;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The demo MLP written as ONNX by the hand-made protobuf encoder and run with ONNX Runtime. */
public class OnnxModelTest {
  @ClassRule public static final TemporaryFolder SHARED = new TemporaryFolder();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static MlpWeights weights;
  private static Path exported;

  @BeforeClass
  public static void exportOnce() {
    weights = TrainedModels.trainedMlp();
    exported = SHARED.getRoot().toPath().resolve("onnx");
    OnnxExporter.export(weights, exported, TestModels.partialManifest("1"));
  }

  @Test
  public void outputsMatchTheJavaReferenceWithin1e5() {
    float[][] x = TestModels.features(300, 5L);
    float[][] expected = weights.predict(x);
    try (Model model = Models.load(exported)) {
      assertThat(model, instanceOf(OnnxModel.class));
      float[][] actual = model.predict(x);
      for (int r = 0; r < x.length; r++) {
        assertThat(actual[r].length, equalTo(1));
        assertThat("row " + r, (double) actual[r][0], closeTo(expected[r][0], 1e-5));
      }
    }
  }

  @Test
  public void signatureHasTheDynamicBatchDimension() {
    try (Model model = Models.load(exported)) {
      assertThat(model.signature().getInputs(),
          equalTo(List.of(new TensorInfo("x", "float32", new long[] {-1, 4}))));
      assertThat(model.signature().getOutputs(),
          equalTo(List.of(new TensorInfo("y", "float32", new long[] {-1, 1}))));
      assertThat(ModelManifest.read(exported).getFormat(), equalTo(ModelFormat.ONNX));
    }
  }

  @Test
  public void identityOutputAndDeeperNetworkMatchToo() {
    MlpWeights deep = new MlpWeights(List.of(
        new MlpWeights.Layer(new float[][] {{1, -1, 0.5f}, {2, 0, -1}}, new float[] {0.1f, 0.2f, -0.3f}),
        new MlpWeights.Layer(new float[][] {{1, 0}, {0, 1}, {1, 1}}, new float[] {0, 0.5f}),
        new MlpWeights.Layer(new float[][] {{3, 1}, {-2, 1}}, new float[] {1, -1})),
        MlpWeights.OutputActivation.IDENTITY);
    Path dir = tmp.getRoot().toPath().resolve("deep");
    OnnxExporter.export(deep, dir, ModelManifest.builder().name("deep").version("1").build());
    float[][] x = {{1, 2}, {-1, 0.5f}, {0, 0}};
    try (Model model = Models.load(dir)) {
      float[][] actual = model.predict(x);
      for (int r = 0; r < x.length; r++) {
        float[] expected = deep.predict(x[r]);
        for (int j = 0; j < 2; j++) {
          assertThat((double) actual[r][j], closeTo(expected[j], 1e-5));
        }
      }
    }
  }

  @Test
  public void badInputIsRejectedBeforeTheEngine() {
    try (Model model = Models.load(exported)) {
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predict(new float[][] {{1, 2, 3}})).getMessage(),
          equalTo("row 0 has 3 features, the model expects 4"));
      assertThat(model.predict(new float[0][]).length, equalTo(0));
    }
  }

  @Test
  public void tamperedModelFileIsRejected() {
    Path dir = tmp.getRoot().toPath().resolve("copy");
    TestModels.copy(exported, dir);
    TestModels.flipByte(dir.resolve("model.onnx"), 40);
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> Models.load(dir));
    assertThat(e.getMessage().startsWith("model file model.onnx: sha256 mismatch"), equalTo(true));
  }

  @Test
  public void garbageFileIsALoadErrorNotACrash() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("garbage");
    TestModels.copy(exported, dir);
    Files.write(dir.resolve("model.onnx"), new byte[] {1, 2, 3, 4, 5});
    ModelManifest.read(dir).withFiles(ModelManifest.hashFiles(dir)).write(dir);
    assertThrows(ModelLoadException.class, () -> Models.load(dir));
  }

  @Test
  public void gpuDeviceIsRefusedClearlyWithoutCuda() {
    org.junit.Assume.assumeFalse(ai.onnxruntime.OrtEnvironment.getAvailableProviders()
        .contains(ai.onnxruntime.OrtProvider.CUDA));
    // A GPU device asks for the CUDA provider, which the CPU onnxruntime artifact lacks.
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> Models.load(exported, ModelOptions.defaults().withDevice("/GPU:0")));
    assertThat(e.getMessage(), org.hamcrest.Matchers.startsWith(
        "the ONNX execution provider CUDA was requested (--modelDevice=/GPU:0) but is not available"));
  }
}
