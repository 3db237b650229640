package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelFetcherTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void plainPathsAndFileUrisAreLocal() throws Exception {
    Path dir = tmp.newFolder("m").toPath().toAbsolutePath();
    assertThat(ModelFetcher.localize(dir.toString()), equalTo(dir));
    assertThat(ModelFetcher.localize(dir.toUri().toString()), equalTo(dir));
    assertThat(ModelFetcher.locationFor(dir.toString()), instanceOf(LocalModelLocation.class));
  }

  @Test
  public void relativePathsBecomeAbsolute() {
    Path cwd = Paths.get("").toAbsolutePath();
    assertThat(ModelFetcher.localize("."), equalTo(cwd));
  }

  @Test
  public void missingDirectoryIsNamed() {
    Path missing = tmp.getRoot().toPath().resolve("nope").toAbsolutePath();
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ModelFetcher.localize(missing.toString()));
    assertThat(e.getMessage(), equalTo("model directory " + missing + " does not exist"));
  }

  @Test
  public void unknownSchemeSaysWhatIsMissing() {
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> ModelFetcher.localize("gs://bucket/m/1"));
    assertThat(e.getMessage(), startsWith("no ModelLocation handles gs://bucket/m/1; registered: ["));
  }

  @Test
  public void registeredLocationsAreAskedFirst() throws Exception {
    Path dir = tmp.newFolder("mem").toPath();
    ModelLocation memory = new ModelLocation() {
      @Override
      public boolean handles(String uri) {
        return uri.startsWith("mem://");
      }

      @Override
      public Path localize(String uri) {
        return dir.resolve(uri.substring("mem://".length()));
      }
    };
    ModelFetcher.register(memory);
    try {
      assertThat(ModelFetcher.localize("mem://churn"), equalTo(dir.resolve("churn")));
      assertThat(ModelFetcher.locations().get(0), equalTo(memory));
    } finally {
      ModelFetcher.unregister(memory);
    }
    assertThrows(ModelLoadException.class, () -> ModelFetcher.localize("mem://churn"));
  }

  @Test
  public void localizedModelLoads() {
    Path dir = tmp.getRoot().toPath().resolve("linear");
    TestModels.writeLinear(dir, "1");
    try (Model model = Models.load(ModelFetcher.localize(dir.toUri().toString()))) {
      assertThat(model.predict(new float[][] {{0, 0, 0, 0}}), equalTo(new float[][] {{0.25f}}));
    }
  }

  @Test
  public void windowsDriveLettersAreNotSchemes() {
    assertThat(LocalModelLocation.scheme("C:\\models\\a"), equalTo(null));
    assertThat(LocalModelLocation.scheme("gs://b/a"), equalTo("gs"));
    assertThat(LocalModelLocation.scheme("/a:b"), equalTo(null));
  }
}
