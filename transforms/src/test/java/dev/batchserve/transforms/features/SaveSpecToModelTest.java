package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.FileEntry;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Saving a fitted spec into a model directory keeps the manifest verifiable, and refuses misfits. */
@RunWith(JUnit4.class)
public class SaveSpecToModelTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  /**
   * What an exporter leaves behind: model files and a manifest covering them, with the model's
   * input features in order.
   */
  static Path exportModel(Path dir, List<String> inputFeatures) throws IOException {
    Files.createDirectories(dir.resolve("variables"));
    Files.writeString(dir.resolve("model.json"), "{\"weights\": [0.5, -1.25]}\n", StandardCharsets.UTF_8);
    Files.write(dir.resolve("variables/data.bin"), new byte[] {1, 2, 3, 4, 5});
    ModelManifest.builder()
        .name("demo")
        .version("3")
        .format(ModelFormat.LINEAR_JSON)
        .inputFeatures(inputFeatures)
        .outputSize(1)
        .metadata(Map.of("train_accuracy", "0.9000"))
        .files(ModelManifest.hashFiles(dir))
        .build()
        .write(dir);
    return dir;
  }

  private Path model(FeatureSpec spec) throws IOException {
    return exportModel(tmp.getRoot().toPath().resolve("model"), spec.outputNames());
  }

  @Test
  public void theSavedSpecIsListedInAVerifiableManifestAndReadsBackEqual() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    Path dir = model(spec);

    ModelManifest written = SaveSpecToModel.write(spec, dir);

    ModelManifest read = ModelManifest.read(dir);
    read.verify(dir);
    assertThat(read, equalTo(written));
    // Exactly what re-hashing a fresh export lists, and the model's own fields are kept.
    assertThat(read.getFiles(), equalTo(ModelManifest.hashFiles(dir)));
    assertThat(read.getFiles().stream().map(FileEntry::getPath).toArray(),
        equalTo(new Object[] {"feature-spec.json", "model.json", "variables/data.bin"}));
    assertThat(read.getInputFeatures(), equalTo(spec.outputNames()));
    assertThat(read.getVersion(), is("3"));
    assertThat(read.getMetadata(), hasEntry("train_accuracy", "0.9000"));
    assertThat(read.getMetadata(), hasEntry(SaveSpecToModel.METADATA_KEY, SaveSpecToModel.FILE_NAME));
    assertThat(FeatureSpec.read(dir.resolve(SaveSpecToModel.FILE_NAME).toString()), equalTo(spec));
  }

  @Test
  public void savingAgainReplacesTheSpecAndTheManifestStillVerifies() throws IOException {
    FeatureSpec first = FeatureTransformTest.spec();
    Path dir = model(first);
    SaveSpecToModel.write(first, dir);
    // Same layout, other statistics: a refit on more rows.
    List<Map<String, Object>> rows = new ArrayList<>();
    rows.add(FeatureSpecTest.row("amount", 1.0, "n", 2L, "country", "DE", "opt", 4.0));
    rows.add(FeatureSpecTest.row("amount", 900.0, "n", 9L, "country", "FR", "opt", 8.0));
    FeatureSpec second = FeatureSpec.fit(templateOf(), rows);
    assertThat(second.outputNames(), equalTo(first.outputNames()));
    assertFalse("the refit differs", second.equals(first));

    SaveSpecToModel.write(second, dir);

    ModelManifest.read(dir).verify(dir);
    assertThat(FeatureSpec.read(dir.resolve(SaveSpecToModel.FILE_NAME).toString()), equalTo(second));
  }

  private static FeatureSpec templateOf() {
    return FeatureSpec.builder()
        .numeric("amount").range(0, 1000).log1p().zscore()
        .integer("n").range(0, 100).onInvalid(InvalidPolicy.SKIP).passthrough()
        .categorical("country").oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .numeric("opt").optional().imputeMean().withMissingIndicator().passthrough()
        .build();
  }

  @Test
  public void aSpecWhoseLayoutDiffersFromTheModelIsRefusedNamingTheFeatureAndNothingIsWritten()
      throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    List<String> model = new ArrayList<>(spec.outputNames());
    model.set(2, "country_DK");
    Path dir = exportModel(tmp.getRoot().toPath().resolve("model"), model);
    String manifestBefore = Files.readString(dir.resolve(ModelManifest.FILE_NAME));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SaveSpecToModel.write(spec, dir));

    assertThat(e.getMessage(), containsString("the feature spec does not fit the model in " + dir));
    assertThat(e.getMessage(),
        containsString("at position 2: spec has '" + spec.outputNames().get(2) + "', model expects 'country_DK'"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
    assertThat(Files.readString(dir.resolve(ModelManifest.FILE_NAME)), is(manifestBefore));
    ModelManifest.read(dir).verify(dir);
  }

  @Test
  public void aSpecWithAFeatureTheModelLacksIsRefusedNamingIt() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    List<String> model = new ArrayList<>(spec.outputNames());
    String last = model.remove(model.size() - 1);
    Path dir = exportModel(tmp.getRoot().toPath().resolve("model"), model);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SaveSpecToModel.write(spec, dir));

    assertThat(e.getMessage(), containsString("(first extra in spec: '" + last + "')"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
  }

  @Test
  public void aModelThatNoLongerMatchesItsManifestIsNotReHashed() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    Path dir = model(spec);
    Files.write(dir.resolve("variables/data.bin"), new byte[] {1, 2, 3, 4, 6});

    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> SaveSpecToModel.write(spec, dir));

    assertThat(e.getMessage(), containsString("model file variables/data.bin: differs from the manifest"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
  }

  @Test
  public void anUnlistedFileIsNotBlessedByTheReHash() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    Path dir = model(spec);
    Files.writeString(dir.resolve("notes.txt"), "left over");

    ModelIntegrityException e =
        assertThrows(ModelIntegrityException.class, () -> SaveSpecToModel.write(spec, dir));

    assertThat(e.getMessage(), containsString("model file notes.txt: present in " + dir + " but not listed"));
  }

  @Test
  public void aStaleUnlistedSpecIsReplaced() throws IOException {
    // A spec written by the old recipe without the re-hash: the one file the helper may replace.
    FeatureSpec spec = FeatureTransformTest.spec();
    Path dir = model(spec);
    Files.writeString(dir.resolve(SaveSpecToModel.FILE_NAME), "{}");

    SaveSpecToModel.write(spec, dir);

    ModelManifest.read(dir).verify(dir);
    assertThat(FeatureSpec.read(dir.resolve(SaveSpecToModel.FILE_NAME).toString()), equalTo(spec));
  }

  @Test
  public void aDirectoryWithoutManifestOrAnUnfittedSpecIsRefused() throws IOException {
    Path empty = tmp.newFolder("empty").toPath();
    IllegalArgumentException noManifest = assertThrows(IllegalArgumentException.class,
        () -> SaveSpecToModel.write(FeatureTransformTest.spec(), empty));
    assertThat(noManifest.getMessage(), containsString("export the model first"));

    Path dir = model(FeatureTransformTest.spec());
    IllegalArgumentException template =
        assertThrows(IllegalArgumentException.class, () -> SaveSpecToModel.write(templateOf(), dir));
    assertThat(template.getMessage(), containsString("unfitted template"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
  }

  private static final Schema SCHEMA =
      Schema.builder()
          .addNullableField("amount", Schema.FieldType.DOUBLE)
          .addNullableField("n", Schema.FieldType.INT64)
          .addNullableField("country", Schema.FieldType.STRING)
          .addNullableField("opt", Schema.FieldType.DOUBLE)
          .build();

  @Test
  public void inAPipelineTheFittedSpecIsSavedOnceTheFitIsDone() throws IOException {
    List<Row> rows = new ArrayList<>();
    List<Map<String, Object>> maps = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Double opt = i % 4 == 0 ? null : (double) (i % 5);
      String country = new String[] {"DE", "FR", "IT"}[i % 3];
      rows.add(Row.withSchema(SCHEMA).addValues(i * 7.5, (long) (i % 10), country, opt).build());
      maps.add(FeatureSpecTest.row("amount", i * 7.5, "n", (long) (i % 10), "country", country, "opt", opt));
    }
    FeatureSpec plain = FeatureSpec.fit(templateOf(), maps);
    Path dir = exportModel(tmp.getRoot().toPath().resolve("model"), plain.outputNames());

    PCollection<String> saved =
        p.apply(Create.of(rows).withCoder(RowCoder.of(SCHEMA)))
            .apply("Fit", AnalyzeFeatures.of(templateOf()))
            .apply("SaveSpec", SaveSpecToModel.into(dir.toString()));
    PAssert.that(saved).containsInAnyOrder(dir.resolve(SaveSpecToModel.FILE_NAME).toString());
    p.run().waitUntilFinish();

    ModelManifest.read(dir).verify(dir);
    AnalyzeFeaturesTest.assertSameFit(plain, FeatureSpec.read(dir.resolve(SaveSpecToModel.FILE_NAME).toString()));
  }

  @Test
  public void inAPipelineAMismatchedSpecFailsTheRunNamingTheFeature() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    List<String> model = new ArrayList<>(spec.outputNames());
    model.set(0, "amount_raw");
    Path dir = exportModel(tmp.getRoot().toPath().resolve("model"), model);
    p.apply(Create.of(spec).withCoder(FeatureSpec.FeatureSpecCoder.of()))
        .apply("SaveSpec", SaveSpecToModel.into(dir.toString()));

    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());

    assertThat(FitAndApplyTest.messages(e), containsString("spec has 'amount_log1p_z', model expects 'amount_raw'"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
  }

  @Test
  public void moreThanOneSpecFailsTheRunInsteadOfOverwriting() throws IOException {
    FeatureSpec spec = FeatureTransformTest.spec();
    Path dir = model(spec);
    FeatureSpec other = FeatureSpec.fit(templateOf(),
        List.of(FeatureSpecTest.row("amount", 3.0, "n", 1L, "country", "DE", "opt", 1.0),
            FeatureSpecTest.row("amount", 4.0, "n", 1L, "country", "FR", "opt", 1.0)));
    p.apply(Create.of(spec, other).withCoder(FeatureSpec.FeatureSpecCoder.of()))
        .apply("SaveSpec", SaveSpecToModel.into(dir.toString()));

    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());

    assertThat(FitAndApplyTest.messages(e), containsString("more than one element"));
    assertFalse(Files.exists(dir.resolve(SaveSpecToModel.FILE_NAME)));
  }
}
