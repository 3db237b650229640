package dev.batchserve.transforms.inference;

/**
 * The batch size {@link BatchInfer#withAdaptiveBatchSize} runs with, chosen from measured batch
 * latencies by a hill climb on the time per record:
 *
 * <ol>
 *   <li>Start at {@code min}. Each size is measured over {@value #SAMPLES} batches of exactly that
 *       size; the fastest of them counts (a GC pause or a preempted thread only slows a batch down).
 *   <li>While a size's time per record is more than 10% below the best seen so far, it becomes the
 *       best and the size doubles (capped at {@code max}).
 *   <li>The first size that is not 10% better sends the size back to the best one, which is kept
 *       ("settled"). Reaching {@code max} while still improving settles there.
 *   <li>Settled, each further measurement is compared to the best: if the time per record has risen
 *       by more than half (the records or the machine changed), the size halves (not below
 *       {@code min}) and the climb starts again from there.
 *   <li>Settled for {@value #REPROBE_AFTER} measurements (150 batches), the climb resumes from the
 *       current size, measured afresh as the best: so a size chosen while the machine was busy
 *       does not stick, and the best is always judged against the present.
 * </ol>
 *
 * <p>The size is always in {@code [min, max]}. Batches cut short by the byte cap or by the end of
 * a bundle are not measured. Not thread-safe: one per DoFn instance.
 */
final class AdaptiveBatchSize {
  /** Batches measured per size. */
  static final int SAMPLES = 3;
  /** A larger size must bring the time per record below this share of the best. */
  static final double GAIN = 0.9;
  /** Settled, a time per record above this multiple of the best starts a new climb. */
  static final double DRIFT = 1.5;
  /** Settled measurements (of {@value #SAMPLES} batches each) before the climb is tried again. */
  static final int REPROBE_AFTER = 50;

  private final int min;
  private final int max;
  private int size;
  private int samples;
  private double fastest = Double.POSITIVE_INFINITY;
  private int bestSize;
  private double bestPerRecord = Double.POSITIVE_INFINITY;
  private boolean settled;
  private int settledMeasurements;

  AdaptiveBatchSize(int min, int max) {
    if (min < 1 || max < min) {
      throw new IllegalArgumentException(
          "adaptive batch sizes need 1 <= min <= max, but were min " + min + ", max " + max);
    }
    this.min = min;
    this.max = max;
    this.size = min;
    this.bestSize = min;
  }

  /** The size the next batch should have. */
  int size() {
    return size;
  }

  /** Whether the climb has stopped at a size (for tests and logs). */
  boolean isSettled() {
    return settled;
  }

  /**
   * Records that a batch of {@code records} took {@code nanos} in the model; only batches of
   * exactly {@link #size()} records count.
   *
   * @return whether {@link #size()} changed
   */
  boolean observe(int records, long nanos) {
    if (records != size || nanos < 0) {
      return false;
    }
    fastest = Math.min(fastest, (double) nanos / records);
    if (++samples < SAMPLES) {
      return false;
    }
    double measured = fastest;
    samples = 0;
    fastest = Double.POSITIVE_INFINITY;
    int before = size;
    if (!settled) {
      if (measured < bestPerRecord * GAIN) {
        bestSize = size;
        bestPerRecord = measured;
        if (size < max) {
          size = (int) Math.min(max, 2L * size);
        } else {
          settled = true;
        }
      } else {
        size = bestSize;
        settled = true;
      }
      settledMeasurements = 0;
    } else if (measured > bestPerRecord * DRIFT) {
      size = Math.max(min, size / 2);
      bestSize = size;
      bestPerRecord = Double.POSITIVE_INFINITY;
      settled = false;
    } else if (++settledMeasurements >= REPROBE_AFTER && size < max) {
      bestSize = size;
      bestPerRecord = measured;
      size = (int) Math.min(max, 2L * size);
      settled = false;
    } else {
      bestPerRecord = Math.min(bestPerRecord, measured);
    }
    return size != before;
  }
}
