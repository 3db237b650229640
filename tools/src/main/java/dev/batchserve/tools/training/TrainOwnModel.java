package dev.batchserve.tools.training;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.ingest.InMemoryRecords;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code batchserve train --input=FILE}: trains the built-in linear or MLP model on the user's
 * labelled data file and exports it with its feature spec and manifest into {@code --modelDir}
 * (empty or absent): a baseline to compare with, or a first model to serve. The template is fitted
 * on the file ({@code --template}) or a fitted spec is taken as is ({@code --spec}); the file is
 * read with the job's own reader ({@link InMemoryRecords}), so training sees each value exactly as
 * scoring will. {@code --help} lists the options ({@link Tools}).
 *
 * <pre>
 * bin/batchserve train --input=data/train.parquet --template=template.json --label=churned \
 *     --modelDir=work/models/churn/1 --name=churn --model=mlp --hidden=16 --export=onnx
 * bin/batchserve model verify work/models/churn/1
 * </pre>
 */
@Command(name = "batchserve train", sortOptions = false,
    description = {"Trains the built-in linear or MLP model on your labelled data file; writes model, spec and "
        + "manifest into --modelDir.", "(Without --input, `train` trains the demo fraud model: see its --help.)"})
public final class TrainOwnModel implements Callable<Integer> {
  /** Where {@code --model=mlp} keeps the trained network's weights ({@link MlpWeights#toJson()}). */
  public static final String MLP_WEIGHTS_FILE = "mlp-weights.json";

  @Option(names = "--input", required = true, paramLabel = "FILE", description = "The data file (CSV, JSON lines, Parquet).")
  private String input;

  @Option(names = "--format", paramLabel = "csv|jsonl|parquet", description = "The file's format (default: by extension).")
  private String format;

  @Option(names = "--keyColumns", paramLabel = "a,b", description = "The key columns (default: the first column read).")
  private String keyColumns;

  @Option(names = "--template", paramLabel = "T.json", description = "A template to fit on --input (or --spec).")
  private String template;

  @Option(names = "--spec", paramLabel = "S.json", description = "A fitted spec (or --template).")
  private String specFile;

  @Option(names = "--label", required = true, paramLabel = "COL", description = "The label column (number, true/false or 0/1).")
  private String label;

  @Option(names = "--modelDir", required = true, paramLabel = "DIR", description = "The model directory to write.")
  private String modelDir;

  @Option(names = "--name", required = true, description = "The model's name in its manifest.")
  private String name;

  @Option(names = "--version", defaultValue = "1", description = "The model's version (default: ${DEFAULT-VALUE}).")
  private String version;

  @Option(names = "--model", defaultValue = "linear", paramLabel = "linear|mlp",
      description = "The model (default: ${DEFAULT-VALUE}).")
  private String model;

  @Option(names = "--hidden", defaultValue = "16", paramLabel = "N[,N...]",
      description = "An MLP's hidden layer sizes (default: ${DEFAULT-VALUE}).")
  private String hiddenSizes;

  @Option(names = "--epochs", defaultValue = "40", description = "Training epochs (default: ${DEFAULT-VALUE}).")
  private int epochs;

  @Option(names = "--learningRate", defaultValue = "0.01", description = "The learning rate (default: ${DEFAULT-VALUE}).")
  private double learningRate;

  @Option(names = "--batchSize", defaultValue = "32", description = "The training batch size (default: ${DEFAULT-VALUE}).")
  private int batchSize;

  @Option(names = "--seed", defaultValue = "7", description = "The random seed (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Option(names = "--export", paramLabel = "linear|onnx|tensorflow",
      description = "The exported format (default: linear for --model=linear, onnx for mlp).")
  private String exportFormat;

  @Spec private CommandSpec spec;

  private TrainOwnModel() {}

