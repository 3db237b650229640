package dev.batchserve.pipelines.cli;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code batchserve manifest DIR} (one of {@link OwnModelTools}' verbs): writes
 * {@code model-manifest.json} for a model directory made elsewhere (name, version and format
 * given), or re-hashes the files of an existing manifest after its files changed, keeping every other field (those given as options replace theirs).
 *
 * <pre>
 * bin/batchserve manifest work/models/my-onnx/3 --name=my-model --version=3 --format=onnx
 * </pre>
 */
@Command(name = "batchserve manifest", sortOptions = false,
    description = "Writes the manifest of a model made elsewhere, or re-hashes an existing one after its files changed.")
final class WriteManifest implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", description = "The model directory.")
  private Path dir;

  @Option(names = "--name", description = "The model's name (required without a manifest).")
  private String name;

  @Option(names = "--version", description = "The model's version (required without a manifest).")
  private String version;

  @Option(names = "--format", paramLabel = "onnx|tensorflow|linear|xgboost|NAME",
      description = "The model's format (required without a manifest).")
  private String format;

  @Option(names = "--inputFeatures", paramLabel = "a,b", description = "The input features (default: from the spec).")
  private String inputFeatures;

  @Option(names = "--spec", paramLabel = "FILE", description = "The feature spec (default: DIR/feature-spec.json).")
  private String specFile;

  @Option(names = "--inputName", description = "The model's input tensor name.")
  private String inputName;

  @Option(names = "--outputName", description = "The model's output tensor name.")
  private String outputName;

  @Option(names = "--outputSize", description = "The model's output size.")
  private Integer outputSize;

  @Spec private CommandSpec spec;

  @Override
  public Integer call() {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("model directory " + dir + " does not exist");
    }
    Path existing = dir.resolve(ModelManifest.FILE_NAME);
    ModelManifest.Builder b;
    if (Files.exists(existing)) {
      b = ModelManifest.read(dir).toBuilder();
    } else {
      if (name == null || version == null || format == null) {
        throw new IllegalArgumentException(dir + " has no " + ModelManifest.FILE_NAME + ": give --name, --version"
            + " and --format (onnx, tensorflow, linear, xgboost, or a backend's own name) to write one");
      }
      b = ModelManifest.builder()
          .createdAt(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    }
    if (name != null) {
      b.name(name);
    }
    if (version != null) {
      b.version(version);
    }
    if (format != null) {
      b.format(formatName(format));
    }
    if (inputName != null) {
      b.inputName(inputName);
    }
    if (outputName != null) {
      b.outputName(outputName);
    }
    if (outputSize != null) {
      b.outputSize(outputSize);
    }
    Path specPath = specFile != null ? Paths.get(specFile) : dir.resolve(SaveSpecToModel.FILE_NAME);
    if (inputFeatures != null) {
      b.inputFeatures(Arrays.stream(inputFeatures.split(",")).map(String::trim).collect(Collectors.toList()));
    } else if (Files.exists(specPath)) {
      b.inputFeatures(FeatureSpec.read(specPath.toString()).outputNames());
    }
    // Every file but the manifest itself, hashed now.
    ModelManifest manifest = b.files(ModelManifest.hashFiles(dir)).build();
    manifest.write(dir);
    manifest.verify(dir);
    spec.commandLine().getOut().println("wrote " + existing + ": " + manifest.getName() + " version "
        + manifest.getVersion() + ", " + manifest.getFormat() + ", " + manifest.getFiles().size() + " files hashed");
    return 0;
  }

  /** A manifest format from its usual spelling ({@code onnx}, {@code tensorflow}, ...) or a backend's own name. */
  static String formatName(String s) {
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "onnx":
        return ModelFormat.ONNX;
      case "tensorflow":
      case "tf":
      case "savedmodel":
      case "tf_saved_model":
        return ModelFormat.TF_SAVED_MODEL;
      case "linear":
      case "linear_json":
        return ModelFormat.LINEAR_JSON;
      case "xgboost":
        return ModelFormat.XGBOOST;
      default:
        return s.trim();
    }
  }
}
