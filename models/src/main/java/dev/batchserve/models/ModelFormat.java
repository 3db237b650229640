package dev.batchserve.models;

/**
 * The names of the built-in model formats, exactly as {@code model-manifest.json} spells them in
 * its {@code "format"} field. A format is an open name: {@link Models} picks the {@link ModelBackend}
 * whose {@link ModelBackend#format()} equals the manifest's format, so a new backend brings its own
 * name (e.g. {@code "acme-rules"}) and needs nothing here.
 *
 * <p>These were the values of an enum before formats became open names; they are kept as string
 * constants with the same spelling so that existing manifests still read and code such as
 * {@code builder().format(ModelFormat.ONNX)} still compiles.
 *
 * <pre>{@code
 * ModelManifest m = ModelManifest.builder().format(ModelFormat.TF_SAVED_MODEL)...build();
 * }</pre>
 */
public final class ModelFormat {
  /** A TensorFlow SavedModel directory ({@code saved_model.pb} + {@code variables/}). */
  public static final String TF_SAVED_MODEL = "TF_SAVED_MODEL";
  /** A {@code linear-model.json} file: weights, bias and link function. */
  public static final String LINEAR_JSON = "LINEAR_JSON";
  /** An ONNX model file ({@code model.onnx}), run with ONNX Runtime. */
  public static final String ONNX = "ONNX";
  /** An XGBoost model file ({@code model.json} or {@code model.ubj}), run with XGBoost4J. */
  public static final String XGBOOST = "XGBOOST";

  private ModelFormat() {}
}
