package dev.batchserve.models;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The description of a model directory, stored as {@code model-manifest.json} beside the model
 * files: identity (name, version), format, signature and feature names, output meaning, and a
 * sha256 + size for every file so that a copied model can be verified before it is loaded.
 *
 * <pre>{@code
 * ModelManifest manifest = ModelManifest.builder()
 *     .name("churn").version("3").format(ModelFormat.TF_SAVED_MODEL)
 *     .inputFeatures(List.of("age", "amount")).outputKind(OutputKind.SCORE).outputSize(1)
 *     .files(ModelManifest.hashFiles(dir))
 *     .build();
 * manifest.write(dir);
 * ModelManifest.read(dir).verify(dir); // throws ModelIntegrityException on any mismatch
 * }</pre>
 */
@JsonDeserialize(builder = ModelManifest.Builder.class)
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({
  "name", "version", "format", "signatureName", "inputName", "outputName", "inputFeatures",
  "inputDtype", "outputKind", "outputSize", "files", "createdAt", "trainingData", "metadata"
})
public final class ModelManifest {
  /** The manifest's file name inside a model directory. */
  public static final String FILE_NAME = "model-manifest.json";

  /** The TensorFlow signature used when the manifest names none. */
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final String name;
  private final String version;
  private final String format;
  private final String signatureName;
  private final String inputName;
  private final String outputName;
  private final List<String> inputFeatures;
  private final String inputDtype;
  private final OutputKind outputKind;
  private final int outputSize;
  private final List<FileEntry> files;
  private final String createdAt;
  private final String trainingData;
  private final Map<String, String> metadata;

  private ModelManifest(Builder b) {
    this.name = b.name;
    this.version = b.version;
    this.format = b.format;
    this.signatureName = b.signatureName;
    this.inputName = b.inputName;
    this.outputName = b.outputName;
    this.inputFeatures = List.copyOf(b.inputFeatures);
    this.inputDtype = b.inputDtype;
    this.outputKind = b.outputKind;
    this.outputSize = b.outputSize;
    this.files = List.copyOf(b.files);
    this.createdAt = b.createdAt;
    this.trainingData = b.trainingData;
    // LinkedHashMap keeps the author's key order through a JSON round trip.
    this.metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
  }

  /** A builder with the defaults: signature {@code serving_default}, dtype {@code float32}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this manifest's values, to derive a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .name(name)
        .version(version)
        .format(format)
        .signatureName(signatureName)
        .inputName(inputName)
        .outputName(outputName)
        .inputFeatures(inputFeatures)
        .inputDtype(inputDtype)
        .outputKind(outputKind)
        .outputSize(outputSize)
        .files(files)
        .createdAt(createdAt)
        .trainingData(trainingData)
        .metadata(metadata);
  }

  /** A copy with a different version. */
  public ModelManifest withVersion(String newVersion) {
    return toBuilder().version(newVersion).build();
  }

  /** A copy with a different file list. */
  public ModelManifest withFiles(List<FileEntry> newFiles) {
    return toBuilder().files(newFiles).build();
  }

  /** The model's name, e.g. {@code "churn"}. */
  public String getName() {
    return name;
  }

  /** The model's version; part of the {@link SharedModelCache} key. */
  public String getVersion() {
    return version;
  }

  /**
   * The on-disk format's name (e.g. {@link ModelFormat#ONNX}, or a name a third-party backend
   * serves), which selects the {@link ModelBackend}; {@code null} if the manifest names none.
   */
  public String getFormat() {
    return format;
  }

  /** The signature to run (TensorFlow signature key); defaults to {@code serving_default}. */
  public String getSignatureName() {
    return signatureName;
  }

  /** The signature input fed by {@link Model#predict}; {@code null} means the only input. */
  public String getInputName() {
    return inputName;
  }

  /** The signature output returned by {@link Model#predict}; {@code null} means the only output. */
  public String getOutputName() {
    return outputName;
  }

  /** The feature names in input vector order. */
  public List<String> getInputFeatures() {
    return inputFeatures;
  }

  /** The input element type; {@code float32}. */
  public String getInputDtype() {
    return inputDtype;
  }

  /** What the output vector means. */
  public OutputKind getOutputKind() {
    return outputKind;
  }

  /** Values per output row. */
  public int getOutputSize() {
    return outputSize;
  }

  /** Every model file with its sha256 and size (the manifest itself excluded). */
  public List<FileEntry> getFiles() {
    return files;
  }

  /** When the model was exported, ISO-8601. */
  public String getCreatedAt() {
    return createdAt;
  }

  /** Where the training data came from, or {@code null}. */
  public String getTrainingData() {
    return trainingData;
  }

  /** Free-form string metadata (e.g. metrics, git commit of the trainer). */
  public Map<String, String> getMetadata() {
    return metadata;
  }

