package dev.batchserve.models;

import java.nio.file.Path;

/**
 * Loads models of one {@link ModelFormat}. The built-in backends are found by class name so that a
 * backend whose optional engine dependency (ONNX Runtime, XGBoost) is absent is simply unavailable;
 * further backends can be registered with {@link Models#register} or through
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.batchserve.models.ModelBackend}).
 *
 * <pre>{@code
 * public final class MyBackend implements ModelBackend {
 *   public ModelFormat format() { return ModelFormat.LINEAR_JSON; }
 *   public Model load(Path dir, ModelManifest m, ModelOptions o) { ... }
 * }
 * }</pre>
 */
public interface ModelBackend {

  /** The format this backend loads. */
  ModelFormat format();

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
