package dev.batchserve.models.linear;

import dev.batchserve.models.AbstractModel;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A linear (or logistic) model in pure Java: {@code out[j] = link(sum_i x[i] * W[j][i] + b[j])}.
 * No native code, so it is the backend for tests and for baselines.
 *
 * <pre>{@code
 * Model m = LinearModel.load(dir, ModelManifest.read(dir)); // reads linear-model.json
 * float[][] p = m.predict(new float[][] {{1f, 2f}});
 * }</pre>
 */
public final class LinearModel extends AbstractModel {
  private final float[][] weights;
  private final float[] bias;
  private final boolean logistic;

  /** A model from its parameters; {@code features} may be empty. */
  public LinearModel(LinearModelFile spec, String signatureName, List<String> features) {
    super(signature(spec, signatureName), features);
    this.weights = spec.getWeights();
    this.bias = spec.getBias();
    this.logistic = spec.getLink().equals("logistic");
  }

  /** Loads {@code linear-model.json} from a model directory. */
  public static LinearModel load(Path modelDir, ModelManifest manifest) {
    return new LinearModel(
        LinearModelFile.read(modelDir), manifest.getSignatureName(), manifest.getInputFeatures());
  }

  private static ModelSignature signature(LinearModelFile spec, String name) {
    long d = spec.getWeights()[0].length;
    long k = spec.getWeights().length;
    return new ModelSignature(name,
        List.of(new TensorInfo("x", "float32", new long[] {-1, d})),
        List.of(new TensorInfo("y", "float32", new long[] {-1, k})));
  }

  @Override
  protected float[][] run(float[][] batch) {
    float[][] out = new float[batch.length][weights.length];
    for (int r = 0; r < batch.length; r++) {
      float[] x = batch[r];
      for (int j = 0; j < weights.length; j++) {
        float[] w = weights[j];
        float z = 0f;
        for (int i = 0; i < x.length; i++) {
          z += x[i] * w[i];
        }
        z += bias[j];
        out[r][j] = logistic ? (float) (1.0 / (1.0 + Math.exp(-z))) : z;
      }
    }
    return out;
  }

  /**
   * Always one thread, the caller's, on the CPU: a linear model ignores thread options.
   */
  @Override
  public Map<String, String> runtimeSettings() {
    return Map.of(ENGINE, "linear (pure Java)", INTRA_OP_THREADS, "1", INTER_OP_THREADS, "1",
        DEVICE, "/CPU:0");
  }

  @Override
  protected void release() {
    // Plain Java arrays: nothing to free.
  }
}
