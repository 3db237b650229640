package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

/**
 * The jobs' {@code --numShards}: the files' shards are also the join back's buckets (the join writes
 * them, {@code KeyedPrediction.writingShards}), and one bucket is held in memory by one worker thread
 * while its keys are resolved, so the default follows the run's size.
 */
public final class OutputShards {
  /** The fewest shards auto gives: enough for the parallelism of a small cluster. */
  public static final int MIN_AUTO = 4;
  /** The most shards a file sink takes. */
  public static final int MAX = 10_000;

  private OutputShards() {}

  /**
   * {@code given} when it is set (1 to {@value #MAX}); when it is 0 (auto), one shard per
   * {@code perShard} of {@code size} (rows, bytes), at least {@value #MIN_AUTO}.
   *
   * @throws IllegalArgumentException naming {@code --numShards}, for a negative or too large value
   */
  public static int resolve(int given, long size, long perShard) {
    try {
      checkNumShards(given);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + e.getMessage(), e);
    }
    if (given > 0) {
      return given;
    }
    long shards = (Math.max(0, size) + perShard - 1) / perShard;
    return (int) Math.max(MIN_AUTO, Math.min(MAX, shards));
  }

  /**
   * The check of {@link #resolve}'s {@code given}, for code that takes a shard count before the run
   * (a job file's {@code numShards}): 0 (auto) or 1 to {@value #MAX}.
   *
   * <pre>{@code
   * int n = OutputShards.checkNumShards(8);
   * }</pre>
   *
   * @throws IllegalArgumentException naming the value, when it is negative or too large
   */
  public static int checkNumShards(int given) {
    checkArgument(given >= 0 && given <= MAX,
        "numShards must be 0 (auto: from the run's size) or in [1, %s], but was %s", MAX, given);
    return given;
  }
}