  public static void main(String[] args) {
    Tools.exitOnFailure(TrainOwnModel.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(TrainOwnModel.class, args, out, err);
  }

  @Override
  public Integer call() {
    if ((template != null) == (specFile != null)) {
      throw new IllegalArgumentException(
          "train needs exactly one of --template=FILE (fit the spec on --input) and --spec=FILE (a fitted spec)");
    }
    String kind = model.toLowerCase(Locale.ROOT);
    if (!kind.equals("linear") && !kind.equals("mlp")) {
      throw new IllegalArgumentException("--model must be linear or mlp, but was '" + kind + "'");
    }
    String export = (exportFormat != null ? exportFormat : kind.equals("linear") ? "linear" : "onnx")
        .toLowerCase(Locale.ROOT);
    if (!List.of("linear", "onnx", "tensorflow").contains(export)) {
      throw new IllegalArgumentException("--export must be linear, onnx or tensorflow, but was '" + export + "'");
    }
    if (kind.equals("mlp") && export.equals("linear")) {
      throw new IllegalArgumentException("an MLP has hidden layers, which linear-model.json cannot hold:"
          + " use --export=onnx or --export=tensorflow, or --model=linear");
    }
    FeatureSpec given = FeatureSpec.read(specFile != null ? specFile : template);
    List<Map<String, Object>> rows = InMemoryRecords.read(input, format, given.inputNames(), label, keyColumns);
    for (int i = 0; i < rows.size(); i++) {
      Object y = rows.get(i).get(label);
      Double v = null;
      if (y instanceof Number) {
        v = ((Number) y).doubleValue();
      } else if (y instanceof Boolean) {
        v = (Boolean) y ? 1.0 : 0.0;
      } else if (y instanceof CharSequence) {
        v = parseLabel(y.toString());
      }
      if (v == null) {
        throw new IllegalArgumentException("row " + (i + 1) + " of " + input + " has no usable label in '"
            + label + "' (" + y + "): every training row needs a number, true/false or 0/1");
      }
      rows.get(i).put(label, v);
    }
    TrainingSet t;
    try {
      t = specFile != null ? TrainingSet.of(given, rows, label) : TrainingSet.fit(given, rows, label);
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("cannot train on " + input + ": " + e.getMessage()
          + " (fix the data or the " + (specFile != null ? "spec" : "template")
          + ": training rows must all be valid)", e);
    }
    int[] hidden = kind.equals("linear") ? new int[0]
        : Arrays.stream(hiddenSizes.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    MlpTrainer.Config config = MlpTrainer.Config.defaults().withHiddenSizes(hidden)
        .withEpochs(epochs)
        .withLearningRate(learningRate)
        .withBatchSize(batchSize)
        .withSeed(seed);
    MlpWeights weights = new MlpTrainer(config).train(t.x, t.y);
    double accuracy = MlpTrainer.accuracy(weights, t.x, t.y);
    Path dir = Paths.get(modelDir);
    ModelManifest partial = ModelManifest.builder()
        .name(name)
        .version(version)
        .inputFeatures(t.spec.outputNames())
        .trainingData(input + " (" + rows.size() + " rows, label " + label + ")")
        .metadata(Map.of("train_accuracy", String.format(Locale.ROOT, "%.4f", accuracy),
            BatchInfer.SCORE_METADATA_KEY, BatchInfer.SCORE_PROBABILITY))
        .build();
    switch (export) {
      case "linear":
        LinearExporter.export(weights, dir, partial);
        break;
      case "onnx":
        OnnxExporter.export(weights, dir, partial);
        break;
      default:
        TensorFlowExporter.export(weights, dir, partial);
        break;
    }
    ModelManifest manifest = SaveSpecToModel.write(t.spec, dir);
    if (hidden.length > 0) {
      // The trained network in plain JSON too, so that its scores can be checked (or it can be
      // re-exported) without the engine; listed in the manifest like every file.
      try {
        Files.writeString(dir.resolve(MLP_WEIGHTS_FILE), weights.toJson());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      manifest = manifest.toBuilder().files(ModelManifest.hashFiles(dir)).build();
      manifest.write(dir);
      manifest.verify(dir);
    }
    spec.commandLine().getOut().println("trained " + kind + (hidden.length > 0 ? " " + Arrays.toString(hidden) : "")
        + " on " + rows.size() + " rows (train accuracy " + String.format(Locale.ROOT, "%.4f", accuracy) + ") -> "
        + dir + " (" + manifest.getFormat() + ", " + manifest.getFiles().size() + " files in the manifest)");
    return 0;
  }

  private static Double parseLabel(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.equals("true")) {
      return 1.0;
    }
    if (t.equals("false")) {
      return 0.0;
    }
    try {
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
