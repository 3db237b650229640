package dev.batchserve.models.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.Models;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.linear.LinearModelFile;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import dev.batchserve.models.training.TensorFlowExporter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Raw engine throughput, without Beam: for each backend whose engine is on the class path, the
 * demo-sized model (an MLP 32-64-32-1 for TensorFlow and ONNX, logistic regression on the same 32
 * features for the linear backend, 50 trees of depth 6 for XGBoost) is exported, loaded through
 * {@link Models#load}, warmed up, then timed at each batch size from one calling thread. Writes
 * the numbers as JSON and prints a markdown table of records/s.
 *
 * <p>Numbers from a shared 2-core machine are noisy; compare backends within one run.
 *
 * <pre>{@code
 * java -cp ... dev.batchserve.models.bench.RawEngineBenchmark --out bench.json \
 *     --batch-sizes 1,32,256,1024,4096 --records 200000 --warmup-records 20000 --threads 1
 * }</pre>
 */
public final class RawEngineBenchmark {
  /** Features of the demo model. */
  public static final int FEATURES = 32;

  /**
   * What to measure; immutable.
   *
   * <pre>{@code
   * RawEngineBenchmark.Config c = RawEngineBenchmark.Config.defaults().withRecords(1000);
   * }</pre>
   */
  public static final class Config {
    private final int[] batchSizes;
    private final long records;
    private final long warmupRecords;
    private final int threads;

    private Config(int[] batchSizes, long records, long warmupRecords, int threads) {
      this.batchSizes = batchSizes;
      this.records = records;
      this.warmupRecords = warmupRecords;
      this.threads = threads;
    }

    /** Batch sizes 1, 32, 256, 1024, 4096; 200k timed and 20k warm-up records; engine threads 1. */
    public static Config defaults() {
      return new Config(new int[] {1, 32, 256, 1024, 4096}, 200_000, 20_000, 1);
    }

    /** Batch sizes to measure. */
    public Config withBatchSizes(int... sizes) {
      if (sizes.length == 0 || Arrays.stream(sizes).anyMatch(s -> s <= 0)) {
        throw new IllegalArgumentException("batch sizes must be > 0, but were " + Arrays.toString(sizes));
      }
      return new Config(sizes.clone(), records, warmupRecords, threads);
    }

    /** Records per timed measurement (at least one batch is always run). */
    public Config withRecords(long value) {
      if (value <= 0) {
        throw new IllegalArgumentException("records must be > 0, but was " + value);
      }
      return new Config(batchSizes, value, warmupRecords, threads);
    }

    /** Records run before timing each measurement. */
    public Config withWarmupRecords(long value) {
      if (value < 0) {
        throw new IllegalArgumentException("warmupRecords must be >= 0, but was " + value);
      }
      return new Config(batchSizes, records, value, threads);
    }

    /** Engine intra-op threads (0 for the engine default). */
    public Config withThreads(int value) {
      if (value < 0) {
        throw new IllegalArgumentException("threads must be >= 0, but was " + value);
      }
      return new Config(batchSizes, records, warmupRecords, value);
    }
  }

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RawEngineBenchmark() {}

  /** The command line ({@link Tools}): {@code --out} is required, the rest default to {@link Config#defaults()}. */
  @Command(name = "RawEngineBenchmark", sortOptions = false,
      description = "Raw engine throughput without Beam: exports the demo models, times each batch size, "
          + "writes JSON and prints a markdown table.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The JSON report to write.")
    private Path out;

    @Option(names = "--batch-sizes", split = ",", paramLabel = "N", defaultValue = "1,32,256,1024,4096",
        description = "Batch sizes to measure (default: ${DEFAULT-VALUE}).")
    private int[] batchSizes;

    @Option(names = "--records", defaultValue = "200000", description = "Records per timed measurement (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--warmup-records", defaultValue = "20000",
        description = "Records run before timing each measurement (default: ${DEFAULT-VALUE}).")
    private long warmupRecords;

    @Option(names = "--threads", defaultValue = "1",
        description = "Engine intra-op threads, 0 for the engine default (default: ${DEFAULT-VALUE}).")
    private int threads;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the models are exported (default: a temporary directory).")
    private Path workDir;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      Config config;
      try {
        config = Config.defaults().withBatchSizes(batchSizes).withRecords(records).withWarmupRecords(warmupRecords)
            .withThreads(threads);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      run(config, workDir == null ? Files.createTempDirectory("raw-engine-bench") : workDir, out, System.out);
      return 0;
    }
  }

  /**
   * {@code --out <file.json>} (required), {@code --batch-sizes a,b,c}, {@code --records n},
   * {@code --warmup-records n}, {@code --threads n}, {@code --work-dir <dir>} (default: a temporary
   * directory); {@code --help} lists them.
   */
  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /**
   * Exports the models into {@code workDir}, measures, writes the JSON report to {@code jsonOut}
   * and prints the markdown table to {@code table}.
   *
   * @return the JSON report
   */
  public static ObjectNode run(Config config, Path workDir, Path jsonOut, PrintStream table) {
    float[][] x = features(4096, 1L);
    float[] y = labels(x);
    Map<String, Path> dirs = exportModels(workDir, x, y);
    ModelOptions options = ModelOptions.defaults().withIntraOpThreads(config.threads)
        .withInterOpThreads(config.threads);

    ObjectNode report = MAPPER.createObjectNode();
    ObjectNode machine = report.putObject("machine");
    machine.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    machine.put("javaVersion", System.getProperty("java.version"));
    machine.put("osArch", System.getProperty("os.arch"));
    ObjectNode cfg = report.putObject("config");
    ArrayNode sizes = cfg.putArray("batchSizes");
    Arrays.stream(config.batchSizes).forEach(sizes::add);
    cfg.put("records", config.records);
    cfg.put("warmupRecords", config.warmupRecords);
    cfg.put("threads", config.threads);
    cfg.put("features", FEATURES);
    ArrayNode results = report.putArray("results");

    Map<String, Map<Integer, Double>> rates = new LinkedHashMap<>();
    for (Map.Entry<String, Path> entry : dirs.entrySet()) {
      String backend = entry.getKey();
      try (Model model = Models.load(entry.getValue(), options)) {
        for (int batchSize : config.batchSizes) {
          float[][] batch = Arrays.copyOf(cycle(x, batchSize), batchSize);
          long warmupBatches = (config.warmupRecords + batchSize - 1) / batchSize;
          for (long i = 0; i < warmupBatches; i++) {
            model.predict(batch);
          }
          long batches = Math.max(1, (config.records + batchSize - 1) / batchSize);
          long start = System.nanoTime();
          for (long i = 0; i < batches; i++) {
            model.predict(batch);
          }
          double seconds = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
          long records = batches * batchSize;
          double perSecond = records / seconds;
          ObjectNode result = results.addObject();
          result.put("backend", backend);
          result.put("batchSize", batchSize);
          result.put("records", records);
          result.put("seconds", seconds);
          result.put("recordsPerSecond", perSecond);
          rates.computeIfAbsent(backend, b -> new LinkedHashMap<>()).put(batchSize, perSecond);
        }
      }
    }
    try {
      if (jsonOut.toAbsolutePath().getParent() != null) {
        Files.createDirectories(jsonOut.toAbsolutePath().getParent());
      }
      MAPPER.writeValue(jsonOut.toFile(), report);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + jsonOut, e);
    }
    table.print(markdown(config.batchSizes, rates));
    return report;
  }

  private static Map<String, Path> exportModels(Path workDir, float[][] x, float[] y) {
    Map<String, Path> dirs = new LinkedHashMap<>();
    MlpWeights mlp = randomMlp(new int[] {FEATURES, 64, 32, 1}, 7L);
    List<String> features = new ArrayList<>();
    for (int i = 0; i < FEATURES; i++) {
      features.add("f" + i);
    }
    ModelManifest partial = ModelManifest.builder().name("bench").version("1")
        .inputFeatures(features).trainingData("synthetic").build();

    // Fresh directories per run: exporters refuse non-empty ones.
    Path root;
    try {
      Files.createDirectories(workDir);
      root = Files.createTempDirectory(workDir, "models");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    dirs.put(ModelFormat.TF_SAVED_MODEL, root.resolve("tensorflow"));
    TensorFlowExporter.export(mlp, dirs.get(ModelFormat.TF_SAVED_MODEL), partial);
    if (Models.backend(ModelFormat.LINEAR_JSON).isAvailable()) {
      dirs.put(ModelFormat.LINEAR_JSON, root.resolve("linear"));
      float[][] w = randomMlp(new int[] {FEATURES, 1}, 8L).getLayers().get(0).getW();
      float[][] transposed = new float[1][FEATURES];
      for (int i = 0; i < FEATURES; i++) {
        transposed[0][i] = w[i][0];
      }
      LinearExporter.export(new LinearModelFile(transposed, new float[] {0.1f}, "logistic"),
          dirs.get(ModelFormat.LINEAR_JSON), partial);
    }
    if (available(ModelFormat.ONNX)) {
      dirs.put(ModelFormat.ONNX, root.resolve("onnx"));
      OnnxExporter.export(mlp, dirs.get(ModelFormat.ONNX), partial);
    }
    if (available(ModelFormat.XGBOOST)) {
      dirs.put(ModelFormat.XGBOOST, root.resolve("xgboost"));
      XGBoostBenchModel.export(x, y, dirs.get(ModelFormat.XGBOOST), partial);
    }
    return dirs;
  }

  private static boolean available(String format) {
    return Models.registeredFormats().contains(format) && Models.backend(format).isAvailable();
  }

  /** Glorot-uniform random weights, reproducible from {@code seed}. */
  public static MlpWeights randomMlp(int[] sizes, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<MlpWeights.Layer> layers = new ArrayList<>();
    for (int l = 0; l + 1 < sizes.length; l++) {
      double limit = Math.sqrt(6.0 / (sizes[l] + sizes[l + 1]));
      float[][] w = new float[sizes[l]][sizes[l + 1]];
      for (float[] row : w) {
        for (int j = 0; j < row.length; j++) {
          row[j] = (float) random.nextDouble(-limit, limit);
        }
      }
      layers.add(new MlpWeights.Layer(w, new float[sizes[l + 1]]));
    }
    return new MlpWeights(layers, MlpWeights.OutputActivation.SIGMOID);
  }

  private static float[][] features(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] x = new float[n][FEATURES];
    for (float[] row : x) {
      for (int i = 0; i < FEATURES; i++) {
        row[i] = (float) random.nextDouble(-1, 1);
      }
    }
    return x;
  }

  private static float[] labels(float[][] x) {
    float[] y = new float[x.length];
    for (int r = 0; r < x.length; r++) {
      y[r] = x[r][0] + x[r][1] - x[r][2] > 0 ? 1f : 0f;
    }
    return y;
  }

  /** {@code n} rows taken cyclically from {@code x}. */
  private static float[][] cycle(float[][] x, int n) {
    float[][] rows = new float[n][];
    for (int r = 0; r < n; r++) {
      rows[r] = x[r % x.length];
    }
    return rows;
  }

  static String markdown(int[] batchSizes, Map<String, Map<Integer, Double>> rates) {
    StringBuilder s = new StringBuilder("| backend |");
    for (int b : batchSizes) {
      s.append(" batch ").append(b).append(" |");
    }
    s.append("\n|---|");
    for (int i = 0; i < batchSizes.length; i++) {
      s.append("---:|");
    }
    s.append('\n');
    for (Map.Entry<String, Map<Integer, Double>> row : rates.entrySet()) {
      s.append("| ").append(row.getKey()).append(" |");
      for (int b : batchSizes) {
        s.append(' ').append(String.format(java.util.Locale.ROOT, "%,.0f", row.getValue().get(b)))
            .append(" |");
      }
      s.append('\n');
    }
    s.append("(records/s, one calling thread)\n");
    return s.toString();
  }
}
