package dev.batchserve.pipelines.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.bench.RawEngineBenchmark;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * In-pipeline inference against the raw engine, measured side by side in one run: for each batch
 * size, the same TensorFlow MLP (32-64-32-1, as in {@code RawEngineBenchmark}) scores the same
 * synthetic vectors once in a plain Java loop on one thread (the baseline) and once through a Beam
 * pipeline (blocks of 10,000 record numbers {@code -> vectors -> BatchInfer -> discard}) on the runner given by the
 * usual {@code --runner} options. Prints records/s of both, their ratio, and the speedup of each
 * batch size over batch 1; writes JSON.
 *
 * <pre>
 * java ... PipelineBenchmark --out=work/bench/pipeline.json --records=1000000 --batchSizes=1,32,256,4096 \
 *     --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
 * </pre>
 *
 * <p>Batch 1 runs on a tenth of the records (both sides), since one call per record is slow.
 */
public final class PipelineBenchmark {
  private PipelineBenchmark() {}

  /** Deterministic vector of record {@code i}: values in [-1, 1). */
  static float[] vector(long i) {
    float[] v = new float[RawEngineBenchmark.FEATURES];
    long x = i * 0x9E3779B97F4A7C15L + 1;
    for (int j = 0; j < v.length; j++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      v[j] = ((x >>> 40) / (float) (1L << 24)) * 2f - 1f;
    }
    return v;
  }

  /** Records per generator block. */
  static final int BLOCK = 10_000;

  /** The vectors of records {@code block * BLOCK} up to {@code records}, keyed by record number. */
  static final class BlockToVectors extends DoFn<Long, KV<Long, FeatureVector>> {
    private final long records;

    BlockToVectors(long records) {
      this.records = records;
    }

    @ProcessElement
    public void process(@Element Long block, OutputReceiver<KV<Long, FeatureVector>> out) {
      for (long i = block * BLOCK; i < Math.min(records, (block + 1) * BLOCK); i++) {
        out.output(KV.of(i, FeatureVector.of(vector(i))));
      }
    }
  }

  /**
   * Drops the predictions: the benchmark measures inference inside the pipeline, not a sink; the
   * {@code num_inferences} metric proves every record was predicted.
   */
  static final class Discard extends DoFn<KV<Long, dev.batchserve.transforms.values.Prediction>, Void> {
    static final String NAMESPACE = "batchserve.bench";
    private final org.apache.beam.sdk.metrics.Counter discarded =
        org.apache.beam.sdk.metrics.Metrics.counter(NAMESPACE, "discarded");

    @ProcessElement
    public void process(@Element KV<Long, dev.batchserve.transforms.values.Prediction> kv) {
      discarded.inc();
    }
  }

  /** Records/s of the raw engine loop at one batch size, one thread. */
  static double rawRate(Model model, long records, int batchSize) {
    float[][] batch = new float[batchSize][];
    long done = 0;
    long t0 = System.nanoTime();
    float sink = 0;
    while (done < records) {
      int n = (int) Math.min(batchSize, records - done);
      float[][] b = n == batchSize ? batch : new float[n][];
      for (int k = 0; k < n; k++) {
        b[k] = vector(done + k);
      }
      sink += model.predict(b)[0][0];
      done += n;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("model returned NaN");
    }
    return records / seconds;
  }

  /** The run the benchmark pipelines stamp their predictions with. */
  static final RunInfo RUN = RunInfo.of("bench", LocalDate.parse("2026-01-01"), RunInfo.Interval.DAILY);

  /** The bench MLP 32-64-32-1 as a TensorFlow SavedModel under {@code workDir}, made once (seed 7). */
  static Path benchModel(Path workDir) throws IOException {
    Path modelDir = workDir.resolve("mlp-32-64-32-1");
    if (!Files.exists(modelDir.resolve(ModelManifest.FILE_NAME))) {
      MlpWeights w = RawEngineBenchmark.randomMlp(new int[] {RawEngineBenchmark.FEATURES, 64, 32, 1}, 7L);
      List<String> names = IntStream.range(0, RawEngineBenchmark.FEATURES).mapToObj(i -> "f" + i)
          .collect(Collectors.toList());
      TensorFlowExporter.export(w, modelDir,
          ModelManifest.builder().name("bench-mlp").version("1").inputFeatures(names).build());
    }
    return modelDir;
  }

  /** The report's header: machine, runner, arguments and record count, with an empty {@code results} array. */
  static ObjectNode reportHeader(ObjectMapper json, PipelineOptions options, String[] pipelineArgs, long records) {
    ObjectNode root = json.createObjectNode();
    ObjectNode machine = root.putObject("machine");
    machine.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    machine.put("javaVersion", System.getProperty("java.version"));
    root.put("runner", options.getRunner().getSimpleName());
    root.putPOJO("pipelineArgs", Arrays.asList(pipelineArgs));
    root.put("records", records);
    root.putArray("results");
    return root;
  }

