package dev.batchserve.models;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
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

  /** Format name to backend, sorted by name; guarded by itself. */
  private static final Map<String, Registered> BACKENDS;

  /**
   * Why discovery failed (two classes serving one name, or a backend without a name), or
   * {@code null}. Kept rather than thrown from this static initializer, which would leave only a
   * bare {@code NoClassDefFoundError} for every later use; every lookup throws it instead.
   */
  private static final String DISCOVERY_FAILURE;

  static {
    Map<String, Registered> found = new TreeMap<>();
    String failure = null;
    try {
      found = discover(Thread.currentThread().getContextClassLoader());
    } catch (IllegalArgumentException | IllegalStateException e) {
      failure = e.getMessage();
    }
    BACKENDS = found;
    DISCOVERY_FAILURE = failure;
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
   * The backend that serves a format name (matched exactly).
   *
   * @throws ModelLoadException if none serves it, its engine is not on the class path, or two
   *     backends on the class path claim one name
   */
  public static ModelBackend backend(String format) {
    if (format == null) {
      throw new ModelLoadException("the manifest names no format");
    }
    Registered registered;
    List<String> names;
    synchronized (BACKENDS) {
      checkDiscovery();
      registered = BACKENDS.get(format);
      names = new ArrayList<>(BACKENDS.keySet());
    }
    if (registered == null) {
      String hint = names.stream().filter(format::equalsIgnoreCase).findFirst()
          .map(n -> " (format names are case-sensitive: did you mean '" + n + "'?)").orElse("");
      throw new ModelLoadException(
          "no backend for format '" + format + "'; registered: " + names + hint
              + "; add the backend's jar with its META-INF/services/" + ModelBackend.class.getName()
              + " entry, or call Models.register");
    }
    ModelBackend backend = registered.backend;
    if (!backend.isAvailable()) {
      throw new ModelLoadException(
          "the " + format + " backend's engine is not on the class path; add its dependency"
              + " (it is optional in batchserve-models)");
    }
    return backend;
  }

  /** The format names that have a registered backend (available or not), sorted. */
  public static List<String> registeredFormats() {
    synchronized (BACKENDS) {
      checkDiscovery();
      return new ArrayList<>(BACKENDS.keySet());
    }
  }

  /**
   * Registers a backend for the name its {@link ModelBackend#format()} returns. Registering another
   * instance of a class that already serves that name does nothing.
   *
   * <pre>{@code
   * Models.register(new RulesBackend()); // serves manifests with "format": "acme-rules"
   * }</pre>
   *
   * @throws IllegalStateException if another class already serves the name; the message names both
   * @throws IllegalArgumentException if the backend's name is null, blank or has surrounding spaces
   */
  public static void register(ModelBackend backend) {
    synchronized (BACKENDS) {
      checkDiscovery();
      add(BACKENDS, backend, "Models.register");
    }
  }

  /**
   * Finds the built-in backends and those listed in {@code META-INF/services} files visible to
   * {@code loader}.
   *
   * @throws IllegalStateException if two classes serve one name
   * @throws IllegalArgumentException if a backend returns no usable name
   */
  static Map<String, Registered> discover(ClassLoader loader) {
    Map<String, Registered> found = new TreeMap<>();
    for (String className : BUILT_IN) {
      ModelBackend backend;
      try {
        backend = (ModelBackend) Class.forName(className).getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        LOG.debug("built-in backend {} not available: {}", className, e.toString());
        continue;
      }
      add(found, backend, "built in");
    }
    try {
      for (ModelBackend backend : ServiceLoader.load(ModelBackend.class, loader)) {
        add(found, backend, "META-INF/services");
      }
    } catch (ServiceConfigurationError e) {
      LOG.warn("ignoring a misconfigured ModelBackend service: {}", e.getMessage());
    }
    return found;
  }

  private static void add(Map<String, Registered> backends, ModelBackend backend, String origin) {
    String className = backend.getClass().getName();
    String name = backend.format();
    if (name == null || name.isBlank() || !name.equals(name.strip())) {
      throw new IllegalArgumentException(
          "ModelBackend " + className + " (" + origin + ") returns format() "
              + (name == null ? "null" : "'" + name + "'")
              + "; it must return a non-blank name without surrounding spaces");
    }
    Registered existing = backends.get(name);
    if (existing == null) {
      backends.put(name, new Registered(backend, origin));
      return;
    }
    if (existing.backend.getClass().equals(backend.getClass())) {
      // The same class listed twice (e.g. two merged services files): one backend, no conflict.
      return;
    }
    throw new IllegalStateException(
        "two ModelBackends serve the format '" + name + "': "
            + existing.backend.getClass().getName() + " (" + existing.origin + ") and " + className
            + " (" + origin + "); a format name must select exactly one backend: give one of them"
            + " another name in format() (and in the manifests it reads), or remove one from the"
            + " class path");
  }

  private static void checkDiscovery() {
    if (DISCOVERY_FAILURE != null) {
      throw new ModelLoadException(DISCOVERY_FAILURE);
    }
  }

  /** A backend and where it came from, for conflict messages. */
  static final class Registered {
    final ModelBackend backend;
    final String origin;

    Registered(ModelBackend backend, String origin) {
      this.backend = backend;
      this.origin = origin;
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
