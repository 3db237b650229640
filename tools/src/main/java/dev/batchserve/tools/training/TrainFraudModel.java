package dev.batchserve.tools.training;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.inference.BatchInfer;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains the fraud example's demo model from project code alone (no Python, no download) and
 * exports it as a TensorFlow SavedModel with its manifest and feature spec.
 *
 * <p>Steps: generate a training sample ({@link FraudSample}, a seed other than the scoring sample's),
 * fit the {@link FraudSample#template() feature template} on it, turn every row into a vector with
 * the same {@link FeatureSpec#transform} the pipeline uses, fit a small MLP (one hidden layer of 16,
 * deterministic), export it with {@link TensorFlowExporter}, and save {@code feature-spec.json} inside
 * the model directory, covered by the manifest's checksums ({@link SaveSpecToModel}).
 *
 * <pre>
 * java ... TrainFraudModel --modelDir=work/models/fraud-mlp/1 [--accounts=20000] [--seed=7] [--version=1]
 * </pre>
 *
 * <p>{@code --help} lists the options ({@link Tools}).
 */
public final class TrainFraudModel {
  public static final String MODEL_NAME = "fraud-mlp";
  public static final String SPEC_FILE = SaveSpecToModel.FILE_NAME;

  private TrainFraudModel() {}

  /** Trains on {@code accounts} generated rows and writes the model into {@code modelDir}. */
  public static TrainingSet.Trained train(Path modelDir, int accounts, long seed, String version) {
    List<Map<String, Object>> rows = FraudSample.generate(accounts, seed);
    TrainingSet training = TrainingSet.fit(FraudSample.template(), rows, FraudSample.LABEL);
    FeatureSpec spec = training.spec;
    float[][] x = training.x;
    float[] y = training.y;
    MlpWeights weights = new MlpTrainer(
        MlpTrainer.Config.defaults().withHiddenSizes(16).withEpochs(40).withLearningRate(0.01).withSeed(seed))
        .train(x, y);
    double accuracy = MlpTrainer.accuracy(weights, x, y);

    TrainingSet.clear(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(MODEL_NAME)
        .version(version)
        .inputFeatures(spec.outputNames())
        .trainingData(String.format(Locale.ROOT, "FraudSample.generate(accounts=%d, seed=%d)", accounts, seed))
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy),
            BatchInfer.SCORE_METADATA_KEY, BatchInfer.SCORE_PROBABILITY))
        .build();
    TensorFlowExporter.export(weights, modelDir, partial);
    // The spec is part of the model version: saved inside it, covered by the manifest's checksums.
    ModelManifest manifest = SaveSpecToModel.write(spec, modelDir);
    return new TrainingSet.Trained(spec, weights, manifest, accuracy);
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line ({@link Tools}); {@code --help} lists the options. */
  @Command(name = "batchserve train", sortOptions = false,
      description = {"Trains the fraud demo model (TensorFlow SavedModel, feature spec, manifest) on generated accounts.",
          "(With --input=FILE, `train` trains a model on your own data file: `train --input=FILE --help`.)"})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--modelDir", defaultValue = "work/models/fraud-mlp/1", paramLabel = "DIR",
        description = "The model directory to write (default: ${DEFAULT-VALUE}).")
    private Path modelDir;

    @Option(names = "--accounts", defaultValue = "20000", description = "Training accounts (default: ${DEFAULT-VALUE}).")
    private int accounts;

    @Option(names = "--seed", defaultValue = "7", description = "The random seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--version", defaultValue = "1", description = "The model version (default: ${DEFAULT-VALUE}).")
    private String version;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      out.printf("Training the fraud demo model on %d generated accounts (seed %d)...%n", accounts, seed);
      out.flush();
      TrainingSet.Trained t = train(modelDir, accounts, seed, version);
      out.printf("Exported %s:%s to %s (%d input features, train accuracy %.3f)%n",
          t.manifest.getName(), t.manifest.getVersion(), modelDir, t.spec.outputSize(), t.trainAccuracy);
      return 0;
    }
  }
}
