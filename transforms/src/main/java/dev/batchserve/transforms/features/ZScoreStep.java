package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code zscore}: emits {@code (x - mean) / std} with the training mean and population std (0 when std is 0). */
final class ZScoreStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Double mean;
  @Nullable Double std;

  @Override
  public StepKind kind() {
    return StepKind.ZSCORE;
  }

  @Override
  public @Nullable Double mean() {
    return mean;
  }

  @Override
  public @Nullable Double std() {
    return std;
  }

  @Override
  FitInput fitInput() {
    return FitInput.MOMENTS;
  }

  @Override
  void fitMoments(double mean, double std, double min, double max) {
    this.mean = mean;
    this.std = std;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireNumeric(k, f);
    if (fitted && (mean == null || std == null)) {
      throw new IllegalArgumentException(k + "is not fitted (mean/std missing)");
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    names.add(nameOr(base + "_z"));
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    out[pos] = (float) (std > 0 ? (v - mean) / std : 0.0);
    return pos + 1;
  }

  @Override
  List<?> parameters() {
    return values(mean, std);
  }
}
