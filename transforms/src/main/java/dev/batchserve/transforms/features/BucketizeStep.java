package dev.batchserve.transforms.features;

import java.util.ArrayList;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * {@code bucketize}: the bucket of the value between strictly increasing boundaries (given, or
 * fitted as {@code numBuckets} training quantiles); bucket {@code i} = number of boundaries {@code
 * <= x}. Emits a one-hot, or the bucket index as one column when {@code index} is set.
 */
final class BucketizeStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Integer numBuckets;
  @Nullable List<Double> boundaries;
  @Nullable Boolean index;

  @Override
  public StepKind kind() {
    return StepKind.BUCKETIZE;
  }

  @Override
  public @Nullable List<Double> boundaries() {
    return boundaries == null ? null : java.util.Collections.unmodifiableList(boundaries);
  }

  @Override
  FitInput fitInput() {
    return boundaries == null ? FitInput.QUANTILES : FitInput.NONE;
  }

  @Override
  void fitQuantiles(List<Double> summary) {
    boundaries = quantileBoundaries(summary, numBuckets);
  }

  /** Strictly increasing boundaries for {@code k} equal-frequency buckets from a quantile summary. */
  static List<Double> quantileBoundaries(List<Double> summary, int k) {
    List<Double> boundaries = new ArrayList<>();
    int last = summary.size() - 1;
    for (int i = 1; i < k; i++) {
      double b = summary.get((int) Math.round((double) i * last / k));
      if (boundaries.isEmpty() || b > boundaries.get(boundaries.size() - 1)) {
        boundaries.add(b);
      }
    }
    return boundaries;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireNumeric(k, f);
    if (boundaries == null && (numBuckets == null || numBuckets < 2)) {
      throw new IllegalArgumentException(k + "needs boundaries or numBuckets >= 2");
    }
    if (boundaries != null) {
      for (int i = 1; i < boundaries.size(); i++) {
        if (!(boundaries.get(i) > boundaries.get(i - 1))) {
          throw new IllegalArgumentException(k + "boundaries must be strictly increasing: " + boundaries);
        }
      }
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    if (boundaries == null) {
      return false;
    }
    if (Boolean.TRUE.equals(index)) {
      names.add(nameOr(base + "_bucket"));
    } else {
      for (int i = 0; i <= boundaries.size(); i++) {
        names.add(nameOr(base + "_bucket") + "_" + i);
      }
    }
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    int bucket = bucketOf(boundaries, v);
    if (Boolean.TRUE.equals(index)) {
      out[pos] = bucket;
      return pos + 1;
    }
    out[pos + bucket] = 1f;
    return pos + boundaries.size() + 1;
  }

  /** Number of boundaries {@code <= v}: values on a boundary go to the upper bucket. */
  static int bucketOf(List<Double> boundaries, double v) {
    int lo = 0;
    int hi = boundaries.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (boundaries.get(mid) <= v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  List<?> parameters() {
    return values(numBuckets, boundaries, index);
  }
}
