package dev.batchserve.tools.training;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.tools.samples.ChurnSample;
import dev.batchserve.transforms.features.SaveSpecToModel;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Trains the churn demo model: fits {@link ChurnSample#template()} on generated customers, fits a
 * logistic regression (an MLP without hidden layers) in plain Java and exports it as a pure-Java
 * linear model ({@code LinearExporter}, no native engine needed) with the spec inside the model
 * directory, covered by the manifest ({@link SaveSpecToModel}).
 *
 * <p>The churn demo job (batchserve-examples' {@code ChurnPipeline}) trains the model with it when
 * the model is missing; the pipelines' tests train with it too.
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
    // Training rows become vectors through the fitted spec's transform, the one the pipeline uses.
    TrainingSet t = TrainingSet.fit(ChurnSample.template(), ChurnSample.generate(customers, seed), ChurnSample.LABEL);
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes().withEpochs(30)
        .withLearningRate(0.02).withSeed(seed)).train(t.x, t.y);
    double accuracy = MlpTrainer.accuracy(weights, t.x, t.y);
    TrainingSet.clear(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(MODEL_NAME)
        .version(version)
        .inputFeatures(t.spec.outputNames())
        .trainingData(String.format(Locale.ROOT, "ChurnSample.generate(customers=%d, seed=%d)", customers, seed))
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy)))
        .build();
    LinearExporter.export(weights, modelDir, partial);
    SaveSpecToModel.write(t.spec, modelDir);
    return weights;
  }
}
