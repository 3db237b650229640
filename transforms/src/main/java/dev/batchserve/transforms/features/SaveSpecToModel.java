package dev.batchserve.transforms.features;

import dev.batchserve.models.FileEntry;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Saves a fitted {@link FeatureSpec} into an exported model directory as {@value #FILE_NAME} and
 * updates the directory's {@link ModelManifest} so that the spec is covered by its checksums: {@code
 * ModelManifest.read(dir).verify(dir)} passes afterwards, and the batch job finds the spec where it
 * looks by default. The spec is part of the model version: a spec whose output layout differs
 * from the manifest's {@code inputFeatures} is refused, naming the first differing feature.
 *
 * <p>Outside a pipeline, after an exporter (e.g. batchserve-training's {@code LinearExporter}) wrote the
 * model and its manifest:
 *
 * <pre>{@code
 * ModelManifest exported = LinearExporter.export(weights, modelDir, partial);
 * ModelManifest manifest = SaveSpecToModel.write(spec, modelDir);
 * ModelManifest.read(modelDir).verify(modelDir); // passes: the spec is listed and hashed
 * }</pre>
 *
 * <p>In the pipeline that fits the spec, once the fit is done (the output is the spec file's path,
 * a signal to {@code Wait.on} before publishing the model):
 *
 * <pre>{@code
 * PCollection<FeatureSpec> fitted = trainingRows.apply("Fit", AnalyzeFeatures.of(template));
 * PCollection<String> saved = fitted.apply("SaveSpec", SaveSpecToModel.into("/models/churn/3"));
 * }</pre>
 *
 * <p>Before it writes anything, the model directory must match its manifest (every listed file
 * present with its size and sha256, nothing unlisted) apart from an earlier {@value #FILE_NAME},
 * which is replaced: re-hashing must not bless a damaged or foreign file. The manifest's {@code
 * metadata} gets {@value #METADATA_KEY}{@code =}{@value #FILE_NAME}. The directory is a local path
 * (what {@link ModelManifest} reads); in a pipeline it must be one the worker that runs the
 * single write can reach, e.g. a shared mount.
 */
public final class SaveSpecToModel extends PTransform<PCollection<FeatureSpec>, PCollection<String>> {
  private static final long serialVersionUID = 1L;

  /** The spec's file name inside a model directory: where the batch job reads it by default. */
  public static final String FILE_NAME = "feature-spec.json";

  /** The manifest metadata key naming the spec file. */
  public static final String METADATA_KEY = "feature_spec";

  // A String, not a Path: the transform is serialized with the pipeline.
  private final String modelDir;

  private SaveSpecToModel(String modelDir) {
    this.modelDir = modelDir;
  }

  /**
   * Writes {@code spec} into {@code modelDir} and re-writes the manifest with the spec listed;
   * returns the manifest written.
   *
   * <pre>{@code
   * ModelManifest manifest = SaveSpecToModel.write(FeatureSpec.fit(template, rows), modelDir);
   * }</pre>
   *
   * @throws IllegalArgumentException when the spec is not fitted, when the directory has no
   *     manifest, or when the spec's output layout differs from the manifest's {@code
   *     inputFeatures} (naming the feature)
   * @throws ModelIntegrityException when the directory does not match its manifest (naming the
   *     file), before anything is written
   */
  public static ModelManifest write(FeatureSpec spec, Path modelDir) {
    if (spec == null) {
      throw new IllegalArgumentException("spec must not be null");
    }
    if (modelDir == null) {
      throw new IllegalArgumentException("modelDir must not be null");
    }
    if (!spec.isFitted()) {
      throw new IllegalArgumentException(
          "cannot save " + spec + " into the model " + modelDir
              + ": it is an unfitted template; fit it with AnalyzeFeatures or FeatureSpec.fit first");
    }
    ModelManifest manifest;
    try {
      manifest = ModelManifest.read(modelDir);
    } catch (ModelLoadException e) {
      throw new IllegalArgumentException(
          "cannot save the feature spec into " + modelDir + ": " + e.getMessage()
              + " (export the model first, then save its spec into the same directory)",
          e);
    }
    try {
      spec.checkMatches(manifest.getInputFeatures());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the feature spec does not fit the model in " + modelDir + ": " + e.getMessage()
              + "; save the spec fitted from the template this model was trained with",
          e);
    }
    List<FileEntry> files = verifiedFilesBesidesSpec(manifest, modelDir);
    byte[] json = spec.toJson().getBytes(StandardCharsets.UTF_8);
    writeAtomically(modelDir, json);
    files.add(new FileEntry(FILE_NAME, sha256(json), json.length));
    // Sorted by path, as ModelManifest.hashFiles lists a freshly exported directory.
    files.sort(Comparator.comparing(FileEntry::getPath));
    Map<String, String> metadata = new LinkedHashMap<>(manifest.getMetadata());
    metadata.put(METADATA_KEY, FILE_NAME);
    ModelManifest updated = manifest.toBuilder().files(files).metadata(metadata).build();
    updated.write(modelDir);
    return updated;
  }

  /**
   * A transform that saves the one spec of its input (the output of {@link AnalyzeFeatures}) into
   * {@code modelDir} with {@link #write}, once, after the fit is done; its output is the spec
   * file's path. An input with no spec or more than one fails the pipeline.
   *
   * <pre>{@code
   * trainingRows.apply("Fit", AnalyzeFeatures.of(template))
   *     .apply("SaveSpec", SaveSpecToModel.into("/models/churn/3"));
   * }</pre>
   */
  public static SaveSpecToModel into(String modelDir) {
    if (modelDir == null || modelDir.isEmpty()) {
      throw new IllegalArgumentException("modelDir must be a directory, but was '" + modelDir + "'");
    }
    return new SaveSpecToModel(modelDir);
  }

  @Override
  public PCollection<String> expand(PCollection<FeatureSpec> fitted) {
    if (!(fitted.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
      throw new IllegalArgumentException(
          "SaveSpecToModel saves the one spec of the global window, as AnalyzeFeatures produces it, but "
              + fitted + " is windowed by " + fitted.getWindowingStrategy().getWindowFn()
              + ": apply it to AnalyzeFeatures' output before any Window.into");
    }
    // A singleton view makes "exactly one spec" a checked fact, and the write one element's work.
    PCollectionView<FeatureSpec> spec = fitted.apply("OneSpec", View.asSingleton());
    return fitted
        .getPipeline()
        .apply("ModelDir", Create.of(modelDir).withCoder(StringUtf8Coder.of()))
        .apply("Write", ParDo.of(new WriteFn(spec)).withSideInputs(spec))
        .setCoder(StringUtf8Coder.of());
  }

  private static final class WriteFn extends DoFn<String, String> {
    private static final long serialVersionUID = 1L;
    private final PCollectionView<FeatureSpec> spec;

    WriteFn(PCollectionView<FeatureSpec> spec) {
      this.spec = spec;
    }

    @ProcessElement
    public void process(@Element String dir, OutputReceiver<String> out, ProcessContext c) {
      Path modelDir = Path.of(dir);
      write(c.sideInput(spec), modelDir);
      out.output(modelDir.resolve(FILE_NAME).toString());
    }
  }

  /**
   * The manifest's entries other than the spec, after checking the directory against them: the
   * same checks as {@link ModelManifest#verify}, except that the spec file may be absent, stale or
   * unlisted, since it is about to be replaced.
   */
  private static List<FileEntry> verifiedFilesBesidesSpec(ModelManifest manifest, Path modelDir) {
    Map<String, FileEntry> present = new LinkedHashMap<>();
    for (FileEntry e : ModelManifest.hashFiles(modelDir)) {
      present.put(e.getPath(), e);
    }
    present.remove(FILE_NAME);
    List<FileEntry> listed = new ArrayList<>();
    for (FileEntry expected : manifest.getFiles()) {
      if (expected.getPath().equals(FILE_NAME)) {
        continue;
      }
      FileEntry actual = present.remove(expected.getPath());
      if (actual == null) {
        throw new ModelIntegrityException(
            "model file " + expected.getPath() + ": missing from " + modelDir
                + ", though the manifest lists it; not saving the feature spec into a damaged model");
      }
      if (actual.getSize() != expected.getSize()
          || !actual.getSha256().equalsIgnoreCase(expected.getSha256())) {
        throw new ModelIntegrityException(
            "model file " + expected.getPath() + ": differs from the manifest (expected " + expected
                + ", found " + actual + "); not saving the feature spec into a damaged model");
      }
      listed.add(expected);
    }
    if (!present.isEmpty()) {
      throw new ModelIntegrityException(
          "model file " + present.keySet().iterator().next() + ": present in " + modelDir
              + " but not listed in the manifest; remove it, or re-export the model, before saving"
              + " the feature spec");
    }
    return listed;
  }

  /** Temporary file then rename, as the manifest is written: no reader sees half a spec. */
  private static void writeAtomically(Path modelDir, byte[] json) {
    Path target = modelDir.resolve(FILE_NAME);
    try {
      Path tmp = Files.createTempFile(modelDir, ".feature-spec", ".tmp");
      try {
        Files.write(tmp, json);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required on every JVM", e);
    }
  }
}
