package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code minmax}: emits {@code (x - min) / (max - min)} with the training min and max (0 when max == min). */
final class MinMaxStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Double min;
  @Nullable Double max;

  @Override
  public StepKind kind() {
    return StepKind.MINMAX;
  }

  @Override
  public @Nullable Double min() {
    return min;
  }

  @Override
  public @Nullable Double max() {
    return max;
  }

  @Override
  FitInput fitInput() {
    return FitInput.MOMENTS;
  }

  @Override
  void fitMoments(double mean, double std, double min, double max) {
    this.min = min;
    this.max = max;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireNumeric(k, f);
    if (fitted && (min == null || max == null)) {
      throw new IllegalArgumentException(k + "is not fitted (min/max missing)");
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    names.add(nameOr(base + "_minmax"));
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    double range = max - min;
    out[pos] = (float) (range > 0 ? (v - min) / range : 0.0);
    return pos + 1;
  }

  @Override
  List<?> parameters() {
    return values(min, max);
  }
}
