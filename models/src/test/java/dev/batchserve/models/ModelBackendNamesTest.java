package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.linear.LinearBackend;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Backends are chosen by an open format name, and one name never silently has two backends. */
public class ModelBackendNamesTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  /** Reads {@code constant.txt} (one float) and predicts that constant for every row. */
  public static class ConstantBackend implements ModelBackend {
    @Override
    public String format() {
      return "test-constant";
    }

    @Override
    public Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
      try {
        float value = Float.parseFloat(Files.readString(modelDir.resolve("constant.txt")).trim());
        return new ConstantModel(value);
      } catch (java.io.IOException e) {
        throw new ModelLoadException("cannot read constant.txt in " + modelDir, e);
      }
    }
  }

  /** A second class claiming the same name as {@link ConstantBackend}. */
  public static class OtherConstantBackend extends ConstantBackend {}

  /** A class claiming a built-in name. */
  public static class LinearLookalike extends ConstantBackend {
    @Override
    public String format() {
      return ModelFormat.LINEAR_JSON;
    }
  }

  /** A backend with no name. */
  public static class NamelessBackend extends ConstantBackend {
    @Override
    public String format() {
      return " ";
    }
  }

  static final class ConstantModel implements Model {
    private final float value;

    ConstantModel(float value) {
      this.value = value;
    }

    @Override
    public ModelSignature signature() {
      return new ModelSignature("constant",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 1})),
          List.of(new TensorInfo("y", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        out[i] = new float[] {value};
      }
      return out;
    }

    @Override
    public void close() {}
  }

  /** A class loader that sees the test classes plus a services file listing {@code classes}. */
  private URLClassLoader withServices(Class<?>... classes) throws Exception {
    Path root = tmp.newFolder().toPath();
    Path services = root.resolve("META-INF/services/" + ModelBackend.class.getName());
    Files.createDirectories(services.getParent());
    StringBuilder lines = new StringBuilder();
    for (Class<?> c : classes) {
      lines.append(c.getName()).append('\n');
    }
    Files.writeString(services, lines);
    return new URLClassLoader(new URL[] {root.toUri().toURL()}, getClass().getClassLoader());
  }

  @Test
  public void twoServiceBackendsForOneNameFailNamingBothClasses() throws Exception {
    try (URLClassLoader loader = withServices(ConstantBackend.class, OtherConstantBackend.class)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> Models.discover(loader));
      assertThat(e.getMessage(), equalTo(
          "two ModelBackends serve the format 'test-constant': " + ConstantBackend.class.getName()
              + " (META-INF/services) and " + OtherConstantBackend.class.getName()
              + " (META-INF/services); a format name must select exactly one backend: give one of"
              + " them another name in format() (and in the manifests it reads), or remove one from"
              + " the class path"));
    }
  }

  @Test
  public void aServiceBackendCannotTakeOverABuiltInName() throws Exception {
    try (URLClassLoader loader = withServices(LinearLookalike.class)) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> Models.discover(loader));
      assertThat(e.getMessage(), containsString(
          "two ModelBackends serve the format 'LINEAR_JSON': " + LinearBackend.class.getName()
              + " (built in) and " + LinearLookalike.class.getName() + " (META-INF/services)"));
    }
  }

  @Test
  public void aServiceBackendWithItsOwnNameIsFoundBesideTheBuiltIns() throws Exception {
    // Listed twice, as after merging two services files: still one backend, not a conflict.
    try (URLClassLoader loader = withServices(ConstantBackend.class, ConstantBackend.class)) {
      Map<String, Models.Registered> found = Models.discover(loader);
      assertThat(List.copyOf(found.keySet()),
          equalTo(List.of("LINEAR_JSON", "ONNX", "TF_SAVED_MODEL", "XGBOOST", "test-constant")));
      assertThat(found.get("test-constant").backend, instanceOf(ConstantBackend.class));
      assertThat(found.get("test-constant").origin, equalTo("META-INF/services"));
    }
  }

  @Test
  public void aBackendWithoutANameIsRefused() throws Exception {
    try (URLClassLoader loader = withServices(NamelessBackend.class)) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Models.discover(loader));
      assertThat(e.getMessage(), equalTo("ModelBackend " + NamelessBackend.class.getName()
          + " (META-INF/services) returns format() ' '; it must return a non-blank name without"
          + " surrounding spaces"));
    }
  }

  @Test
  public void registerRefusesANameServedByAnotherClass() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Models.register(new LinearLookalike()));
    assertThat(e.getMessage(), containsString(
        "two ModelBackends serve the format 'LINEAR_JSON': " + LinearBackend.class.getName()
            + " (built in) and " + LinearLookalike.class.getName() + " (Models.register)"));
    assertThat(Models.backend(ModelFormat.LINEAR_JSON), instanceOf(LinearBackend.class));
  }

  @Test
  public void aManifestNamingARegisteredFormatLoadsWithThatBackend() throws Exception {
    Models.register(new ConstantBackend());
    Models.register(new ConstantBackend()); // the same class again: harmless
    assertThrows(IllegalStateException.class, () -> Models.register(new OtherConstantBackend()));
    Path dir = tmp.newFolder("constant").toPath();
    Files.writeString(dir.resolve("constant.txt"), "0.25");
    ModelManifest.builder().name("c").version("1").format("test-constant")
        .inputFeatures(List.of("x")).outputSize(1).files(ModelManifest.hashFiles(dir)).build()
        .write(dir);
    assertThat(Files.readString(dir.resolve(ModelManifest.FILE_NAME)),
        containsString("\"format\" : \"test-constant\""));
    try (Model model = Models.load(dir)) {
      assertThat(model.predict(new float[][] {{3f}, {4f}}), equalTo(new float[][] {{0.25f}, {0.25f}}));
    }
  }

  @Test
  public void existingManifestsKeepTheirFormatSpelling() {
    String json = "{\"name\":\"m\",\"version\":\"1\",\"format\":\"XGBOOST\",\"inputFeatures\":[\"a\"]}";
    ModelManifest manifest = ModelManifest.fromJson(json);
    assertThat(manifest.getFormat(), equalTo(ModelFormat.XGBOOST));
    assertThat(manifest.toJson(), containsString("\"format\" : \"XGBOOST\""));
  }

  @Test
  public void anUnknownNameSaysWhatIsRegisteredAndHintsAtCase() {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Models.backend("linear_json"));
    assertThat(e.getMessage(), containsString("no backend for format 'linear_json'; registered: ["));
    assertThat(e.getMessage(), containsString(
        "(format names are case-sensitive: did you mean 'LINEAR_JSON'?)"));
  }
}
