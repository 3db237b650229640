package dev.batchserve.pipelines.churn;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.pipelines.TrainingSet;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains the churn demo model: fits {@link ChurnSample#template()} on generated customers, fits a
 * logistic regression (an MLP without hidden layers) in plain Java and exports it as a pure-Java
 * linear model ({@code LinearExporter}, no native engine needed) with the spec inside the model
 * directory, covered by the manifest ({@link SaveSpecToModel}).
 *
 * <pre>{@code
 * TrainingSet.Trained t = TrainChurnModel.train(Path.of("work/models/churn-logistic/1"), 20_000, 7, "1");
 * }</pre>
 */
public final class TrainChurnModel {
  public static final String MODEL_NAME = "churn-logistic";
  public static final String SPEC_FILE = SaveSpecToModel.FILE_NAME;

  private TrainChurnModel() {}

  /** Trains on {@code customers} generated rows and writes the model into {@code modelDir} (replaced). */
  public static TrainingSet.Trained train(Path modelDir, int customers, long seed, String version) {
    List<Map<String, Object>> rows = ChurnSample.generate(customers, seed);
    TrainingSet training = TrainingSet.fit(ChurnSample.template(), rows, ChurnSample.LABEL);
    FeatureSpec spec = training.spec;
    float[][] x = training.x;
    float[] y = training.y;
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes().withEpochs(30)
        .withLearningRate(0.02).withSeed(seed)).train(x, y);
    double accuracy = MlpTrainer.accuracy(weights, x, y);
    TrainingSet.clear(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(MODEL_NAME)
        .version(version)
        .inputFeatures(spec.outputNames())
        .trainingData(String.format(Locale.ROOT, "ChurnSample.generate(customers=%d, seed=%d)", customers, seed))
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy)))
        .build();
    LinearExporter.export(weights, modelDir, partial);
    ModelManifest manifest = SaveSpecToModel.write(spec, modelDir);
    return new TrainingSet.Trained(spec, weights, manifest, accuracy);
  }
}
