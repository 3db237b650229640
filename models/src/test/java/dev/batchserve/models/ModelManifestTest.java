package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.Assert.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelManifestTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static ModelManifest fullManifest() {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("auc", "0.91");
    metadata.put("trainer", "MlpTrainer");
    return ModelManifest.builder()
        .name("churn")
        .version("3")
        .format(ModelFormat.TF_SAVED_MODEL)
        .signatureName("serving_default")
        .inputName("x")
        .outputName("y")
        .inputFeatures(List.of("age", "amount"))
        .inputDtype("float32")
        .outputKind(OutputKind.PROBABILITIES)
        .outputSize(2)
        .files(List.of(new FileEntry("saved_model.pb", "ab01", 12), new FileEntry("variables/v", "cd", 3)))
        .createdAt("2026-01-02T03:04:05Z")
        .trainingData("gs://bucket/train/*.csv")
        .metadata(metadata)
        .build();
  }

  @Test
  public void roundTripsThroughJsonUnchanged() {
    ModelManifest manifest = fullManifest();
    String json = manifest.toJson();
    ModelManifest parsed = ModelManifest.fromJson(json);
    assertThat(parsed, equalTo(manifest));
    assertThat(parsed.toJson(), equalTo(json));
    assertThat(parsed.getMetadata().keySet(), org.hamcrest.Matchers.contains("auc", "trainer"));
  }

  @Test
  public void roundTripsThroughFileUnchanged() throws Exception {
    Path dir = tmp.newFolder("m").toPath();
    ModelManifest manifest = fullManifest();
    manifest.write(dir);
    assertThat(ModelManifest.read(dir), equalTo(manifest));
    try (var files = Files.list(dir)) {
      assertThat("no temporary file left behind", files.count(), equalTo(1L));
    }
  }

  @Test
  public void nullTrainingDataRoundTrips() {
    ModelManifest manifest = fullManifest().toBuilder().trainingData(null).build();
    assertThat(ModelManifest.fromJson(manifest.toJson()), equalTo(manifest));
  }

  @Test
  public void defaultsSignatureAndDtype() {
    ModelManifest manifest = ModelManifest.fromJson("{\"name\":\"a\",\"version\":\"1\",\"format\":\"LINEAR_JSON\"}");
    assertThat(manifest.getSignatureName(), equalTo("serving_default"));
    assertThat(manifest.getInputDtype(), equalTo("float32"));
    assertThat(manifest.getInputFeatures(), hasSize(0));
  }

  @Test
  public void withCopiesChangeOnlyTheirField() {
    ModelManifest manifest = fullManifest();
    ModelManifest v4 = manifest.withVersion("4");
    assertThat(v4.getVersion(), equalTo("4"));
    assertThat(v4.toBuilder().version("3").build(), equalTo(manifest));
  }

  @Test
  public void missingManifestIsNamed() throws Exception {
    Path dir = tmp.newFolder("empty").toPath();
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelManifest.read(dir));
    assertThat(e.getMessage(), equalTo("no model-manifest.json in " + dir));
  }

  private Path modelDir() throws Exception {
    Path dir = tmp.newFolder("model").toPath();
    Files.createDirectories(dir.resolve("variables"));
    Files.writeString(dir.resolve("saved_model.pb"), "graph");
    Files.writeString(dir.resolve("variables/variables.data-00000-of-00001"), "weights!");
    ModelManifest.builder().name("m").version("1").format(ModelFormat.TF_SAVED_MODEL)
        .files(ModelManifest.hashFiles(dir)).build().write(dir);
    return dir;
  }

  @Test
  public void hashFilesListsSortedFilesWithSha256AndSizeAndVerifyPasses() throws Exception {
    Path dir = modelDir();
    List<FileEntry> files = ModelManifest.read(dir).getFiles();
    assertThat(files, equalTo(List.of(
        new FileEntry("saved_model.pb", sha256Hex("graph"), 5),
        new FileEntry("variables/variables.data-00000-of-00001", sha256Hex("weights!"), 8))));
    ModelManifest.read(dir).verify(dir); // passes untouched
  }

  private static String sha256Hex(String s) throws Exception {
    return java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  @Test
  public void verifyNamesTamperedFile() throws Exception {
    Path dir = modelDir();
    Path data = dir.resolve("variables/variables.data-00000-of-00001");
    String expected = sha256Hex("weights!");
    Files.writeString(data, "weights?");
    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> ModelManifest.read(dir).verify(dir));
    assertThat(e.getMessage(), equalTo("model file variables/variables.data-00000-of-00001: sha256 mismatch,"
        + " expected " + expected + ", found " + sha256Hex("weights?")));
  }

  @Test
  public void verifyNamesTruncatedFile() throws Exception {
    Path dir = modelDir();
    Files.writeString(dir.resolve("saved_model.pb"), "gra");
    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> ModelManifest.read(dir).verify(dir));
    assertThat(e.getMessage(), equalTo("model file saved_model.pb: size mismatch, expected 5, found 3"));
  }

  @Test
  public void verifyNamesMissingFile() throws Exception {
    Path dir = modelDir();
    Files.delete(dir.resolve("saved_model.pb"));
    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> ModelManifest.read(dir).verify(dir));
    assertThat(e.getMessage(), equalTo("model file saved_model.pb: missing from " + dir));
  }

  @Test
  public void verifyNamesUnlistedFile() throws Exception {
    Path dir = modelDir();
    Files.writeString(dir.resolve("variables/extra.bin"), "x");
    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> ModelManifest.read(dir).verify(dir));
    assertThat(e.getMessage(), equalTo(
        "model file variables/extra.bin: present in " + dir + " but not listed in the manifest"));
  }

  @Test
  public void verifyRejectsPathsOutsideTheDirectory() throws Exception {
    Path dir = modelDir();
    ModelManifest evil = ModelManifest.read(dir).withFiles(List.of(new FileEntry("../etc/passwd", "00", 1)));
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> evil.verify(dir));
    assertThat(e.getMessage(), equalTo("model file ../etc/passwd: path escapes the model directory"));
  }
}
