package dev.batchserve.pipelines.cli;

import dev.batchserve.models.cli.Tools;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.ingest.InMemoryRecords;
import dev.batchserve.transforms.ingest.ReadRecords;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The launcher verbs that take a user's own data and model to a model directory the job can serve:
 * fit a feature spec from a template on a data file (a full pass over the data, part of the
 * product), and write or re-hash the manifest of a model made elsewhere. {@code batchserve train
 * --input=FILE} (training the built-in baseline model on the user's file) is a development tool in
 * batchserve-tools ({@code dev.batchserve.tools.training.TrainOwnModel}). {@code batchserve model
 * verify DIR} then checks the directory, and {@code batchserve score --model=DIR} serves it.
 *
 * <pre>
 * bin/batchserve fit-spec --input=data/train.parquet --template=template.json --out=work/feature-spec.json
 * bin/batchserve manifest work/models/my-onnx/3 --name=my-model --version=3 --format=onnx
 * bin/batchserve model verify work/models/my-onnx/3
 * </pre>
 *
 * <p>Data files are read with the job's own reader ({@link ReadRecords} through
 * {@link InMemoryRecords}: CSV, JSON lines, Parquet, by extension or {@code --format}), so the fit
 * sees each value exactly as scoring will. The file is held in memory: a larger fit belongs in a
 * pipeline ({@code AnalyzeFeatures}).
 */
public final class OwnModelTools {
  private OwnModelTools() {}

  /** {@code fit-spec}: fits a template on a data file and writes the fitted spec; returns the exit code. */
  static int fitSpec(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(FitSpec.class, args, out, err);
  }

  /** {@code manifest DIR}: see {@link WriteManifest}; returns the exit code. */
  static int manifest(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(WriteManifest.class, args, out, err);
  }

  /** The data file options of {@code fit-spec}. */
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
      List<Map<String, Object>> rows = InMemoryRecords.read(data.input, data.format, t.inputNames(), null, data.keyColumns);
      FeatureSpec fitted = FeatureSpec.fit(t, rows);
      fitted.write(out);
      spec.commandLine().getOut().println("fitted " + t.inputNames().size() + " features on " + rows.size()
          + " rows of " + data.input + " -> " + out + " (outputs " + fitted.outputNames() + ")");
      return 0;
    }
  }
}
