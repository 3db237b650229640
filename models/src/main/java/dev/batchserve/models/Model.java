package dev.batchserve.models;

import java.util.Map;

/**
 * A loaded, ready-to-run prediction model: dense float features in, dense float outputs out.
 *
 * <p>Implementations are thread-safe: one instance is meant to be shared by every worker thread of
 * a JVM (see {@link SharedModelCache}). Inputs are validated before they reach the native engine,
 * so a malformed batch fails with a {@link ModelInputException} naming the row and feature rather
 * than with an engine error or a JVM crash.
 *
 * <pre>{@code
 * try (Model model = Models.load(Paths.get("/models/churn/3"))) {
 *   float[][] scores = model.predict(new float[][] {{0.1f, 2.0f, 3.5f}});
 * }
 * }</pre>
 */
public interface Model extends AutoCloseable {
  /** {@link #runtimeSettings()} key: the engine and its version. */
  String ENGINE = "engine";
  /** {@link #runtimeSettings()} key: threads inside one operation (0 = the engine's default). */
  String INTRA_OP_THREADS = "intra_op_threads";
  /** {@link #runtimeSettings()} key: threads running operations concurrently (0 = the engine's default). */
  String INTER_OP_THREADS = "inter_op_threads";
  /** {@link #runtimeSettings()} key: the device the model runs on. */
  String DEVICE = "device";
  /** {@link #runtimeSettings()} key: ONNX Runtime's graph optimisation level. */
  String OPTIMIZATION_LEVEL = "optimization_level";
  /** {@link #runtimeSettings()} key: ONNX Runtime's execution provider. */
  String EXECUTION_PROVIDER = "execution_provider";

  /** The model's inputs and outputs as declared by its engine. */
  ModelSignature signature();

  /**
   * Runs the model on a dense batch.
   *
   * @param batch {@code [n][d]} rows, {@code d} equal to {@link ModelSignature#inputSize()}
   * @return {@code [n][k]} outputs, {@code k} equal to {@link ModelSignature#outputSize()}; an
   *     empty batch returns an empty array without calling the engine
   * @throws ModelInputException on a wrong feature count, a ragged or null row, or a NaN/Inf value
   */
  float[][] predict(float[][] batch);

  /**
   * Runs a model with several named inputs and outputs (by signature name). The default accepts
   * exactly the single input of a single-input model and returns its single output; backends with
   * multi-input models override it.
   *
   * @param inputs each input's {@code [n][d]} rows, keyed by signature input name
   * @return every signature output, keyed by name
   */
  default Map<String, float[][]> predictNamed(Map<String, float[][]> inputs) {
    ModelSignature signature = signature();
    if (signature.getInputs().size() != 1 || signature.getOutputs().size() != 1) {
      throw new UnsupportedOperationException(
          "this backend supports predictNamed only for single-input, single-output models");
    }
    String inputName = signature.getInputs().get(0).getName();
    if (inputs.size() != 1 || !inputs.containsKey(inputName)) {
      throw new ModelInputException(
          "expected exactly the input '" + inputName + "', but got " + inputs.keySet());
    }
    return Map.of(signature.getOutputs().get(0).getName(), predict(inputs.get(inputName)));
  }

  /**
   * The engine settings this loaded model runs with, as its backend applied them at load: what
   * {@link ModelOptions} became for this engine (keys {@link #ENGINE}, {@link #INTRA_OP_THREADS},
   * {@link #INTER_OP_THREADS}, {@link #DEVICE}, and for ONNX Runtime
   * {@link #OPTIMIZATION_LEVEL} and {@link #EXECUTION_PROVIDER}; a backend may add its own). Read
   * from the engine's configuration object where the engine keeps one (TensorFlow's
   * {@code ConfigProto}). Empty when the model reports nothing, as a model given in code by default.
   *
   * <pre>{@code
   * try (Model m = Models.load(dir, ModelOptions.defaults().withIntraOpThreads(2))) {
   *   m.runtimeSettings().get(Model.INTRA_OP_THREADS); // "2"
   * }
   * }</pre>
   */
  default Map<String, String> runtimeSettings() {
    return Map.of();
  }

  /** Releases the engine's native resources; further calls to {@code predict} fail. */
  @Override
  void close();
}
