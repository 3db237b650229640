package dev.batchserve.pipelines.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.transforms.inference.BatchInfer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Fixed against adaptive batch sizes ({@link BatchInfer#withAdaptiveBatchSize}) in one JVM, on the
 * runner given by the usual {@code --runner} options: the TensorFlow MLP of {@link PipelineBenchmark}
 * scores the same synthetic vectors with each fixed size, then with adaptive sizes between a min and
 * a max. Prints records/s and the batch sizes that ran (the {@code batch_size} distribution: count,
 * min, mean, max) and, for adaptive runs, the size each DoFn instance ended on (the
 * {@code batch_size_target} gauge); writes JSON. No timing assertions anywhere.
 *
 * <pre>
 * java ... AdaptiveBatchBenchmark --out=work/bench/adaptive.json --records=1000000 \
 *     --fixedSizes=32,256,4096 --adaptive=16:8192 --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
 * </pre>
 */
public final class AdaptiveBatchBenchmark {
  private AdaptiveBatchBenchmark() {}

  /** One measured run: records/s and the batch sizes that ran. */
  static ObjectNode runOnce(ObjectMapper json, PipelineOptions options, String modelDir, long records,
      int fixedSize, int adaptiveMin, int adaptiveMax) {
    BatchInfer<Long> infer = BatchInfer.<Long>withModel(modelDir).withRunInfo(PipelineBenchmark.RUN);
    infer = adaptiveMax > 0 ? infer.withAdaptiveBatchSize(adaptiveMin, adaptiveMax) : infer.withMaxBatchSize(fixedSize);
    Pipeline p = PipelineBenchmark.inferencePipeline(options, records, infer);
    long t0 = System.nanoTime();
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("benchmark pipeline ended in " + state);
    }
    // Every record must come out of the pipeline (counted in processElement). The Direct runner
    // applies metric updates on an executor, so wait (briefly) until the count is complete.
    long deadline = System.nanoTime() + 30_000_000_000L;
    long predicted = discarded(result);
    while (predicted != records && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reading metrics", e);
      }
      predicted = discarded(result);
    }
    if (predicted != records) {
      throw new IllegalStateException("the pipeline predicted " + predicted + " of " + records + " records");
    }
    // The batch sizes as the runner reports them: the Direct runner drops metrics set in
    // @FinishBundle, so there the batches flushed at a bundle's end are missing (batchSizeRecords < records).
    long[] sizes = batchSizes(result);
    long count = sizes[0];
    long sum = sizes[1];
    long min = sizes[2];
    long max = sizes[3];
    List<Long> targets = new ArrayList<>();
    for (MetricResult<GaugeResult> g : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(BatchInfer.METRICS_NAMESPACE, "batch_size_target")).build()).getGauges()) {
      targets.add(g.getAttempted().getValue());
    }
    ObjectNode r = json.createObjectNode();
    r.put("mode", adaptiveMax > 0 ? "adaptive " + adaptiveMin + ".." + adaptiveMax : "fixed " + fixedSize);
    r.put("records", records);
    r.put("seconds", seconds);
    r.put("recordsPerSecond", records / seconds);
    r.put("batches", count);
    r.put("batchSizeMin", min);
    r.put("batchSizeMean", count == 0 ? 0.0 : (double) sum / count);
    r.put("batchSizeRecords", sum);
    r.put("batchSizeMax", max);
    r.putPOJO("batchSizeTarget", targets);
    return r;
  }

  /** Count, sum, min and max of the {@code batch_size} distribution over all steps. */
  private static long discarded(PipelineResult result) {
    long n = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(PipelineBenchmark.Discard.NAMESPACE, "discarded")).build()).getCounters()) {
      n += c.getAttempted();
    }
    return n;
  }

  private static long[] batchSizes(PipelineResult result) {
    long[] out = {0, 0, Long.MAX_VALUE, Long.MIN_VALUE};
    for (MetricResult<DistributionResult> d : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(BatchInfer.METRICS_NAMESPACE, "batch_size")).build()).getDistributions()) {
      DistributionResult r = d.getAttempted();
      out[0] += r.getCount();
      out[1] += r.getSum();
      out[2] = Math.min(out[2], r.getMin());
      out[3] = Math.max(out[3], r.getMax());
    }
    return out;
  }

  /** Runs every mode; returns the JSON written to {@code out}. */
  public static ObjectNode run(String[] pipelineArgs, Path workDir, Path out, long records, List<Integer> fixedSizes,
      int adaptiveMin, int adaptiveMax, PrintStream table) throws IOException {
    Path modelDir = PipelineBenchmark.benchModel(workDir);
    PipelineOptions options = PipelineOptionsFactory.fromArgs(pipelineArgs).create();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = PipelineBenchmark.reportHeader(json, options, pipelineArgs, records);
    ArrayNode results = (ArrayNode) root.get("results");
    table.println("| mode | records/s | batches | batch size min / mean / max | settled size per DoFn |");
    table.println("|---|---:|---:|---:|---|");
    // Untimed warm-up: class loading, JIT and the runner's start.
    runOnce(json, options, modelDir.toString(), Math.min(records, 100_000), 256, 0, 0);
    List<int[]> modes = new ArrayList<>();
    for (int size : fixedSizes) {
      modes.add(new int[] {size, 0, 0});
    }
    modes.add(new int[] {0, adaptiveMin, adaptiveMax});
    for (int[] m : modes) {
      ObjectNode r = runOnce(json, options, modelDir.toString(), records, m[0], m[1], m[2]);
      results.add(r);
      table.printf(Locale.ROOT, "| %s | %,.0f | %,d | %d / %.0f / %d | %s |%n", r.get("mode").asText(),
          r.get("recordsPerSecond").asDouble(), r.get("batches").asLong(), r.get("batchSizeMin").asLong(),
          r.get("batchSizeMean").asDouble(), r.get("batchSizeMax").asLong(),
          m[2] > 0 ? r.get("batchSizeTarget").toString() : "-");
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

  /** The command line; options not listed are the pipeline's. */
  @Command(name = "AdaptiveBatchBenchmark", sortOptions = false,
      description = {"Fixed vs adaptive batch sizes on the same job.",
          "Any other option (--runner=..., runner options) goes to the pipeline."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "work/bench/adaptive.json", paramLabel = "FILE",
        description = "The JSON report (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/models", paramLabel = "DIR",
        description = "Models and data (default: ${DEFAULT-VALUE}).")
    private Path workDir;

    @Option(names = "--records", defaultValue = "1000000", description = "Records to score (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--fixedSizes", split = ",", defaultValue = "32,256,4096", paramLabel = "N",
        description = "Fixed batch sizes (default: ${DEFAULT-VALUE}).")
    private List<Integer> fixed;

    @Option(names = "--adaptive", defaultValue = "16:8192", paramLabel = "MIN:MAX",
        description = "The adaptive batch size's bounds (default: ${DEFAULT-VALUE}).")
    private String adaptive;

    @Unmatched private List<String> pipelineArgs = new ArrayList<>();

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      String[] bounds = adaptive.split(":");
      int min;
      int max;
      try {
        min = Integer.parseInt(bounds[0].trim());
        max = Integer.parseInt(bounds[1].trim());
      } catch (RuntimeException e) {
        throw new ParameterException(spec.commandLine(), "--adaptive must be MIN:MAX, like 16:8192, but was '"
            + adaptive + "'", e);
      }
      String[] a = PipelineBenchmark.checkedPipelineArgs(spec, pipelineArgs, PipelineOptions.class);
      System.out.printf("Fixed vs adaptive batch sizes, %,d records, %d cores%n", records,
          Runtime.getRuntime().availableProcessors());
      AdaptiveBatchBenchmark.run(a, workDir, out, records, fixed, min, max, System.out);
      return 0;
    }
  }
}
