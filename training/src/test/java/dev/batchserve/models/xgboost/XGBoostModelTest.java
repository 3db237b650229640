package dev.batchserve.models.xgboost;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.TestModels;
import dev.batchserve.models.training.XGBoostExporter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** A booster trained in-process, saved, and served through {@link Models#load}. */
public class XGBoostModelTest {
  @ClassRule public static final TemporaryFolder SHARED = new TemporaryFolder();
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static Booster booster;
  private static Path exported;

  @BeforeClass
  public static void trainAndExport() throws Exception {
    float[][] x = TestModels.features(256, 1L);
    DMatrix train = new DMatrix(flatten(x), x.length, 4, Float.NaN);
    try {
      train.setLabel(TestModels.labels(x));
      Map<String, Object> params = new HashMap<>();
      params.put("objective", "binary:logistic");
      params.put("max_depth", 3);
      params.put("eta", 0.3);
      params.put("nthread", 1); // OpenMP busy-waits on small machines; see XGBoostModel
      params.put("seed", 0);
      booster = XGBoost.train(train, params, 20, new HashMap<>(), null, null);
    } finally {
      train.dispose();
    }
    exported = SHARED.getRoot().toPath().resolve("xgb");
    XGBoostExporter.export(booster, exported, TestModels.partialManifest("1"), 1);
  }

  @AfterClass
  public static void disposeBooster() {
    booster.dispose();
  }

  private static float[] flatten(float[][] x) {
    float[] flat = new float[x.length * x[0].length];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * x[0].length, x[0].length);
    }
    return flat;
  }

  @Test
  public void outputsEqualXGBoostsOwnPredictWithin1e5() throws Exception {
    float[][] x = TestModels.features(300, 5L);
    DMatrix test = new DMatrix(flatten(x), x.length, 4, Float.NaN);
    float[][] expected;
    try {
      expected = booster.predict(test);
    } finally {
      test.dispose();
    }
    try (Model model = Models.load(exported)) {
      assertThat(model, instanceOf(XGBoostModel.class));
      float[][] actual = model.predict(x);
      assertThat(actual.length, equalTo(x.length));
      for (int r = 0; r < x.length; r++) {
        assertThat(actual[r].length, equalTo(1));
        assertThat("row " + r, (double) actual[r][0], closeTo(expected[r][0], 1e-5));
      }
    }
  }

  @Test
  public void modelLearnedTheData() {
    float[][] x = TestModels.features(256, 1L);
    float[] y = TestModels.labels(x);
    try (Model model = Models.load(exported)) {
      float[][] p = model.predict(x);
      int correct = 0;
      for (int r = 0; r < x.length; r++) {
        correct += (p[r][0] >= 0.5f ? 1f : 0f) == y[r] ? 1 : 0;
      }
      assertThat(correct / (double) x.length, greaterThan(0.9));
    }
  }

  @Test
  public void manifestAndSignatureDescribeTheBooster() {
    ModelManifest manifest = ModelManifest.read(exported);
    assertThat(manifest.getFormat(), equalTo(ModelFormat.XGBOOST));
    assertThat(manifest.getFiles().get(0).getPath(), equalTo("model.json"));
    try (Model model = Models.load(exported)) {
      assertThat(model.signature().inputSize(), equalTo(4));
      assertThat(model.signature().outputSize(), equalTo(1));
    }
  }

  @Test
  public void badInputAndTamperingAreRejected() {
    try (Model model = Models.load(exported)) {
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predict(new float[][] {{1, Float.POSITIVE_INFINITY, 0, 0}})).getMessage(),
          equalTo("row 0, feature 'amount' (index 1) is Infinity"));
    }
    Path dir = tmp.getRoot().toPath().resolve("copy");
    TestModels.copy(exported, dir);
    TestModels.flipByte(dir.resolve("model.json"), 100);
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> Models.load(dir));
    assertThat(e.getMessage().startsWith("model file model.json: sha256 mismatch"), equalTo(true));
  }
  @Test
  public void aFeatureSpecSavedBesideTheBoosterIsNotLoadedAsTheBooster() throws Exception {
    // As SaveSpecToModel leaves a directory: feature-spec.json (sorted before model.json) listed in the
    // manifest and named by its feature_spec metadata.
    Path dir = tmp.getRoot().toPath().resolve("with-spec");
    TestModels.copy(exported, dir);
    java.nio.file.Files.writeString(dir.resolve("feature-spec.json"), "{\"features\": []}");
    ModelManifest m = ModelManifest.read(dir);
    Map<String, String> metadata = new HashMap<>(m.getMetadata());
    metadata.put(XGBoostModel.FEATURE_SPEC_METADATA_KEY, "feature-spec.json");
    m.toBuilder().files(ModelManifest.hashFiles(dir)).metadata(metadata).build().write(dir);
    assertThat(ModelManifest.read(dir).getFiles().get(0).getPath(), equalTo("feature-spec.json"));
    float[][] x = TestModels.features(10, 5L);
    try (Model fromCopy = Models.load(dir); Model original = Models.load(exported)) {
      float[][] expected = original.predict(x);
      float[][] actual = fromCopy.predict(x);
      for (int r = 0; r < x.length; r++) {
        assertThat(actual[r][0], equalTo(expected[r][0]));
      }
    }
  }
}
