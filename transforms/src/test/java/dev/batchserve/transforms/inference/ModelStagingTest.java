package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.Models;
import dev.batchserve.transforms.TestFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelStagingTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void aLocalDirectoryIsUsedInPlace() throws Exception {
    Path dir = tmp.newFolder("m").toPath();
    assertThat(ModelStaging.localize(dir.toString()), is(dir.toAbsolutePath().normalize()));
    assertThat(ModelStaging.localize(dir.toUri().toString()), is(dir.toAbsolutePath().normalize()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelStaging.localize(tmp.getRoot() + "/absent"));
    assertThat(e.getMessage(), containsString("model directory does not exist"));
  }

  @Test
  public void aFileSystemsUriIsCopiedOnceThenLoadsAndVerifies() throws Exception {
    Path source = tmp.newFolder("remote").toPath().resolve("lin");
    TestFixtures.linearModel(source, List.of("a", "b", "c"));
    // Beam's own FileSystems copy path (what gs:// and s3:// take), exercised on the local file system.
    String uri = source.toUri().toString();
    Path copy = ModelStaging.copyToLocal(uri);
    assertThat(copy, is(not(source)));
    for (String f : List.of("model-manifest.json", "linear-model.json")) {
      assertArrayEquals(f, Files.readAllBytes(source.resolve(f)), Files.readAllBytes(copy.resolve(f)));
    }
    assertThat(ModelStaging.copyToLocal(uri), is(copy));
    try (Model m = Models.load(copy)) {
      assertThat(m.predict(new float[][] {{1f, 1f, 1f}})[0][0], is(TestFixtures.linearScore(1f, 1f, 1f)));
    }
    assertThrows(java.io.UncheckedIOException.class,
        () -> ModelStaging.copyToLocal(tmp.newFolder("empty").toPath().toUri().toString()));
  }
}
