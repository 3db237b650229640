package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.models.ModelOptions;
import dev.batchserve.transforms.ingest.ReadRecords;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The values of {@link BatchScoringOptions} that need more than the option's own type: the auto
 * number of shards, adaptive batch sizes and the model runtime, each checked with a message that
 * names its option, before the pipeline is built. Typed options (fallback, duplicate keys, formats,
 * columns) are used as they are.
 */
final class OptionValues {
  /**
   * Input bytes per output shard when {@code --numShards} is 0 (auto), for text inputs (CSV, JSON
   * lines): about 30,000 rows of 30 features. A shard is also a join bucket, whose keys' states are
   * held in memory by one worker thread; measured (BENCHMARKS.md): 64 buckets of 16k keys ran 1M rows
   * 22% faster and in 25% less memory than 8 of 125k.
   */
  static final long AUTO_SHARD_BYTES_TEXT = 4L << 20;

  /** The same for Parquet, whose rows take 5 to 10 times fewer bytes (about 25 to 50k rows). */
  static final long AUTO_SHARD_BYTES_PARQUET = 1L << 19;

  /**
   * {@code --numShards}, or when it is 0 (auto) one shard per {@value #AUTO_SHARD_BYTES_TEXT} bytes of
   * CSV / JSON lines input ({@value #AUTO_SHARD_BYTES_PARQUET} of Parquet), of this partition's share
   * for a partitioned run, see {@link OutputShards}. JDBC and BigQuery sources, whose size is not known
   * before the read, get {@link OutputShards#MIN_AUTO}.
   */
  static int numShards(BatchScoringOptions o, ReadRecords.Format format) {
    long bytes = 0;
    if (o.getNumShards() == 0 && format != ReadRecords.Format.JDBC && format != ReadRecords.Format.BIGQUERY) {
      try {
        for (org.apache.beam.sdk.io.fs.MatchResult.Metadata m
            : org.apache.beam.sdk.io.FileSystems.match(o.getInput()).metadata()) {
          bytes += m.sizeBytes();
        }
      } catch (java.io.IOException e) {
        bytes = 0; // the read reports a missing input with its own message
      }
      if (o.getPartition() >= 0 && o.getPartitions() > 1) {
        bytes /= o.getPartitions();
      }
    }
    return OutputShards.resolve(o.getNumShards(), bytes,
        format == ReadRecords.Format.PARQUET ? AUTO_SHARD_BYTES_PARQUET : AUTO_SHARD_BYTES_TEXT);
  }

  /** {@code --adaptiveBatchSize}: {@code "<min>..<max>"} as {min, max}, or null when empty. */
  static int @org.checkerframework.checker.nullness.qual.Nullable [] adaptiveBatchSize(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d+)\\s*\\.\\.\\s*(\\d+)\\s*").matcher(value);
    checkArgument(m.matches(), "--adaptiveBatchSize must be <min>..<max>, e.g. 16..4096, but was '%s'", value);
    int[] bounds = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    try {
      dev.batchserve.transforms.inference.BatchInfer.withModel("unused").withAdaptiveBatchSize(bounds[0], bounds[1]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--adaptiveBatchSize=" + value + ": " + e.getMessage(), e);
    }
    return bounds;
  }
  /**
   * The model runtime options of {@code --modelIntraOpThreads}, {@code --modelInterOpThreads},
   * {@code --modelDevice}, {@code --onnxOptimizationLevel} and {@code --onnxExecutionProvider}; a bad
   * value fails here, before the job starts, naming its option.
   */
  static ModelOptions modelOptions(BatchScoringOptions o) {
    checkArgument(o.getModelIntraOpThreads() >= 0, "--modelIntraOpThreads must be >= 0, but was %s",
        o.getModelIntraOpThreads());
    checkArgument(o.getModelInterOpThreads() >= 0, "--modelInterOpThreads must be >= 0, but was %s",
        o.getModelInterOpThreads());
    ModelOptions m = ModelOptions.defaults().withIntraOpThreads(o.getModelIntraOpThreads())
        .withInterOpThreads(o.getModelInterOpThreads());
    try {
      m = m.withDevice(blankToNull(o.getModelDevice()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--modelDevice: " + e.getMessage(), e);
    }
    // Typed: a bad --onnxOptimizationLevel or --onnxExecutionProvider failed when the options were read.
    return m.withOptimizationLevel(o.getOnnxOptimizationLevel()).withExecutionProvider(o.getOnnxExecutionProvider());
  }
  private static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private OptionValues() {}
}
