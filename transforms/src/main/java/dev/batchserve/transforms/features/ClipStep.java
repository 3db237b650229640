package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code clip}: clips the value into {@code [lower, upper]} (either may be open) for the steps after it. */
final class ClipStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Double lower;
  @Nullable Double upper;

  ClipStep() {}

  ClipStep(double lower, double upper) {
    this.lower = lower;
    this.upper = upper;
  }

  @Override
  public StepKind kind() {
    return StepKind.CLIP;
  }

  @Override
  boolean rewritesValue() {
    return true;
  }

  @Override
  double rewrite(double v) {
    return Math.min(
        Math.max(v, lower == null ? Double.NEGATIVE_INFINITY : lower),
        upper == null ? Double.POSITIVE_INFINITY : upper);
  }

  @Override
  String rewriteName(String base) {
    return base + "_clip";
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireNumeric(k, f);
    if (lower != null && upper != null && lower > upper) {
      throw new IllegalArgumentException(k + "lower " + lower + " is above upper " + upper);
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    return pos;
  }

  @Override
  List<?> parameters() {
    return values(lower, upper);
  }
}
