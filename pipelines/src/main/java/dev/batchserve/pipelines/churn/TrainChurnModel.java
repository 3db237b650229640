package dev.batchserve.pipelines.churn;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.pipelines.TrainingSet;
import dev.batchserve.transforms.features.FeatureSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Trains the churn demo model: fits {@link ChurnSample#template()} on generated customers, fits a
 * logistic regression (an MLP without hidden layers) in plain Java and exports it as a pure-Java
 * linear model ({@code LinearExporter}, no native engine needed) with the spec inside the model
 * directory, covered by the manifest.
 *
 * <pre>{@code
 * TrainChurnModel.Trained t = TrainChurnModel.train(Path.of("work/models/churn-logistic/1"), 20_000, 7, "1");
 * }</pre>
 */
public final class TrainChurnModel {
  public static final String MODEL_NAME = "churn-logistic";
  public static final String SPEC_FILE = "feature-spec.json";

  private TrainChurnModel() {}

  /** What training produced. */
  public static final class Trained {
    public final FeatureSpec spec;
    public final MlpWeights weights;
    public final ModelManifest manifest;
    public final double trainAccuracy;

    Trained(FeatureSpec spec, MlpWeights weights, ModelManifest manifest, double trainAccuracy) {
      this.spec = spec;
      this.weights = weights;
      this.manifest = manifest;
      this.trainAccuracy = trainAccuracy;
    }
  }

  /** Trains on {@code customers} generated rows and writes the model into {@code modelDir} (replaced). */
  public static Trained train(Path modelDir, int customers, long seed, String version) {
    List<Map<String, Object>> rows = ChurnSample.generate(customers, seed);
    TrainingSet training = TrainingSet.fit(ChurnSample.template(), rows, ChurnSample.LABEL);
    FeatureSpec spec = training.spec;
    float[][] x = training.x;
    float[] y = training.y;
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes().withEpochs(30)
        .withLearningRate(0.02).withSeed(seed)).train(x, y);
    double accuracy = MlpTrainer.accuracy(weights, x, y);
    deleteRecursively(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(MODEL_NAME)
        .version(version)
        .inputFeatures(spec.outputNames())
        .trainingData(String.format(Locale.ROOT, "ChurnSample.generate(customers=%d, seed=%d)", customers, seed))
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy), "feature_spec", SPEC_FILE))
        .build();
    ModelManifest exported = LinearExporter.export(weights, modelDir, partial);
    spec.write(modelDir.resolve(SPEC_FILE).toString());
    ModelManifest manifest = exported.withFiles(ModelManifest.hashFiles(modelDir));
    manifest.write(modelDir);
    return new Trained(spec, weights, manifest, accuracy);
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + dir, e);
    }
  }
}
