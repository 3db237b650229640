package dev.batchserve.models;

import java.io.Serializable;

/**
 * Builds a {@link Model} in code: the loading half of a {@link CodeModel}. It is serialized with
 * the pipeline and called on the workers, once per JVM while the model is in use (see
 * {@link SharedModelCache#acquire(CodeModel)}), so it should capture only small serializable
 * values (paths, thresholds, weights) and do the expensive work inside {@link #load}.
 *
 * <pre>{@code
 * ModelLoader loader = () -> new FraudRules(0.7f);  // a lambda or a method reference
 * ModelLoader fromFile = () -> FraudRules.read(Paths.get("/opt/rules.txt"));
 * }</pre>
 */
@FunctionalInterface
public interface ModelLoader extends Serializable {

  /**
   * Creates the model. Any exception is reported as a {@link ModelLoadException} naming the code
   * model; returning {@code null} is an error too.
   */
  Model load() throws Exception;
}
