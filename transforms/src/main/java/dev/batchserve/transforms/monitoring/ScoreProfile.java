package dev.batchserve.transforms.monitoring;

import java.io.Serializable;
import java.util.Objects;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/** The predictions counted as the report shows them: counts, sum, min, max, histogram, fallbacks by reason. */
final class ScoreProfile implements Serializable {
  private static final long serialVersionUID = 1L;
  long count;
  long fallbacks;
  long outOfRange;
  double sum;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;
  final long[] buckets = new long[PredictionDistribution.BUCKETS];
  final TreeMap<String, Long> fallbackReasons = new TreeMap<>();

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof ScoreProfile)) {
      return false;
    }
    ScoreProfile p = (ScoreProfile) o;
    return count == p.count && fallbacks == p.fallbacks && outOfRange == p.outOfRange
        && Double.compare(sum, p.sum) == 0 && Double.compare(min, p.min) == 0 && Double.compare(max, p.max) == 0
        && java.util.Arrays.equals(buckets, p.buckets) && fallbackReasons.equals(p.fallbackReasons);
  }

  @Override
  public int hashCode() {
    return Objects.hash(count, fallbacks, sum, fallbackReasons);
  }
}