  /** Blocks of record numbers -> vectors -> {@code infer} -> discard (counting what comes out). */
  static Pipeline inferencePipeline(PipelineOptions options, long records, BatchInfer<Long> infer) {
    Pipeline p = Pipeline.create(options);
    // Blocks of records generated by a ParDo, not a BoundedSource: Flink's runner updates every
    // metric of the job after each record a source reader returns (ReaderInvocationUtil), which
    // took 40% of the samples with GenerateSequence.
    p.apply("Blocks", GenerateSequence.from(0).to((records + BLOCK - 1) / BLOCK))
        .apply("Spread", Reshuffle.viaRandomKey())
        .apply("Vectors", ParDo.of(new BlockToVectors(records)))
        .setCoder(KvCoder.of(VarLongCoder.of(), FeatureVector.FeatureVectorCoder.of()))
        .apply("Infer", infer)
        .predictions()
        .apply("Discard", ParDo.of(new Discard()));
    return p;
  }

  /** Records/s of the pipeline at one batch size; checks that every record was predicted. */
  static double pipelineRate(PipelineOptions options, String modelDir, long records, int batchSize) {
    Pipeline p = inferencePipeline(options, records,
        BatchInfer.<Long>withModel(modelDir).withRunInfo(RUN).withMaxBatchSize(batchSize));
    long t0 = System.nanoTime();
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("benchmark pipeline ended in " + state);
    }
    long predicted = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(BatchInfer.METRICS_NAMESPACE, "num_inferences")).build()).getCounters()) {
      predicted += c.getAttempted() == null ? 0 : c.getAttempted();
    }
    if (predicted != records) {
      throw new IllegalStateException("the pipeline predicted " + predicted + " of " + records + " records");
    }
    return records / seconds;
  }

  /** Runs every batch size; returns the JSON written to {@code out}. */
  public static ObjectNode run(String[] pipelineArgs, Path workDir, Path out, long records, List<Integer> batchSizes,
      PrintStream table) throws IOException {
    Path modelDir = benchModel(workDir);
    PipelineOptions options = PipelineOptionsFactory.fromArgs(pipelineArgs).create();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = reportHeader(json, options, pipelineArgs, records);
    ArrayNode results = (ArrayNode) root.get("results");

    table.println("| batch | records | raw TF loop (rec/s) | pipeline (rec/s) | pipeline / raw | pipeline speedup vs batch 1 |");
    table.println("|---:|---:|---:|---:|---:|---:|");
    Double batchOneRate = null;
    try (Model model = Models.load(modelDir)) {
      // Warm-up, untimed, like the raw loop's: the first pipeline of a JVM also pays for class loading,
      // JIT and the runner's start (it measured 2-3x slower than the same pipeline run second).
      pipelineRate(options, modelDir.toString(), Math.min(records, 200_000), 256);
      for (int size : batchSizes) {
        long n = size == 1 ? Math.max(1, records / 10) : records;
        rawRate(model, Math.min(n, 20_000), size); // warm-up
        double raw = rawRate(model, n, size);
        double pipe = pipelineRate(options, modelDir.toString(), n, size);
        if (size == 1) {
          batchOneRate = pipe;
        }
        ObjectNode r = results.addObject();
        r.put("batchSize", size);
        r.put("records", n);
        r.put("rawRecordsPerSecond", raw);
        r.put("pipelineRecordsPerSecond", pipe);
        r.put("ratio", pipe / raw);
        if (batchOneRate != null) {
          r.put("speedupVsBatch1", pipe / batchOneRate);
        }
        table.printf(Locale.ROOT, "| %d | %,d | %,.0f | %,.0f | %.2f | %s |%n", size, n, raw, pipe, pipe / raw,
            batchOneRate == null ? "-" : String.format(Locale.ROOT, "%.1fx", pipe / batchOneRate));
      }
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    json.writeValue(out.toFile(), root);
    return root;
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /**
   * The arguments a benchmark passes to its pipeline, checked now against {@code type} (Beam's
   * strict parsing: an unknown option fails here, before any data is generated) as a usage error.
   */
  static String[] checkedPipelineArgs(CommandSpec spec, List<String> args, Class<? extends PipelineOptions> type) {
    String[] a = args.toArray(new String[0]);
    try {
      PipelineOptionsFactory.fromArgs(a).as(type);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    return a;
  }

  /** The command line; options not listed are the pipeline's. */
  @Command(name = "PipelineBenchmark", sortOptions = false,
      description = {"In-pipeline inference vs the raw TF loop at each batch size.",
          "Any other option (--runner=..., runner options) goes to the pipeline."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "work/bench/pipeline.json", paramLabel = "FILE",
        description = "The JSON report (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/models", paramLabel = "DIR",
        description = "Models and data (default: ${DEFAULT-VALUE}).")
    private Path workDir;

    @Option(names = "--records", defaultValue = "1000000", description = "Records to score (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--batchSizes", split = ",", defaultValue = "1,32,256,4096", paramLabel = "N",
        description = "Batch sizes (default: ${DEFAULT-VALUE}).")
    private List<Integer> sizes;

    @Unmatched private List<String> pipelineArgs = new ArrayList<>();

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      String[] a = checkedPipelineArgs(spec, pipelineArgs, PipelineOptions.class);
      System.out.printf("In-pipeline inference vs the raw TF loop, %,d records, %d cores%n", records,
          Runtime.getRuntime().availableProcessors());
      PipelineBenchmark.run(a, workDir, out, records, sizes, System.out);
      return 0;
    }
  }
}
