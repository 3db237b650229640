package dev.batchserve.models.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelCliTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private Path dir;
  private ModelManifest manifest;

  @Before
  public void exportModel() {
    dir = tmp.getRoot().toPath().resolve("linear");
    manifest = TestModels.writeLinear(dir, "7");
  }

  private int run(String... args) {
    return ModelCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void inspectPrintsManifestAndSignatureAsJson() throws Exception {
    assertThat(run("inspect", dir.toString()), equalTo(0));
    JsonNode json = new ObjectMapper().readTree(out());
    assertThat(ModelManifest.fromJson(json.get("manifest").toString()), equalTo(manifest));
    assertThat(json.get("signature").toString(), equalTo(
        "{\"name\":\"serving_default\","
            + "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[-1,4]}],"
            + "\"outputs\":[{\"name\":\"y\",\"dtype\":\"float32\",\"shape\":[-1,1]}]}"));
    assertThat(err(), equalTo(""));
  }

  @Test
  public void verifySucceedsOnIntactModel() {
    assertThat(run("verify", dir.toUri().toString()), equalTo(0));
    assertThat(out().trim(), equalTo("OK " + dir.toAbsolutePath() + ": demo version 7, 1 files verified"));
  }

  @Test
  public void verifyFailsNamingTheTamperedFile() throws Exception {
    Files.writeString(dir.resolve("linear-model.json"), "{}");
    assertThat(run("verify", dir.toString()), equalTo(1));
    assertThat(err().trim(), equalTo("verify failed: model file linear-model.json: size mismatch, expected "
        + manifest.getFiles().get(0).getSize() + ", found 2"));
    assertThat(out(), equalTo(""));
  }

  @Test
  public void missingManifestIsAnInvalidModel() throws Exception {
    Path empty = tmp.newFolder("empty").toPath();
    assertThat(run("inspect", empty.toString()), equalTo(1));
    assertThat(err().trim(), equalTo("inspect failed: no model-manifest.json in " + empty.toAbsolutePath()));
  }

  @Test
  public void usageErrorsExitWith2() {
    assertThat(run(), equalTo(2));
    assertThat(run("frobnicate", dir.toString()), equalTo(2));
    assertThat(err().startsWith("usage: ModelCli inspect <model-dir-or-uri>"), equalTo(true));
  }
}
