package dev.batchserve.transforms.monitoring;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

/**
 * Distances between a baseline distribution (training, or the previous run) and this run's, both
 * given as counts over the same buckets.
 *
 * <ul>
 *   <li>{@link #psi}: population stability index, {@code sum (a - e) * ln(a / e)} over bucket
 *       shares. An empty bucket would make it infinite, so shares below {@code epsilon} are raised
 *       to {@code epsilon} (default {@value #DEFAULT_EPSILON}) without renormalising: the usual
 *       convention, and it keeps a value that appeared from nowhere large but finite. Rule of
 *       thumb: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major shift.
 *   <li>{@link #jensenShannon}: Jensen-Shannon divergence with base-2 logarithms, so it lies in
 *       [0, 1]; needs no epsilon ({@code 0 log 0 = 0}).
 *   <li>{@link #lInfinity}: the largest absolute difference of bucket shares, in [0, 1]; used for
 *       categorical features.
 * </ul>
 *
 * <pre>{@code
 * double psi = Drift.psi(new long[] {50, 50}, new long[] {90, 10}); // 0.8789
 * }</pre>
 */
public final class Drift {
  /** Floor of a bucket share in {@link #psi(long[], long[])}. */
  public static final double DEFAULT_EPSILON = 1e-4;

  private Drift() {}

  /** PSI of {@code actual} against {@code expected} with {@link #DEFAULT_EPSILON}. */
  public static double psi(long[] expected, long[] actual) {
    return psi(expected, actual, DEFAULT_EPSILON);
  }

  /** PSI with shares floored at {@code epsilon} (in (0, 1)). */
  public static double psi(long[] expected, long[] actual, double epsilon) {
    checkArgument(epsilon > 0 && epsilon < 1, "epsilon must be in (0, 1), but was %s", epsilon);
    double[] e = shares(expected, actual);
    double[] a = shares(actual, expected);
    double sum = 0;
    for (int i = 0; i < e.length; i++) {
      double ei = Math.max(e[i], epsilon);
      double ai = Math.max(a[i], epsilon);
      sum += (ai - ei) * Math.log(ai / ei);
    }
    return sum;
  }

  /** Jensen-Shannon divergence (base 2, in [0, 1]). */
  public static double jensenShannon(long[] expected, long[] actual) {
    double[] p = shares(expected, actual);
    double[] q = shares(actual, expected);
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      double m = (p[i] + q[i]) / 2;
      if (p[i] > 0) {
        sum += 0.5 * p[i] * log2(p[i] / m);
      }
      if (q[i] > 0) {
        sum += 0.5 * q[i] * log2(q[i] / m);
      }
    }
    return Math.max(0, sum);
  }

  /** Largest absolute difference of bucket shares (in [0, 1]). */
  public static double lInfinity(long[] expected, long[] actual) {
    double[] p = shares(expected, actual);
    double[] q = shares(actual, expected);
    double max = 0;
    for (int i = 0; i < p.length; i++) {
      max = Math.max(max, Math.abs(p[i] - q[i]));
    }
    return max;
  }

  private static double[] shares(long[] counts, long[] other) {
    checkArgument(counts.length == other.length && counts.length > 0,
        "both distributions need the same, non-zero number of buckets, but had %s and %s",
        counts.length, other.length);
    long total = 0;
    for (long c : counts) {
      checkArgument(c >= 0, "bucket counts must be >= 0, but one was %s", c);
      total += c;
    }
    checkArgument(total > 0, "a distribution must have at least one observation");
    double[] s = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      s[i] = (double) counts[i] / total;
    }
    return s;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
