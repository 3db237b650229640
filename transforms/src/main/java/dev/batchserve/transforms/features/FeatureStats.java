package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Training statistics of one feature, kept for imputation, auditing and drift detection: row
 * count, null and invalid counts, null rate, and for numeric features mean, population std, min,
 * max, median and an equal-width histogram; the mode and vocabulary counts where fitted. Written as
 * the feature's {@code "stats"} in the spec JSON.
 *
 * <pre>{@code
 * FeatureStats s = spec.feature("amount").stats();
 * List<Long> trainingCounts = s.histogram().counts();
 * }</pre>
 */
public final class FeatureStats implements Serializable {
  private static final long serialVersionUID = 1L;

  long count;
  long nullCount;
  long invalidCount;
  double nullRate;
  @Nullable Double mean;
  @Nullable Double std;
  @Nullable Double min;
  @Nullable Double max;
  @Nullable Double median;
  @Nullable Object mode;
  @Nullable List<Long> vocabularyCounts;
  @Nullable Histogram histogram;
  /** Training counts per value of each date part the model sees (timestamps with date parts). */
  @Nullable Map<DatePart, List<Long>> datePartCounts;

  public long count() {
    return count;
  }

  public long nullCount() {
    return nullCount;
  }

  public long invalidCount() {
    return invalidCount;
  }

  public double nullRate() {
    return nullRate;
  }

  public @Nullable Double mean() {
    return mean;
  }

  public @Nullable Double std() {
    return std;
  }

  public @Nullable Double min() {
    return min;
  }

  public @Nullable Double max() {
    return max;
  }

  public @Nullable Double median() {
    return median;
  }

  public @Nullable Object mode() {
    return mode;
  }

  /** Training counts of {@link Feature#vocabulary()}, same order. */
  public @Nullable List<Long> vocabularyCounts() {
    return vocabularyCounts;
  }

  public @Nullable Histogram histogram() {
    return histogram;
  }

  /**
   * Training counts of {@code part}'s values ({@link DatePart#cycle()} buckets from {@link
   * DatePart#first()}), or null when the feature has no such part or the spec was fitted before
   * date parts were counted.
   */
  public @Nullable List<Long> datePartCounts(DatePart part) {
    return datePartCounts == null ? null : datePartCounts.get(part);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof FeatureStats)) {
      return false;
    }
    FeatureStats other = (FeatureStats) o;
    return count == other.count
        && nullCount == other.nullCount
        && invalidCount == other.invalidCount
        && Double.compare(nullRate, other.nullRate) == 0
        && Objects.equals(mean, other.mean)
        && Objects.equals(std, other.std)
        && Objects.equals(min, other.min)
        && Objects.equals(max, other.max)
        && Objects.equals(median, other.median)
        && StoredValue.same(mode, other.mode)
        && Objects.equals(vocabularyCounts, other.vocabularyCounts)
        && Objects.equals(histogram, other.histogram)
        && Objects.equals(datePartCounts, other.datePartCounts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(count, nullCount, invalidCount, nullRate, mean, std, min, max, median,
        StoredValue.hash(mode), vocabularyCounts, histogram, datePartCounts);
  }
}
