package dev.batchserve.pipelines.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.transforms.features.AnalyzeFeatures;
import dev.batchserve.transforms.features.Feature;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.ingest.ReadRecords;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Fitting the fraud feature template on {@code --records} rows: {@link AnalyzeFeatures} in a
 * pipeline (read the Parquet sample, fit; Flink embedded unless other pipeline options are given)
 * against {@link FeatureSpec#fit} in plain Java on the same rows in memory, in the same JVM. Prints
 * both times and their ratio, checks that the two fits agree (same layout, vocabularies and
 * histogram counts), and writes JSON.
 *
 * <pre>
 * java ... AnalyzeFeaturesBenchmark --records=1000000 --out=work/bench/fit-1000000.json \
 *     --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
 * </pre>
 */
public final class AnalyzeFeaturesBenchmark {
  private AnalyzeFeaturesBenchmark() {}

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line; options not listed are the pipeline's. */
  @Command(name = "AnalyzeFeaturesBenchmark", sortOptions = false,
      description = {"The feature fit in plain Java vs AnalyzeFeatures in a pipeline, on the same rows.",
          "Any other option (--runner=..., runner options) goes to the pipeline (default: Flink embedded)."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "1000000", description = "Rows to fit on (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--out", paramLabel = "FILE", description = "The JSON report (default: WORKDIR/fit-RECORDS.json).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/fit", paramLabel = "DIR",
        description = "Data and fitted specs (default: ${DEFAULT-VALUE}).")
    private Path work;

    @Unmatched private List<String> pipelineArgs = new ArrayList<>();

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      PipelineBenchmark.checkedPipelineArgs(spec, pipelineArgs, PipelineOptions.class);
      measure(records, out == null ? work.resolve("fit-" + records + ".json") : out, work, pipelineArgs);
      return 0;
    }
  }

  private static void measure(long records, Path out, Path work, List<String> pipelineArgs) throws IOException {
    if (pipelineArgs.stream().noneMatch(a -> a.startsWith("--runner="))) {
      pipelineArgs.add("--runner=FlinkRunner");
      pipelineArgs.add("--flinkMaster=[local]");
      pipelineArgs.add("--parallelism=" + Runtime.getRuntime().availableProcessors());
    }
    Path input = FraudBenchmarkData.parquetInput(work, records, System.out);
    FeatureSpec template = FraudSample.template();

    // Plain Java: the rows generated into memory (not timed), then the exact two-pass fit.
    List<Map<String, Object>> rows = new ArrayList<>((int) Math.min(records, Integer.MAX_VALUE));
    FraudSample.forEachRow(records, FraudBenchmarkData.SAMPLE_SEED, rows::add);
    long t0 = System.nanoTime();
    FeatureSpec plain = FeatureSpec.fit(template, rows);
    double plainSeconds = (System.nanoTime() - t0) / 1e9;
    rows = null;

    // The pipeline: read the same rows from the Parquet sample and fit; the spec is written out.
    Path specOut = work.resolve("fit-" + records + "-spec.json").toAbsolutePath();
    Files.deleteIfExists(specOut);
    PipelineOptions options = PipelineOptionsFactory.fromArgs(pipelineArgs.toArray(new String[0])).create();
    Pipeline p = Pipeline.create(options);
    PCollection<Row> sample = p.apply("Read", ReadRecords.parquet(input.toString()).withKeyColumns(FraudSample.KEY))
        .records().apply("Rows", Values.create());
    sample.apply("Fit", AnalyzeFeatures.of(template))
        .apply("Save", ParDo.of(new SaveFn(specOut.toString())));
    long t1 = System.nanoTime();
    PipelineResult.State state = p.run().waitUntilFinish();
    double pipelineSeconds = (System.nanoTime() - t1) / 1e9;
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("the fit pipeline ended " + state);
    }
    FeatureSpec fitted = FeatureSpec.read(specOut.toString());
    String agreement = agreement(plain, fitted);

    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = json.createObjectNode();
    r.put("availableProcessors", Runtime.getRuntime().availableProcessors());
    r.put("runner", options.getRunner().getSimpleName());
    r.putPOJO("pipelineArgs", pipelineArgs);
    r.put("records", records);
    r.put("plainFitSeconds", plainSeconds);
    r.put("pipelineSeconds", pipelineSeconds);
    r.put("ratio", pipelineSeconds / plainSeconds);
    r.put("agreement", agreement);
    r.put("peakRssBytes", EndToEndBenchmark.peakRssBytes());
    Files.createDirectories(out.toAbsolutePath().getParent());
    json.writeValue(out.toFile(), r);
    System.out.println("| records | FeatureSpec.fit (plain Java, in memory) | AnalyzeFeatures (" + options.getRunner().getSimpleName()
        + ", read + fit) | pipeline / plain | fits agree |");
    System.out.println("|---:|---:|---:|---:|---|");
    System.out.printf(Locale.ROOT, "| %,d | %.1f s | %.1f s | %.2f | %s |%n", records, plainSeconds, pipelineSeconds,
        pipelineSeconds / plainSeconds, agreement);
  }

  /** "yes", or what differs: the layout, a vocabulary or a histogram's counts. */
  static String agreement(FeatureSpec a, FeatureSpec b) {
    if (!a.outputNames().equals(b.outputNames())) {
      return "layout differs: " + a.outputNames() + " vs " + b.outputNames();
    }
    for (Feature f : a.features()) {
      Feature g = b.feature(f.name());
      if (f.vocabulary() != null && !f.vocabulary().equals(g.vocabulary())) {
        return "vocabulary of " + f.name() + " differs";
      }
      if (f.stats() != null && f.stats().histogram() != null
          && !f.stats().histogram().counts().equals(g.stats().histogram().counts())) {
        return "histogram of " + f.name() + " differs";
      }
    }
    return "yes";
  }

  private static final class SaveFn extends DoFn<FeatureSpec, Void> {
    private static final long serialVersionUID = 1L;
    private final String path;

    SaveFn(String path) {
      this.path = path;
    }

    @ProcessElement
    public void process(@Element FeatureSpec spec) {
      spec.write(path);
    }
  }
}
