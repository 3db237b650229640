package dev.batchserve.models;

import java.nio.file.Path;

/**
 * Loads the model directories of one format, identified by an open name: a manifest whose
 * {@code "format"} equals {@link #format()} is loaded by this backend. The built-in backends serve
 * the names in {@link ModelFormat} and are found by class name, so that a backend whose optional
 * engine dependency (ONNX Runtime, XGBoost) is absent is simply unavailable. Further backends are
 * registered through {@link java.util.ServiceLoader} (a line with the class name in
 * {@code META-INF/services/dev.batchserve.models.ModelBackend}) or with {@link Models#register}.
 *
 * <p>Each name has exactly one backend: a backend claiming a name that another class already
 * serves (a built-in name included) is refused with a message naming both classes, never silently
 * preferred. Give your own format its own name.
 *
 * <pre>{@code
 * public final class RulesBackend implements ModelBackend {
 *   public String format() { return "acme-rules"; } // manifests say "format": "acme-rules"
 *   public Model load(Path dir, ModelManifest m, ModelOptions o) { return RulesModel.read(dir); }
 * }
 * // src/main/resources/META-INF/services/dev.batchserve.models.ModelBackend:
 * //   com.acme.RulesBackend
 * }</pre>
 *
 * <p>A model that is built in code rather than read from files needs no backend at all: see
 * {@link CodeModel}.
 */
public interface ModelBackend {

  /**
   * The format name this backend serves, matched exactly (case-sensitive) against the manifest's
   * {@code "format"}; non-blank, without surrounding spaces. Must not change between calls.
   */
  String format();

  /**
   * Whether the engine can be used in this JVM (its classes are on the class path). Checked before
   * {@link #load}, so that a missing optional dependency gives a clear message.
   */
  default boolean isAvailable() {
    return true;
  }

  /**
   * Loads the model. The directory has already been verified against the manifest.
   *
   * @throws ModelLoadException if the files cannot be loaded or do not match the manifest
   */
  Model load(Path modelDir, ModelManifest manifest, ModelOptions options);
}
