package dev.batchserve.pipelines.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.pipelines.TrainingSet;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.ingest.ReadRecords;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The launcher verbs that take a user's own data file to a model directory the job can serve: fit
 * a feature spec from a template, train the built-in linear or MLP model on a labelled file, and
 * write or re-hash the manifest of any model directory. {@code batchserve model verify DIR} then
 * checks it, and {@code batchserve score --model=DIR} serves it.
 *
 * <pre>
 * bin/batchserve fit-spec --input=data/train.parquet --template=template.json --out=work/feature-spec.json
 * bin/batchserve train --input=data/train.parquet --template=template.json --label=churned \
 *     --modelDir=work/models/churn/1 --name=churn --model=mlp --hidden=16 --export=onnx
 * bin/batchserve manifest work/models/my-onnx/3 --name=my-model --version=3 --format=onnx
 * bin/batchserve model verify work/models/churn/1
 * </pre>
 *
 * <p>Data files are read with the job's own reader ({@link ReadRecords}: CSV, JSON lines, Parquet,
 * by extension or {@code --format}), so training sees each value exactly as scoring will. The file
 * is read once on the Direct runner and then held in memory: these verbs are for training sets
 * that fit in memory; a larger fit belongs in a pipeline ({@code AnalyzeFeatures}).
 */
public final class OwnModelTools {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where {@code train --model=mlp} keeps the trained network's weights ({@link MlpWeights#toJson()}). */
  public static final String MLP_WEIGHTS_FILE = "mlp-weights.json";

  private OwnModelTools() {}

  /** {@code fit-spec}: fits a template on a data file and writes the fitted spec; returns the exit code. */
  static int fitSpec(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(FitSpec.class, args, out, err);
  }

