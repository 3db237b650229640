package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * An equal-width training histogram: {@code edges.size() == counts.size() + 1}; the last bucket
 * includes its upper edge.
 *
 * <pre>{@code
 * Histogram h = spec.feature("amount").stats().histogram();
 * }</pre>
 */
public final class Histogram implements Serializable {
  private static final long serialVersionUID = 1L;

  List<Double> edges = new ArrayList<>();
  List<Long> counts = new ArrayList<>();

  public List<Double> edges() {
    return Collections.unmodifiableList(edges);
  }

  public List<Long> counts() {
    return Collections.unmodifiableList(counts);
  }

  /**
   * The bucket of {@code x}, binned exactly as the training counts were (values outside the
   * training range go to the first or last bucket), so serving counts compare bucket by bucket.
   */
  public int bucketOf(double x) {
    return equalWidthBucket(edges.get(0), edges.get(edges.size() - 1), counts.size(), x);
  }

  static int equalWidthBucket(double min, double max, int bins, double x) {
    double range = max - min;
    if (!(range > 0)) {
      return 0;
    }
    int bucket = (int) Math.floor((x - min) / range * bins);
    return Math.max(0, Math.min(bins - 1, bucket));
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Histogram
        && Objects.equals(edges, ((Histogram) o).edges)
        && Objects.equals(counts, ((Histogram) o).counts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(edges, counts);
  }
}
