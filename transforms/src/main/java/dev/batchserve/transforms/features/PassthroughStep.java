package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code passthrough}: emits the current value, or every element of a list feature. */
final class PassthroughStep extends Step {
  private static final long serialVersionUID = 1L;

  @Override
  public StepKind kind() {
    return StepKind.PASSTHROUGH;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    if (!f.type.isNumeric() && f.type != FeatureType.LIST) {
      throw new IllegalArgumentException(k + "needs a numeric or list feature, not " + f.type.json());
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    if (f.type == FeatureType.LIST) {
      for (int i = 0; i < f.length; i++) {
        names.add(nameOr(base) + "_" + i);
      }
    } else {
      names.add(nameOr(base));
    }
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    if (f.type == FeatureType.LIST) {
      for (double x : list) {
        out[pos++] = (float) x;
      }
    } else {
      out[pos++] = (float) v;
    }
    return pos;
  }

  @Override
  List<?> parameters() {
    return List.of();
  }
}