  /** {@code train --input=...}: see {@link Train}; returns the exit code. */
  static int train(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Train.class, args, out, err);
  }

  /** {@code manifest DIR}: see {@link WriteManifest}; returns the exit code. */
  static int manifest(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(WriteManifest.class, args, out, err);
  }

  /** The data file options of {@code fit-spec} and {@code train}. */
  static final class DataFile {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "The data file (CSV, JSON lines, Parquet).")
    String input;

    @Option(names = "--format", paramLabel = "csv|jsonl|parquet", description = "The file's format (default: by extension).")
    String format;

    @Option(names = "--keyColumns", paramLabel = "a,b", description = "The key columns (default: the first column read).")
    String keyColumns;
  }

  /** {@code fit-spec}: fits a template on a data file and writes the fitted spec. */
  @Command(name = "batchserve fit-spec", sortOptions = false,
      description = "Fits a feature-spec template on your data file and writes the fitted spec.")
  static final class FitSpec implements Callable<Integer> {
    @Mixin private DataFile data;

    @Option(names = "--template", required = true, paramLabel = "T.json", description = "The feature-spec template.")
    private String template;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The fitted spec to write.")
    private String out;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() {
      FeatureSpec t = FeatureSpec.read(template);
      List<Map<String, Object>> rows = readRows(data.input, data.format, t.inputNames(), null, data.keyColumns);
      FeatureSpec fitted = FeatureSpec.fit(t, rows);
      fitted.write(out);
      spec.commandLine().getOut().println("fitted " + t.inputNames().size() + " features on " + rows.size()
          + " rows of " + data.input + " -> " + out + " (outputs " + fitted.outputNames() + ")");
      return 0;
    }
  }

  /**
   * {@code train}: fits the template (or takes a fitted {@code --spec}), trains the built-in model
   * and exports it with its spec and manifest into {@code --modelDir} (empty or absent).
   */
  @Command(name = "batchserve train", sortOptions = false,
      description = {"Trains the built-in linear or MLP model on your labelled data file; writes model, spec and "
          + "manifest into --modelDir.", "(Without --input, `train` trains the demo fraud model: see its --help.)"})
  static final class Train implements Callable<Integer> {
    @Mixin private DataFile data;

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
      List<Map<String, Object>> rows = readRows(data.input, data.format, given.inputNames(), label, data.keyColumns);
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
          throw new IllegalArgumentException("row " + (i + 1) + " of " + data.input + " has no usable label in '"
              + label + "' (" + y + "): every training row needs a number, true/false or 0/1");
        }
        rows.get(i).put(label, v);
      }
      TrainingSet t;
      try {
        t = specFile != null ? TrainingSet.of(given, rows, label) : TrainingSet.fit(given, rows, label);
      } catch (IllegalStateException e) {
        throw new IllegalArgumentException("cannot train on " + data.input + ": " + e.getMessage()
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
          .trainingData(data.input + " (" + rows.size() + " rows, label " + label + ")")
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

  /**
   * Reads a data file with the job's reader (Direct runner) into memory: one map per record, of
   * the spec's inputs and {@code label} (when not null). A record the reader refuses fails the
   * tool, naming it: training data must be clean.
   */
  static List<Map<String, Object>> readRows(String input, String format, List<String> inputs, String label,
      String keyColumns) {
    Set<String> columns = new LinkedHashSet<>(inputs);
    if (label != null) {
      columns.add(label);
    }
    ReadRecords.Format f = format == null || format.isBlank() ? ReadRecords.Format.fromPattern(input)
        : ReadRecords.Format.valueOf(format.trim().toUpperCase(Locale.ROOT));
    String[] keys = keyColumns == null ? new String[] {columns.iterator().next()}
        : Arrays.stream(keyColumns.split(",")).map(String::trim).toArray(String[]::new);
    Path tmp;
    try {
      tmp = Files.createTempDirectory("batchserve-rows");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      // The Direct runner in this JVM, without its per-element encoding and mutation checks (our own
      // code's coders are tested elsewhere; here they would only slow a large training file down).
      Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner",
          "--enforceEncodability=false", "--enforceImmutability=false").create());
      ReadRecords.Result read = p.apply("Read", ReadRecords.of(input, f, new ArrayList<>(columns))
          .withKeyColumns(keys));
      read.records().apply("ToJson", ParDo.of(new ToJsonFn(new ArrayList<>(columns))))
          .apply("Write", TextIO.write().to(tmp.resolve("rows").toString()).withSuffix(".jsonl"));
      read.deadLetters().apply("Refused", ParDo.of(new DoFn<dev.batchserve.transforms.values.DeadLetter, Void>() {
        @ProcessElement
        public void process(@Element dev.batchserve.transforms.values.DeadLetter d) {
          throw new IllegalArgumentException("the data file has a record the reader refuses (" + d.getReason()
              + "): " + d.getRecord() + "; training data must be clean");
        }
      }));
      p.run().waitUntilFinish();
      List<Map<String, Object>> rows = new ArrayList<>();
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path file : files.sorted().collect(Collectors.toList())) {
          for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
              rows.add(toMap(JSON.readTree(line)));
            }
          }
        }
      }
      if (rows.isEmpty()) {
        throw new IllegalArgumentException(input + " has no records");
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (org.apache.beam.sdk.Pipeline.PipelineExecutionException e) {
      throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static Map<String, Object> toMap(JsonNode n) {
    Map<String, Object> m = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = n.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      m.put(e.getKey(), v.isNull() ? null : v.isIntegralNumber() ? (Object) v.asLong()
          : v.isNumber() ? (Object) v.asDouble() : v.isBoolean() ? (Object) v.asBoolean()
          : v.isArray() ? listOf(v) : v.asText());
    }
    return m;
  }

  private static List<Object> listOf(JsonNode array) {
    List<Object> l = new ArrayList<>();
    array.forEach(x -> l.add(x.isNumber() ? (Object) x.asDouble() : x.asText()));
    return l;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }

  /** One record as a JSON object of the wanted columns; instants and dates as ISO text. */
  private static final class ToJsonFn extends DoFn<KV<String, Row>, String> {
    private static final long serialVersionUID = 1L;
    private final List<String> columns;

    ToJsonFn(List<String> columns) {
      this.columns = columns;
    }

    @ProcessElement
    public void process(@Element KV<String, Row> kv, OutputReceiver<String> out) {
      Row row = kv.getValue();
      ObjectNode n = JSON.createObjectNode();
      for (String c : columns) {
        if (!row.getSchema().hasField(c)) {
          continue;
        }
        Object v = row.getValue(c);
        if (v == null) {
          n.putNull(c);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
          n.put(c, ((Number) v).longValue());
        } else if (v instanceof BigDecimal) {
          n.put(c, (BigDecimal) v);
        } else if (v instanceof Number) {
          n.put(c, ((Number) v).doubleValue());
        } else if (v instanceof Boolean) {
          n.put(c, (Boolean) v);
        } else if (v instanceof org.joda.time.ReadableInstant) {
          n.put(c, java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis()).toString());
        } else if (v instanceof Iterable) {
          com.fasterxml.jackson.databind.node.ArrayNode arr = n.putArray(c);
          for (Object x : (Iterable<?>) v) {
            if (x instanceof Number) {
              arr.add(((Number) x).doubleValue());
            } else {
              arr.add(String.valueOf(x));
            }
          }
        } else {
          n.put(c, v.toString());
        }
      }
      out.output(n.toString());
    }
  }
}
