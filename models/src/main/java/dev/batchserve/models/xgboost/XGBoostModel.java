package dev.batchserve.models.xgboost;

import dev.batchserve.models.AbstractModel;
import dev.batchserve.models.FileEntry;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * An XGBoost model ({@code model.json} or {@code model.ubj}) run with XGBoost4J's in-place
 * prediction on dense rows, which XGBoost documents as thread-safe.
 *
 * <p>Threads: {@code nthread} is 1 unless {@link ModelOptions#getIntraOpThreads()} says otherwise.
 * XGBoost's OpenMP threads busy-wait between calls; with more threads than free cores (a 2-core
 * worker running several DoFn threads) that made prediction ~100x slower. If you raise {@code
 * nthread}, also start the JVM with {@code OMP_WAIT_POLICY=PASSIVE} in its environment.
 *
 * <p>Class path: {@code Booster} implements {@code com.esotericsoftware.kryo.KryoSerializable}, so
 * some kryo must be present. batchserve-models excludes XGBoost's kryo 5 (it clashes with the
 * Flink runner's kryo 2.24, which provides the same interface) and does not pass a kryo on.
 *
 * <p>Rows never contain missing values: {@link #predict} rejects NaN like every backend, so
 * XGBoost's missing-value routing is not used.
 *
 * <pre>{@code
 * try (Model model = Models.load(dir)) { // manifest format XGBOOST
 *   float[][] p = model.predict(batch); // binary:logistic -> [n][1] probabilities
 * }
 * }</pre>
 */
public final class XGBoostModel extends AbstractModel {
  /** The manifest metadata naming a feature spec saved inside the model (see SaveSpecToModel in batchserve-transforms). */
  static final String FEATURE_SPEC_METADATA_KEY = "feature_spec";
  private final Booster booster;
  private final int features;
  private final int nthread;

  private XGBoostModel(Booster booster, ModelSignature signature, List<String> featureNames,
      int features, int nthread) {
    super(signature, featureNames);
    this.booster = booster;
    this.features = features;
    this.nthread = nthread;
  }

  /**
   * Loads the manifest's {@code .json}/{@code .ubj} model file (not the feature spec the manifest's
   * {@code feature_spec} metadata names).
   *
   * @throws ModelLoadException if there is none, a GPU device or the CUDA provider is requested, or
   *     XGBoost rejects it
   */
  public static XGBoostModel load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    // A feature spec saved inside the model directory (metadata feature_spec, e.g. feature-spec.json,
    // sorted before model.json) is JSON too, but no booster.
    String spec = manifest.getMetadata().get(FEATURE_SPEC_METADATA_KEY);
    String file = manifest.getFiles().stream().map(FileEntry::getPath)
        .filter(p -> p.endsWith(".json") || p.endsWith(".ubj")).filter(p -> !p.equals(spec)).findFirst()
        .orElseThrow(() -> new ModelLoadException(
            "no .json or .ubj XGBoost model file listed in the manifest of " + modelDir));
    if (options.wantsGpu()) {
      throw new ModelLoadException("the XGBoost backend runs on CPU only, but " + options
          + " asks for a GPU: drop --modelDevice=" + options.getDevice() + " / --onnxExecutionProvider="
          + options.getExecutionProvider() + " for this model");
    }
    Booster booster;
    try {
      booster = XGBoost.loadModel(modelDir.resolve(file).toString());
    } catch (XGBoostError | RuntimeException e) {
      throw new ModelLoadException(
          "cannot load XGBoost model " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
    try {
      int nthread = options.getIntraOpThreads() > 0 ? options.getIntraOpThreads() : 1;
      booster.setParam("nthread", nthread);
      int features = (int) booster.getNumFeature();
      // XGBoost does not expose the output width directly (it depends on the objective), so one
      // zero row is predicted once to learn it.
      int outputs = booster.inplace_predict(new float[features], 1, features, Float.NaN)[0].length;
      ModelSignature signature = new ModelSignature(manifest.getSignatureName(),
          List.of(new TensorInfo("x", "float32", new long[] {-1, features})),
          List.of(new TensorInfo("y", "float32", new long[] {-1, outputs})));
      return new XGBoostModel(booster, signature, manifest.getInputFeatures(), features, nthread);
    } catch (XGBoostError | RuntimeException e) {
      booster.dispose();
      throw new ModelLoadException(
          "cannot prepare XGBoost model " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected float[][] run(float[][] batch) {
    try {
      return booster.inplace_predict(flatten(batch, features), batch.length, features, Float.NaN);
    } catch (XGBoostError e) {
      throw new IllegalStateException("XGBoost prediction failed: " + e.getMessage(), e);
    }
  }

  /**
   * {@code nthread} as set on the booster at load (XGBoost4J has no getter for booster parameters),
   * also reported as {@code intra_op_threads}; the device is always the CPU.
   */
  @Override
  public Map<String, String> runtimeSettings() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put(ENGINE, "xgboost4j");
    settings.put("nthread", Integer.toString(nthread));
    settings.put(INTRA_OP_THREADS, Integer.toString(nthread));
    settings.put(DEVICE, "/CPU:0");
    return settings;
  }

  @Override
  protected void release() {
    booster.dispose();
  }
}
