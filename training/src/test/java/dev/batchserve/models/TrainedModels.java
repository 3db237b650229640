package dev.batchserve.models;

import dev.batchserve.models.linear.LinearModelFile;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.TensorFlowExporter;
import java.nio.file.Path;

/**
 * The trained and exported models of the round-trip tests, on batchserve-models' {@link TestModels}
 * data (its test-jar).
 *
 * <pre>{@code
 * MlpWeights weights = TrainedModels.trainedMlp();
 * ModelManifest manifest = TrainedModels.exportTensorFlow(weights, dir);
 * }</pre>
 */
public final class TrainedModels {
  private TrainedModels() {}

  /** The small MLP (4-16-1) trained on 256 synthetic rows. */
  public static MlpWeights trainedMlp() {
    float[][] x = TestModels.features(256, 1L);
    return new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes(16).withEpochs(60).withSeed(7))
        .train(x, TestModels.labels(x));
  }

  /** Exports {@code weights} as a SavedModel into {@code dir}. */
  public static ModelManifest exportTensorFlow(MlpWeights weights, Path dir) {
    return TensorFlowExporter.export(weights, dir, TestModels.partialManifest("1"));
  }

  /** A linear model with weights {@code {1, 2, -1, 0.5}} and bias 0.25, exported as JSON. */
  public static ModelManifest exportLinear(Path dir, String version) {
    LinearModelFile file = new LinearModelFile(
        new float[][] {{1f, 2f, -1f, 0.5f}}, new float[] {0.25f}, "identity");
    return LinearExporter.export(file, dir, TestModels.partialManifest(version));
  }
}
