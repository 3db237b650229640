package dev.batchserve.models;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a model directory: reads {@code model-manifest.json}, verifies every file's size and sha256
 * <em>before</em> any engine touches the files, picks the backend for the manifest's format and
 * checks that the loaded signature matches the manifest's feature list.
 *
 * <pre>{@code
 * try (Model model = Models.load(Paths.get("/models/churn/3"))) {
 *   float[][] out = model.predict(batch);
 * }
 * }</pre>
 *
 * <p>Prefer {@link SharedModelCache#acquire} inside pipelines so that a JVM loads a model once.
 */
public final class Models {
  private static final Logger LOG = LoggerFactory.getLogger(Models.class);

  // By class name so that a backend whose engine jar is an absent optional dependency is skipped
  // instead of failing class loading of this class.
  private static final List<String> BUILT_IN = List.of(
      "dev.batchserve.models.tensorflow.TensorFlowBackend",
      "dev.batchserve.models.linear.LinearBackend",
      "dev.batchserve.models.onnx.OnnxBackend",
      "dev.batchserve.models.xgboost.XGBoostBackend");

  private static final Map<ModelFormat, ModelBackend> BACKENDS = new EnumMap<>(ModelFormat.class);

  static {
    for (String className : BUILT_IN) {
      try {
        ModelBackend backend =
            (ModelBackend) Class.forName(className).getDeclaredConstructor().newInstance();
        BACKENDS.put(backend.format(), backend);
      } catch (ReflectiveOperationException | LinkageError e) {
        LOG.debug("built-in backend {} not available: {}", className, e.toString());
      }
    }
    try {
      for (ModelBackend backend : ServiceLoader.load(ModelBackend.class)) {
        BACKENDS.put(backend.format(), backend);
      }
    } catch (ServiceConfigurationError e) {
      LOG.warn("ignoring a misconfigured ModelBackend service: {}", e.getMessage());
    }
  }

  private Models() {}

  /** Loads with engine defaults; see {@link #load(Path, ModelOptions)}. */
  public static Model load(Path modelDir) {
    return load(modelDir, ModelOptions.defaults());
  }

  /**
   * Reads and verifies the manifest, then loads the model with the backend for its format.
   *
   * @throws ModelLoadException if the manifest is missing, no backend can load the format, or the
   *     model's signature does not match the manifest
   * @throws ModelIntegrityException if a file is missing, altered or unlisted
   */
  public static Model load(Path modelDir, ModelOptions options) {
    ModelManifest manifest = ModelManifest.read(modelDir);
    return load(modelDir, manifest, options);
  }

  /** Verifies and loads a directory whose manifest was already read. */
  public static Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    manifest.verify(modelDir);
    ModelBackend backend = backend(manifest.getFormat());
    Model model = backend.load(modelDir, manifest, options);
    try {
      checkSignature(modelDir, manifest, model.signature());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
    return model;
  }

  /**
   * The backend registered for a format.
   *
   * @throws ModelLoadException if none is registered or its engine is not on the class path
   */
  public static ModelBackend backend(ModelFormat format) {
    if (format == null) {
      throw new ModelLoadException("the manifest names no format");
    }
    ModelBackend backend;
    synchronized (BACKENDS) {
      backend = BACKENDS.get(format);
    }
    if (backend == null) {
      throw new ModelLoadException(
          "no backend for format " + format + "; registered: " + registeredFormats());
    }
    if (!backend.isAvailable()) {
      throw new ModelLoadException(
          "the " + format + " backend's engine is not on the class path; add its dependency"
              + " (it is optional in batchserve-models)");
    }
    return backend;
  }

  /** Formats that have a registered backend (available or not). */
  public static List<ModelFormat> registeredFormats() {
    synchronized (BACKENDS) {
      return new ArrayList<>(BACKENDS.keySet());
    }
  }

  /** Registers (or replaces) the backend for its format. */
  public static void register(ModelBackend backend) {
    synchronized (BACKENDS) {
      BACKENDS.put(backend.format(), backend);
    }
  }

  private static void checkSignature(Path dir, ModelManifest manifest, ModelSignature signature) {
    TensorInfo input = manifest.getInputName() != null
        ? signature.input(manifest.getInputName())
        : signature.getInputs().size() == 1 ? signature.getInputs().get(0) : null;
    if (manifest.getInputName() != null && input == null) {
      throw new ModelLoadException(
          "manifest input '" + manifest.getInputName() + "' is not in signature '"
              + signature.getName() + "' of " + dir + "; inputs: " + signature.getInputs());
    }
    int features = manifest.getInputFeatures().size();
    if (input != null && features > 0 && input.lastDimension() >= 0
        && input.lastDimension() != features) {
      throw new ModelLoadException(
          "model in " + dir + " takes " + input.lastDimension() + " features, but the manifest lists "
              + features + " inputFeatures");
    }
    TensorInfo output = manifest.getOutputName() != null
        ? signature.output(manifest.getOutputName())
        : signature.getOutputs().size() == 1 ? signature.getOutputs().get(0) : null;
    if (manifest.getOutputName() != null && output == null) {
      throw new ModelLoadException(
          "manifest output '" + manifest.getOutputName() + "' is not in signature '"
              + signature.getName() + "' of " + dir + "; outputs: " + signature.getOutputs());
    }
    if (output != null && manifest.getOutputSize() > 0) {
      long[] shape = output.getShape();
      long size = shape != null && shape.length == 1 ? 1 : output.lastDimension();
      if (size >= 0 && size != manifest.getOutputSize()) {
        throw new ModelLoadException(
            "model in " + dir + " outputs " + size + " values per row, but the manifest says outputSize "
                + manifest.getOutputSize());
      }
    }
  }
}
