package dev.batchserve.pipelines.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;

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

  /** {@code fit-spec}: fits a template on a data file and writes the fitted spec. */
  static int fitSpec(String[] args, PrintStream out) {
    Map<String, String> a = parse("fit-spec", args, Set.of("input", "format", "template", "out", "keyColumns"),
        Set.of("input", "template", "out"));
    FeatureSpec template = FeatureSpec.read(a.get("template"));
    List<Map<String, Object>> rows = readRows(a.get("input"), a.get("format"), template.inputNames(), null,
        a.get("keyColumns"));
    FeatureSpec fitted = FeatureSpec.fit(template, rows);
    fitted.write(a.get("out"));
    out.println("fitted " + template.inputNames().size() + " features on " + rows.size() + " rows of "
        + a.get("input") + " -> " + a.get("out") + " (outputs " + fitted.outputNames() + ")");
    return 0;
  }

  /**
   * {@code train}: fits the template (or takes a fitted {@code --spec}), trains the built-in model
   * and exports it with its spec and manifest into {@code --modelDir} (empty or absent).
   */
  static int train(String[] args, PrintStream out) {
    Map<String, String> a = parse("train", args,
        Set.of("input", "format", "template", "spec", "label", "modelDir", "name", "version", "model", "hidden",
            "epochs", "learningRate", "batchSize", "seed", "export", "keyColumns"),
        Set.of("input", "label", "modelDir", "name"));
    if (a.containsKey("template") == a.containsKey("spec")) {
      throw new IllegalArgumentException(
          "train needs exactly one of --template=FILE (fit the spec on --input) and --spec=FILE (a fitted spec)");
    }
    String kind = a.getOrDefault("model", "linear").toLowerCase(Locale.ROOT);
    if (!kind.equals("linear") && !kind.equals("mlp")) {
      throw new IllegalArgumentException("--model must be linear or mlp, but was '" + kind + "'");
    }
    String export = a.getOrDefault("export", kind.equals("linear") ? "linear" : "onnx").toLowerCase(Locale.ROOT);
    if (!List.of("linear", "onnx", "tensorflow").contains(export)) {
      throw new IllegalArgumentException("--export must be linear, onnx or tensorflow, but was '" + export + "'");
    }
    if (kind.equals("mlp") && export.equals("linear")) {
      throw new IllegalArgumentException("an MLP has hidden layers, which linear-model.json cannot hold:"
          + " use --export=onnx or --export=tensorflow, or --model=linear");
    }
    FeatureSpec given = FeatureSpec.read(a.containsKey("spec") ? a.get("spec") : a.get("template"));
    String label = a.get("label");
    List<Map<String, Object>> rows = readRows(a.get("input"), a.get("format"), given.inputNames(), label,
        a.get("keyColumns"));
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
        throw new IllegalArgumentException("row " + (i + 1) + " of " + a.get("input") + " has no usable label in '"
            + label + "' (" + y + "): every training row needs a number, true/false or 0/1");
      }
      rows.get(i).put(label, v);
    }
    TrainingSet t;
    try {
      t = a.containsKey("spec") ? TrainingSet.of(given, rows, label) : TrainingSet.fit(given, rows, label);
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("cannot train on " + a.get("input") + ": " + e.getMessage()
          + " (fix the data or the " + (a.containsKey("spec") ? "spec" : "template") + ": training rows must all be valid)", e);
    }
    int[] hidden = kind.equals("linear") ? new int[0]
        : Arrays.stream(a.getOrDefault("hidden", "16").split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    MlpTrainer.Config config = MlpTrainer.Config.defaults().withHiddenSizes(hidden)
        .withEpochs(Integer.parseInt(a.getOrDefault("epochs", "40")))
        .withLearningRate(Double.parseDouble(a.getOrDefault("learningRate", "0.01")))
        .withBatchSize(Integer.parseInt(a.getOrDefault("batchSize", "32")))
        .withSeed(Long.parseLong(a.getOrDefault("seed", "7")));
    MlpWeights weights = new MlpTrainer(config).train(t.x, t.y);
    double accuracy = MlpTrainer.accuracy(weights, t.x, t.y);
    Path dir = Paths.get(a.get("modelDir"));
    ModelManifest partial = ModelManifest.builder()
        .name(a.get("name"))
        .version(a.getOrDefault("version", "1"))
        .inputFeatures(t.spec.outputNames())
        .trainingData(a.get("input") + " (" + rows.size() + " rows, label " + label + ")")
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
    out.println("trained " + kind + (hidden.length > 0 ? " " + Arrays.toString(hidden) : "") + " on " + rows.size()
        + " rows (train accuracy " + String.format(Locale.ROOT, "%.4f", accuracy) + ") -> " + dir + " ("
        + manifest.getFormat() + ", " + manifest.getFiles().size() + " files in the manifest)");
    return 0;
  }

  /**
   * {@code manifest DIR}: writes {@code model-manifest.json} for a model directory made elsewhere
   * (name, version and format given), or re-hashes the files of an existing manifest after its
   * files changed, keeping every other field (those given as options replace theirs).
   */
  static int manifest(String[] args, PrintStream out) {
    if (args.length == 0 || args[0].startsWith("--")) {
      throw new IllegalArgumentException("manifest needs the model directory first: batchserve manifest DIR"
          + " [--name=N --version=V --format=F --inputFeatures=a,b --spec=feature-spec.json]");
    }
    Path dir = Paths.get(args[0]);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("model directory " + dir + " does not exist");
    }
    Map<String, String> a = parse("manifest", Arrays.copyOfRange(args, 1, args.length),
        Set.of("name", "version", "format", "inputFeatures", "spec", "inputName", "outputName", "outputSize"), Set.of());
    Path existing = dir.resolve(ModelManifest.FILE_NAME);
    ModelManifest.Builder b;
    if (Files.exists(existing)) {
      b = ModelManifest.read(dir).toBuilder();
    } else {
      for (String required : List.of("name", "version", "format")) {
        if (!a.containsKey(required)) {
          throw new IllegalArgumentException(dir + " has no " + ModelManifest.FILE_NAME + ": give --name, --version"
              + " and --format (onnx, tensorflow, linear, xgboost, or a backend's own name) to write one");
        }
      }
      b = ModelManifest.builder().createdAt(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    }
    if (a.containsKey("name")) {
      b.name(a.get("name"));
    }
    if (a.containsKey("version")) {
      b.version(a.get("version"));
    }
    if (a.containsKey("format")) {
      b.format(formatName(a.get("format")));
    }
    if (a.containsKey("inputName")) {
      b.inputName(a.get("inputName"));
    }
    if (a.containsKey("outputName")) {
      b.outputName(a.get("outputName"));
    }
    if (a.containsKey("outputSize")) {
      b.outputSize(Integer.parseInt(a.get("outputSize")));
    }
    Path spec = a.containsKey("spec") ? Paths.get(a.get("spec")) : dir.resolve(SaveSpecToModel.FILE_NAME);
    if (a.containsKey("inputFeatures")) {
      b.inputFeatures(Arrays.stream(a.get("inputFeatures").split(",")).map(String::trim).collect(Collectors.toList()));
    } else if (Files.exists(spec)) {
      b.inputFeatures(FeatureSpec.read(spec.toString()).outputNames());
    }
    // Every file but the manifest itself, hashed now.
    ModelManifest manifest = b.files(ModelManifest.hashFiles(dir)).build();
    manifest.write(dir);
    manifest.verify(dir);
    out.println("wrote " + existing + ": " + manifest.getName() + " version "
        + manifest.getVersion() + ", " + manifest.getFormat() + ", " + manifest.getFiles().size() + " files hashed");
    return 0;
  }

  /** A manifest format from its usual spelling ({@code onnx}, {@code tensorflow}, ...) or a backend's own name. */
  static String formatName(String s) {
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "onnx":
        return ModelFormat.ONNX;
      case "tensorflow":
      case "tf":
      case "savedmodel":
      case "tf_saved_model":
        return ModelFormat.TF_SAVED_MODEL;
      case "linear":
      case "linear_json":
        return ModelFormat.LINEAR_JSON;
      case "xgboost":
        return ModelFormat.XGBOOST;
      default:
        return s.trim();
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

  /** {@code --k=v} options; unknown or missing required ones fail naming them. */
  static Map<String, String> parse(String verb, String[] args, Set<String> known, Set<String> required) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException(verb + " takes --name=value options, but got '" + arg + "'");
      }
      String[] kv = arg.substring(2).split("=", 2);
      if (!known.contains(kv[0])) {
        throw new IllegalArgumentException(verb + " has no option --" + kv[0] + "; its options: --"
            + known.stream().sorted().collect(Collectors.joining(", --")));
      }
      m.put(kv[0], kv[1]);
    }
    for (String r : required) {
      if (!m.containsKey(r) || m.get(r).isBlank()) {
        throw new IllegalArgumentException(verb + " needs --" + r);
      }
    }
    return m;
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
