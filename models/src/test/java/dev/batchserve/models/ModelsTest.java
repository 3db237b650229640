package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.Assert.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@link Models#load} on the pure-Java linear backend: dispatch, verification, signature checks. */
public class ModelsTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void logisticLinkAppliesSigmoid() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("logistic");
    TestModels.writeLinear(
        new dev.batchserve.models.linear.LinearModelFile(new float[][] {{1f}, {-1f}}, new float[] {0f, 0f},
            "logistic"),
        dir, ModelManifest.builder().name("l").version("1").build());
    try (Model model = Models.load(dir)) {
      assertThat(model.predict(new float[][] {{0f}}), equalTo(new float[][] {{0.5f, 0.5f}}));
    }
  }

  @Test
  public void missingManifestFailsClearly() throws Exception {
    Path dir = tmp.newFolder("nomanifest").toPath();
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), equalTo("no model-manifest.json in " + dir));
  }

  @Test
  public void verifiesBeforeLoading() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("tampered");
    TestModels.writeLinear(dir, "1");
    // Still valid JSON, so only the checksum can catch it.
    Path file = dir.resolve("linear-model.json");
    Files.writeString(file, Files.readString(file).replace("0.25", "0.75"));
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> Models.load(dir));
    assertThat(e.getMessage().startsWith("model file linear-model.json: sha256 mismatch, expected "),
        equalTo(true));
  }

  @Test
  public void featureListMustMatchTheModel() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("mismatch");
    ModelManifest manifest = TestModels.writeLinear(dir, "1");
    manifest.toBuilder().inputFeatures(List.of("a", "b", "c")).build().write(dir);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(dir));
    assertThat(e.getMessage(),
        equalTo("model in " + dir + " takes 4 features, but the manifest lists 3 inputFeatures"));
  }

  @Test
  public void builtInBackendsAreRegistered() {
    assertThat(Models.backend(ModelFormat.TF_SAVED_MODEL).format(), equalTo(ModelFormat.TF_SAVED_MODEL));
    assertThat(Models.backend(ModelFormat.LINEAR_JSON).format(), equalTo(ModelFormat.LINEAR_JSON));
    assertThat(Models.backend(ModelFormat.ONNX).format(), equalTo(ModelFormat.ONNX));
    assertThat(Models.backend(ModelFormat.XGBOOST).format(), equalTo(ModelFormat.XGBOOST));
    // The names manifests have always spelled, so existing model directories still load. (Other
    // tests of this JVM may have registered more names since start-up, hence discover here.)
    assertThat(List.copyOf(Models.discover(ModelsTest.class.getClassLoader()).keySet()),
        equalTo(List.of("LINEAR_JSON", "ONNX", "TF_SAVED_MODEL", "XGBOOST")));
    assertThat(Models.registeredFormats(),
        hasItems("LINEAR_JSON", "ONNX", "TF_SAVED_MODEL", "XGBOOST"));
  }

  @Test
  public void missingFormatIsALoadError() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("noformat");
    ModelManifest manifest = TestModels.writeLinear(dir, "1");
    manifest.toBuilder().format(null).build().write(dir);
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.load(dir));
    assertThat(e.getMessage(), equalTo("the manifest names no format"));
  }
}
