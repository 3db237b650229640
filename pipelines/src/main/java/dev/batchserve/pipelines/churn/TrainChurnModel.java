package dev.batchserve.pipelines.churn;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
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
 * directory, covered by the manifest ({@link SaveSpecToModel}).
 *
 * <p>It lives with the churn demo job, which trains the model when it is missing
 * ({@link ChurnPipeline}), so it cannot use the training tools of batchserve-tools
 * ({@code dev.batchserve.tools.training.TrainingSet}); its few lines of vectorising are its own.
 *
 * <pre>{@code
 * MlpWeights w = TrainChurnModel.train(Path.of("work/models/churn-logistic/1"), 20_000, 7, "1");
 * ModelManifest written = ModelManifest.read(Path.of("work/models/churn-logistic/1"));
 * }</pre>
 */
public final class TrainChurnModel {
  public static final String MODEL_NAME = "churn-logistic";
  public static final String SPEC_FILE = SaveSpecToModel.FILE_NAME;

  private TrainChurnModel() {}

  /**
   * Trains on {@code customers} generated rows and writes the model into {@code modelDir}
   * (replaced); returns the trained weights (the manifest is in the directory).
   */
  public static MlpWeights train(Path modelDir, int customers, long seed, String version) {
    List<Map<String, Object>> rows = ChurnSample.generate(customers, seed);
    // Training rows become vectors through the fitted spec's transform, the one the pipeline uses.
    FeatureSpec spec = FeatureSpec.fit(ChurnSample.template(), rows);
    float[][] x = new float[rows.size()][];
    float[] y = new float[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      FeatureOutcome o = spec.transform(rows.get(i));
      if (o.kind() != FeatureOutcome.Kind.VALID) {
        throw new IllegalStateException("training row " + i + " is invalid: " + o.reason() + " " + o.message());
      }
      x[i] = o.vector();
      y[i] = ((Number) rows.get(i).get(ChurnSample.LABEL)).floatValue();
    }
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes().withEpochs(30)
        .withLearningRate(0.02).withSeed(seed)).train(x, y);
    double accuracy = MlpTrainer.accuracy(weights, x, y);
    clear(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(MODEL_NAME)
        .version(version)
        .inputFeatures(spec.outputNames())
        .trainingData(String.format(Locale.ROOT, "ChurnSample.generate(customers=%d, seed=%d)", customers, seed))
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy)))
        .build();
    LinearExporter.export(weights, modelDir, partial);
    SaveSpecToModel.write(spec, modelDir);
    return weights;
  }

  /** Removes a model directory and everything in it, so that the export starts from an empty directory. */
  private static void clear(Path dir) {
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