  /**
   * Reads {@code model-manifest.json} from a model directory.
   *
   * @throws ModelLoadException if the file is missing or is not a valid manifest
   */
  public static ModelManifest read(Path modelDir) {
    Path file = modelDir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException("no " + FILE_NAME + " in " + modelDir);
    }
    try (InputStream in = Files.newInputStream(file)) {
      return MAPPER.readValue(in, ModelManifest.class);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Parses a manifest from its JSON text. */
  public static ModelManifest fromJson(String json) {
    try {
      return MAPPER.readValue(json, ModelManifest.class);
    } catch (IOException e) {
      throw new ModelLoadException("invalid model manifest: " + e.getMessage(), e);
    }
  }

  /** This manifest as indented JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code model-manifest.json} into the directory, atomically (a temporary file then a
   * rename) so that a reader never sees half a manifest.
   */
  public void write(Path modelDir) {
    try {
      Files.createDirectories(modelDir);
      Path tmp = Files.createTempFile(modelDir, ".model-manifest", ".tmp");
      try {
        Files.writeString(tmp, toJson());
        Files.move(
            tmp, modelDir.resolve(FILE_NAME), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + modelDir.resolve(FILE_NAME), e);
    }
  }

  /**
   * Checks the directory against {@link #getFiles()}: every listed file exists with the listed size
   * and sha256, and no unlisted file is present (besides the manifest).
   *
   * @throws ModelIntegrityException naming the first offending file
   */
  public void verify(Path modelDir) {
    ModelFiles.verify(files, modelDir);
  }

  /**
   * Lists every regular file under the directory (the manifest excluded) with its sha256 and size,
   * sorted by path: the {@code files} of a manifest for a freshly exported model.
   */
  public static List<FileEntry> hashFiles(Path modelDir) {
    return ModelFiles.hashFiles(modelDir);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ModelManifest)) {
      return false;
    }
    ModelManifest m = (ModelManifest) o;
    return outputSize == m.outputSize
        && Objects.equals(name, m.name)
        && Objects.equals(version, m.version)
        && Objects.equals(format, m.format)
        && Objects.equals(signatureName, m.signatureName)
        && Objects.equals(inputName, m.inputName)
        && Objects.equals(outputName, m.outputName)
        && inputFeatures.equals(m.inputFeatures)
        && Objects.equals(inputDtype, m.inputDtype)
        && outputKind == m.outputKind
        && files.equals(m.files)
        && Objects.equals(createdAt, m.createdAt)
        && Objects.equals(trainingData, m.trainingData)
        && metadata.equals(m.metadata);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, format, signatureName, inputFeatures, files, createdAt);
  }

  @Override
  public String toString() {
    return "ModelManifest{" + name + ":" + version + ", " + format + ", " + inputFeatures.size()
        + " features -> " + outputKind + "[" + outputSize + "], " + files.size() + " files}";
  }

  /**
   * Builds a {@link ModelManifest}; also the JSON deserializer. Unknown JSON fields are ignored so
   * that manifests written by newer exporters still load.
   *
   * <pre>{@code
   * ModelManifest m = ModelManifest.builder().name("churn").version("3")
   *     .format(ModelFormat.LINEAR_JSON).inputFeatures(List.of("a", "b")).build();
   * }</pre>
   */
  @JsonPOJOBuilder(withPrefix = "")
  @JsonIgnoreProperties(ignoreUnknown = true)
  public static final class Builder {
    private String name;
    private String version;
    private String format;
    private String signatureName = DEFAULT_SIGNATURE;
    private String inputName;
    private String outputName;
    private List<String> inputFeatures = List.of();
    private String inputDtype = "float32";
    private OutputKind outputKind = OutputKind.SCORE;
    private int outputSize;
    private List<FileEntry> files = List.of();
    private String createdAt;
    private String trainingData;
    private Map<String, String> metadata = Map.of();

    private Builder() {}

    /** The model's name. */
    public Builder name(String value) {
      this.name = value;
      return this;
    }

    /** The model's version. */
    public Builder version(String value) {
      this.version = value;
      return this;
    }

    /**
     * The on-disk format's name: one of {@link ModelFormat}'s constants or the name a registered
     * {@link ModelBackend#format()} serves. Case-sensitive, as backends are matched exactly.
     */
    public Builder format(String value) {
      this.format = value;
      return this;
    }

    /** The signature name; {@code null} keeps {@code serving_default}. */
    public Builder signatureName(String value) {
      this.signatureName = value == null ? DEFAULT_SIGNATURE : value;
      return this;
    }

    /** The input fed by {@code predict}; {@code null} for the only input. */
    public Builder inputName(String value) {
      this.inputName = value;
      return this;
    }

    /** The output returned by {@code predict}; {@code null} for the only output. */
    public Builder outputName(String value) {
      this.outputName = value;
      return this;
    }

    /** Feature names in vector order. */
    public Builder inputFeatures(List<String> value) {
      this.inputFeatures = value == null ? List.of() : List.copyOf(value);
      return this;
    }

    /** The input dtype; {@code null} keeps {@code float32}. */
    public Builder inputDtype(String value) {
      this.inputDtype = value == null ? "float32" : value;
      return this;
    }

    /** What the output means. */
    public Builder outputKind(OutputKind value) {
      this.outputKind = value;
      return this;
    }

    /** Values per output row. */
    public Builder outputSize(int value) {
      if (value < 0) {
        throw new IllegalArgumentException("outputSize must be >= 0, but was " + value);
      }
      this.outputSize = value;
      return this;
    }

    /** The model files with their hashes. */
    public Builder files(List<FileEntry> value) {
      this.files = value == null ? List.of() : List.copyOf(value);
      return this;
    }

    /** Export time, ISO-8601. */
    public Builder createdAt(String value) {
      this.createdAt = value;
      return this;
    }

    /** Training data description, nullable. */
    public Builder trainingData(String value) {
      this.trainingData = value;
      return this;
    }

    /** Free-form metadata. */
    public Builder metadata(Map<String, String> value) {
      this.metadata = value == null ? Map.of() : new LinkedHashMap<>(value);
      return this;
    }

    /** The manifest. */
    public ModelManifest build() {
      return new ModelManifest(this);
    }
  }
}
