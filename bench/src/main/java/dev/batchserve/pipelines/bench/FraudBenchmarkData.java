package dev.batchserve.pipelines.bench;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * The input, model and options of the fraud job that the end-to-end and runner benchmarks run, kept
 * in one place so that both measure the same job: the demo model trained once under the work
 * folder, the generated accounts as one Parquet file per size (seed 42), and the job's settings
 * (run date 2026-01-01, 8 shards, no progress log).
 *
 * <pre>{@code
 * Path model = FraudBenchmarkData.model(work, FraudBenchmarkData.TRAINING_ACCOUNTS);
 * Path input = FraudBenchmarkData.parquetInput(work, 200_000, System.out);
 * BatchScoringOptions o = FraudBenchmarkData.jobOptions(input, model, output, records, 256, List.of("--runner=DirectRunner"));
 * }</pre>
 */
final class FraudBenchmarkData {
  /** Accounts the benchmarks' demo model is trained on (as {@code make train-demo}). */
  static final int TRAINING_ACCOUNTS = 20_000;
  static final long SAMPLE_SEED = 42;
  static final String RUN_DATE = "2026-01-01";

  private FraudBenchmarkData() {}

  /** {@code <work>/model}, trained on {@code trainingAccounts} rows unless it holds a model already. */
  static Path model(Path work, int trainingAccounts) {
    Path modelDir = work.resolve("model").toAbsolutePath();
    if (!Files.exists(modelDir.resolve(ModelManifest.FILE_NAME))) {
      TrainFraudModel.train(modelDir, trainingAccounts, 7, "1");
    }
    return modelDir;
  }

  /** {@code <work>/accounts-<records>.parquet}, written unless it exists. */
  static Path parquetInput(Path work, long records, PrintStream log) {
    Path input = work.resolve("accounts-" + records + ".parquet").toAbsolutePath();
    if (!Files.exists(input)) {
      log.printf("Writing %,d sample accounts to %s%n", records, input);
      FraudSample.writeParquet(records, SAMPLE_SEED, input);
    }
    return input;
  }

  /**
   * The job's options: these inputs and settings, then the runner's arguments; the shard count is the
   * job's own default (auto, from the input's size) unless the runner's arguments give {@code --numShards}.
   */
  static BatchScoringOptions jobOptions(Path input, Path model, Path output, long records, int batchSize,
      List<String> runnerArgs) {
    List<String> all = new ArrayList<>(List.of("--input=" + input, "--model=" + model,
        "--output=" + output.toAbsolutePath(), "--runDate=" + RUN_DATE, "--batchSize=" + batchSize,
        "--progressEvery=0"));
    all.addAll(runnerArgs);
    return PipelineOptionsFactory.fromArgs(all.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  /** Removes {@code root} and everything under it, if it exists. */
  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
