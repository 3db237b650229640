package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.linear.LinearModelFile;
import java.nio.file.Path;

/**
 * Exports a linear model as {@code linear-model.json} plus {@code model-manifest.json} (format
 * LINEAR_JSON), e.g. a one-layer {@link MlpWeights} (logistic regression) or hand-set weights.
 *
 * <pre>{@code
 * LinearExporter.export(new LinearModelFile(w, b, "logistic"), dir,
 *     ModelManifest.builder().name("baseline").version("1").build());
 * }</pre>
 */
public final class LinearExporter {
  private LinearExporter() {}

  /** Writes the model and its manifest into {@code dir}, which must be empty or absent. */
  public static ModelManifest export(LinearModelFile model, Path dir, ModelManifest partialManifest) {
    ExportedManifest.requireEmpty(dir);
    model.write(dir);
    return ExportedManifest.write(dir, partialManifest, ModelFormat.LINEAR_JSON,
        model.getWeights()[0].length, model.getWeights().length, null, null);
  }

  /**
   * Exports a single-layer {@link MlpWeights} (no hidden layer): its {@code [d][k]} kernel becomes
   * the {@code [k][d]} weights, the output activation the link.
   *
   * @throws IllegalArgumentException if the network has hidden layers
   */
  public static ModelManifest export(MlpWeights weights, Path dir, ModelManifest partialManifest) {
    if (weights.getLayers().size() != 1) {
      throw new IllegalArgumentException("only a network without hidden layers is linear, but it has "
          + (weights.getLayers().size() - 1));
    }
    MlpWeights.Layer layer = weights.getLayers().get(0);
    float[][] transposed = new float[layer.outputSize()][layer.inputSize()];
    for (int i = 0; i < layer.inputSize(); i++) {
      for (int j = 0; j < layer.outputSize(); j++) {
        transposed[j][i] = layer.getW()[i][j];
      }
    }
    String link = weights.getOutputActivation() == MlpWeights.OutputActivation.SIGMOID
        ? "logistic" : "identity";
    return export(new LinearModelFile(transposed, layer.getB().clone(), link), dir, partialManifest);
  }
}
