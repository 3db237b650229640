package dev.batchserve.models.tensorflow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.models.TestModels;
import dev.batchserve.models.TrainedModels;
import dev.batchserve.models.training.MlpWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The demo MLP trained in Java, exported as a SavedModel and served through {@link Models#load}. */
public class TensorFlowModelTest {
  @ClassRule public static final TemporaryFolder SHARED = new TemporaryFolder();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static MlpWeights weights;
  private static Path exported;
  private static ModelManifest manifest;

  @BeforeClass
  public static void exportOnce() {
    weights = TrainedModels.trainedMlp();
    exported = SHARED.getRoot().toPath().resolve("demo");
    manifest = TrainedModels.exportTensorFlow(weights, exported);
  }

  private Path copyOfModel() {
    Path dir = tmp.getRoot().toPath().resolve("copy");
    TestModels.copy(exported, dir);
    return dir;
  }

  @Test
  public void manifestDescribesTheExport() {
    assertThat(manifest.getFormat(), equalTo(ModelFormat.TF_SAVED_MODEL));
    assertThat(manifest.getOutputKind(), equalTo(OutputKind.SCORE));
    assertThat(manifest.getOutputSize(), equalTo(1));
    assertThat(manifest.getInputFeatures(), equalTo(TestModels.FEATURES));
    assertThat(manifest.getSignatureName(), equalTo("serving_default"));
    assertThat(manifest.getFiles().stream().map(f -> f.getPath()).anyMatch(
        p -> p.equals("variables/variables.data-00000-of-00001")), equalTo(true));
    assertThat(ModelManifest.read(exported), equalTo(manifest));
  }

  @Test
  public void predictionsMatchTheJavaReferenceWithin1e5() {
    float[][] x = TestModels.features(300, 5L);
    float[][] expected = weights.predict(x);
    try (Model model = Models.load(exported)) {
      assertThat(model, instanceOf(TensorFlowModel.class));
      float[][] actual = model.predict(x);
      assertThat(actual.length, equalTo(x.length));
      for (int r = 0; r < x.length; r++) {
        assertThat(actual[r].length, equalTo(1));
        assertThat("row " + r, (double) actual[r][0], closeTo(expected[r][0], 1e-5));
      }
      // The exported model is the trained one: it classifies its training data well.
      float[][] train = TestModels.features(256, 1L);
      float[] labels = TestModels.labels(train);
      float[][] scores = model.predict(train);
      int correct = 0;
      for (int r = 0; r < train.length; r++) {
        correct += (scores[r][0] >= 0.5f ? 1f : 0f) == labels[r] ? 1 : 0;
      }
      assertThat(correct / (double) train.length, greaterThan(0.95));
    }
  }

  @Test
  public void aRowsScoreDoesNotDependOnItsBatch() {
    float[][] x = TestModels.features(200, 13L);
    try (Model model = Models.load(exported)) {
      float[][] alone = new float[x.length][];
      for (int i = 0; i < x.length; i++) {
        alone[i] = model.predict(new float[][] {x[i]})[0];
      }
      for (int size : new int[] {2, 7, 64, 200}) {
        for (int start = 0; start < x.length; start += size) {
          float[][] batch = java.util.Arrays.copyOfRange(x, start, Math.min(x.length, start + size));
          float[][] out = model.predict(batch);
          for (int i = 0; i < out.length; i++) {
            assertThat("row " + (start + i) + " in a batch of " + batch.length,
                Float.floatToIntBits(out[i][0]), equalTo(Float.floatToIntBits(alone[start + i][0])));
          }
        }
      }
    }
  }

  @Test
  public void signatureComesFromTheSavedModel() {
    try (Model model = Models.load(exported)) {
      assertThat(model.signature().getName(), equalTo("serving_default"));
      assertThat(model.signature().getInputs(),
          equalTo(List.of(new TensorInfo("x", "float32", new long[] {-1, 4}))));
      assertThat(model.signature().getOutputs().get(0).getName(), equalTo("y"));
      assertThat(model.signature().inputSize(), equalTo(4));
      assertThat(model.signature().outputSize(), equalTo(1));
    }
  }

  @Test
  public void concurrentCallersGetTheSameResults() throws Exception {
    float[][] x = TestModels.features(64, 11L);
    try (Model model = Models.load(exported)) {
      float[][] expected = model.predict(x);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<float[][]>> futures = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        futures.add(pool.submit(() -> model.predict(x)));
      }
      for (Future<float[][]> f : futures) {
        assertThat(f.get(), equalTo(expected));
      }
      pool.shutdown();
    }
  }

  @Test
  public void badInputsFailClearlyWithoutReachingTheEngine() {
    try (Model model = Models.load(exported)) {
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predict(new float[][] {{1, 2, 3, 4}, {1, 2, 3, 4, 5}})).getMessage(),
          equalTo("row 1 has 5 features, the model expects 4"));
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predict(new float[][] {{1, 2, 3, 4}, {1, 2, 3}})).getMessage(),
          equalTo("row 1 has 3 features, the model expects 4"));
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predict(new float[][] {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, Float.NaN, 3, 4}}))
              .getMessage(), equalTo("row 2, feature 'amount' (index 1) is NaN"));
      assertThat(model.predict(new float[0][]).length, equalTo(0));
      // The model still works after rejected batches.
      assertThat(model.predict(new float[][] {{0, 0, 0, 0}}).length, equalTo(1));
    }
  }

  @Test
  public void predictAfterCloseFailsInsteadOfCrashing() {
    Model model = Models.load(exported);
    model.close();
    assertThrows(IllegalStateException.class, () -> model.predict(new float[][] {{0, 0, 0, 0}}));
  }

  @Test
  public void tamperedVariablesAreRejectedNamingTheFile() throws Exception {
    Path dir = copyOfModel();
    TestModels.flipByte(dir.resolve("variables/variables.data-00000-of-00001"), 10);
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), containsString(
        "model file variables/variables.data-00000-of-00001: sha256 mismatch, expected "));
  }

  @Test
  public void missingModelFileIsRejectedNamingTheFile() throws Exception {
    Path dir = copyOfModel();
    Files.delete(dir.resolve("saved_model.pb"));
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), equalTo("model file saved_model.pb: missing from " + dir));
  }

  @Test
  public void missingManifestIsRejected() throws Exception {
    Path dir = copyOfModel();
    Files.delete(dir.resolve(ModelManifest.FILE_NAME));
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), equalTo("no model-manifest.json in " + dir));
  }

  @Test
  public void wrongSignatureNameListsTheAvailableOnes() throws Exception {
    Path dir = copyOfModel();
    manifest.toBuilder().signatureName("predict").build().write(dir);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), equalTo(
        "signature 'predict' not found in " + dir + "; available signatures: [serving_default]"));
  }

  @Test
  public void corruptSavedModelFailsAsLoadErrorNotCrash() throws Exception {
    Path dir = copyOfModel();
    Files.writeString(dir.resolve("saved_model.pb"), "not a protobuf");
    // Re-list the files so that verification passes and the engine sees the garbage.
    manifest.withFiles(ModelManifest.hashFiles(dir)).write(dir);
    assertThrows(ModelLoadException.class, () -> Models.load(dir));
  }

  @Test
  public void optionsBecomeTheSessionConfig() {
    var config = TensorFlowOptions.defaults().withDevice("/GPU:1").withIntraOpThreads(2)
        .withInterOpThreads(1).toConfigProto();
    assertThat(config.getGpuOptions().getVisibleDeviceList(), equalTo("1"));
    assertThat(config.getGpuOptions().getAllowGrowth(), equalTo(true));
    assertThat(config.getIntraOpParallelismThreads(), equalTo(2));
    assertThat(config.getInterOpParallelismThreads(), equalTo(1));
    assertThat(TensorFlowOptions.defaults().withDevice("/CPU:0").toConfigProto().getDeviceCountMap(),
        equalTo(Map.of("GPU", 0)));
    assertThrows(IllegalArgumentException.class, () -> TensorFlowOptions.defaults().withDevice("gpu0"));
    // CPU-only options load and run here.
    Path dir = exported;
    try (Model model = Models.load(dir, dev.batchserve.models.ModelOptions.defaults()
        .withDevice("/CPU:0").withIntraOpThreads(1).withInterOpThreads(1))) {
      assertThat(model.predict(new float[][] {{0, 0, 0, 0}})[0][0],
          equalTo(model.predict(new float[][] {{0, 0, 0, 0}})[0][0]));
    }
  }
}
