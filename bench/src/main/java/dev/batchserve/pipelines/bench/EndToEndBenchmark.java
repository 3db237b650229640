package dev.batchserve.pipelines.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.Model;
import dev.batchserve.models.Models;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.features.FeatureSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * The fraud job end to end (Parquet in -> features -> TF MLP -> Parquet + JSON lines out, with the
 * quality gate and the run report) at one size per JVM, against the same work done in a plain Java loop
 * in the same run: the saved feature spec's transform and the model at the same batch size, one thread.
 * Prints rows/s of both, their ratio, and the JVM's peak resident memory (VmHWM), and writes JSON.
 * Run one size per JVM so that peaks are comparable across sizes.
 *
 * <pre>
 * java ... EndToEndBenchmark --records=1000000 --out=work/bench/e2e-1000000.json \
 *     --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
 * </pre>
 */
public final class EndToEndBenchmark {
  private EndToEndBenchmark() {}

  /** Peak resident set of this JVM in bytes (Linux {@code VmHWM}), or -1 where unknown. */
  static long peakRssBytes() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** Rows/s of features + inference in a plain loop, one thread, over the first {@code records} rows. */
  static double rawRate(Path modelDir, long records, int batchSize) {
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    try (Model model = Models.load(modelDir)) {
      float[][] batch = new float[batchSize][];
      int[] n = {0};
      float[] sink = {0};
      long t0 = System.nanoTime();
      FraudSample.forEachRow(records, FraudBenchmarkData.SAMPLE_SEED, row -> {
        batch[n[0]++] = spec.transform(row).vector();
        if (n[0] == batchSize) {
          sink[0] += model.predict(batch)[0][0];
          n[0] = 0;
        }
      });
      if (n[0] > 0) {
        float[][] rest = java.util.Arrays.copyOf(batch, n[0]);
        sink[0] += model.predict(rest)[0][0];
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (Float.isNaN(sink[0])) {
        throw new IllegalStateException("model returned NaN");
      }
      return records / seconds;
    }
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line; options not listed are the pipeline's. */
  @Command(name = "EndToEndBenchmark", sortOptions = false,
      description = {"The whole scoring job vs the raw loop (features + TF, one thread) on the same records.",
          "Any other option (--runner=..., runner options, any option of the job) goes to the pipeline."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "1000000", description = "Records to score (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--batchSize", defaultValue = "256", description = "The job's batch size (default: ${DEFAULT-VALUE}).")
    private int batchSize;

    @Option(names = "--out", paramLabel = "FILE", description = "The JSON report (default: WORKDIR/e2e-RECORDS.json).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/e2e", paramLabel = "DIR",
        description = "Model, data and output (default: ${DEFAULT-VALUE}).")
    private Path work;

    @Unmatched private List<String> pipelineArgs = new ArrayList<>();

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      PipelineBenchmark.checkedPipelineArgs(spec, pipelineArgs, BatchScoringOptions.class);
      measure(records, batchSize, out == null ? work.resolve("e2e-" + records + ".json") : out, work, pipelineArgs);
      return 0;
    }
  }

  private static void measure(long records, int batchSize, Path out, Path work, List<String> pipelineArgs)
      throws IOException {
    Path modelDir = FraudBenchmarkData.model(work, FraudBenchmarkData.TRAINING_ACCOUNTS);
    Path input = FraudBenchmarkData.parquetInput(work, records, System.out);
    Path output = work.resolve("out-" + records).toAbsolutePath();
    FraudBenchmarkData.deleteRecursively(output);
    double raw = rawRate(modelDir, Math.min(records, 500_000), batchSize);

    BatchScoringOptions o = FraudBenchmarkData.jobOptions(input, modelDir, output, records, batchSize, pipelineArgs);
    RunSummary s = BatchScoringPipeline.run(o);
    if (s.predictions + s.fallbacks != records) {
      throw new IllegalStateException("expected " + records + " results, got " + (s.predictions + s.fallbacks));
    }
    double rate = records / s.seconds;
    long rss = peakRssBytes();

    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = json.createObjectNode();
    r.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    r.put("runner", o.getRunner().getSimpleName());
    r.putPOJO("pipelineArgs", pipelineArgs);
    r.put("records", records);
    r.put("batchSize", batchSize);
    r.put("seconds", s.seconds);
    r.put("pipelineRowsPerSecond", rate);
    r.put("rawRowsPerSecond", raw);
    r.put("ratio", rate / raw);
    r.put("microsPerRow", s.seconds * 1e6 / records);
    r.put("peakRssBytes", rss);
    r.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    Files.createDirectories(out.toAbsolutePath().getParent());
    json.writeValue(out.toFile(), r);
    System.out.println("| records | pipeline rows/s | raw loop rows/s (features + TF, 1 thread) | ratio | µs/row | peak RSS |");
    System.out.println("|---:|---:|---:|---:|---:|---:|");
    System.out.printf(Locale.ROOT, "| %,d | %,.0f | %,.0f | %.2f | %.2f | %,d MB |%n", records, rate, raw, rate / raw,
        s.seconds * 1e6 / records, rss / (1024 * 1024));
  }
}
