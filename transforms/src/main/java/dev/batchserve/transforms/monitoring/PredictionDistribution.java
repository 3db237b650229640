package dev.batchserve.transforms.monitoring;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The distribution of one run's primary scores ({@code Prediction.getScore()}) over model
 * predictions; fallbacks are counted apart by reason so that a constant fallback does not move it.
 *
 * <p>The histogram has {@value #BUCKETS} equal buckets over [0, 1] (scores outside go to the end
 * buckets and are counted in {@link #getOutOfRange()}); quantiles come from Beam's
 * {@code ApproximateQuantiles} (101 values: p0, p1, ..., p100).
 *
 * <pre>{@code
 * double median = quality.getPredictions().quantile(50);
 * }</pre>
 */
public final class PredictionDistribution implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final int BUCKETS = 20;

  long count;
  long fallbacks;
  long outOfRange;
  Map<String, Long> fallbacksByReason = new TreeMap<>();
  @Nullable Double mean;
  @Nullable Double min;
  @Nullable Double max;
  List<Double> edges = new ArrayList<>();
  List<Long> counts = new ArrayList<>();
  List<Double> quantiles = new ArrayList<>();

  PredictionDistribution() {
    for (int i = 0; i <= BUCKETS; i++) {
      edges.add((double) i / BUCKETS);
    }
  }

  /** The histogram bucket of a score. */
  static int bucketOf(double score) {
    int b = (int) Math.floor(score * BUCKETS);
    return Math.max(0, Math.min(BUCKETS - 1, b));
  }

  /** Model predictions with a score. */
  public long getCount() {
    return count;
  }

  public long getFallbacks() {
    return fallbacks;
  }

  public long getOutOfRange() {
    return outOfRange;
  }

  public Map<String, Long> getFallbacksByReason() {
    return Collections.unmodifiableMap(fallbacksByReason);
  }

  public @Nullable Double getMean() {
    return mean;
  }

  public @Nullable Double getMin() {
    return min;
  }

  public @Nullable Double getMax() {
    return max;
  }

  public List<Double> getEdges() {
    return Collections.unmodifiableList(edges);
  }

  public List<Long> getCounts() {
    return Collections.unmodifiableList(counts);
  }

  /** p0..p100 (101 values), or empty when there was no score. */
  public List<Double> getQuantiles() {
    return Collections.unmodifiableList(quantiles);
  }

  /** The {@code percent}-th percentile, or null when there was no score. */
  public @Nullable Double quantile(int percent) {
    if (quantiles.isEmpty()) {
      return null;
    }
    int i = (int) Math.round(percent / 100.0 * (quantiles.size() - 1));
    return quantiles.get(Math.max(0, Math.min(quantiles.size() - 1, i)));
  }

  long[] countArray() {
    long[] c = new long[counts.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = counts.get(i);
    }
    return c;
  }
}
