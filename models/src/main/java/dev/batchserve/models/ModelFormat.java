package dev.batchserve.models;

/**
 * The on-disk format of a model, as recorded in {@link ModelManifest#getFormat()}; {@link Models}
 * picks the backend by it.
 *
 * <pre>{@code
 * ModelManifest m = ModelManifest.builder().format(ModelFormat.TF_SAVED_MODEL)...build();
 * }</pre>
 */
public enum ModelFormat {
  /** A TensorFlow SavedModel directory ({@code saved_model.pb} + {@code variables/}). */
  TF_SAVED_MODEL,
  /** A {@code linear-model.json} file: weights, bias and link function. */
  LINEAR_JSON,
  /** An ONNX model file ({@code model.onnx}), run with ONNX Runtime. */
  ONNX,
  /** An XGBoost model file ({@code model.json} or {@code model.ubj}), run with XGBoost4J. */
  XGBOOST
}
