package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code log1p}: replaces the value by {@code log(1 + x)} for the steps after it; needs x > -1. */
final class Log1pStep extends Step {
  private static final long serialVersionUID = 1L;

  @Override
  public StepKind kind() {
    return StepKind.LOG1P;
  }

  @Override
  boolean rewritesValue() {
    return true;
  }

  @Override
  double rewrite(double v) {
    return v > -1 ? Math.log1p(v) : Double.NaN;
  }

  @Override
  String outOfDomain(String feature, double v) {
    return feature + ": log1p needs a value > -1, but was " + v;
  }

  @Override
  String rewriteName(String base) {
    return base + "_log1p";
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireNumeric(k, f);
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
    return List.of();
  }
}
