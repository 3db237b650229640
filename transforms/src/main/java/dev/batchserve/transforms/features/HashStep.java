package dev.batchserve.transforms.features;

import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code hash}: one-hot of the {@link StableHash} bucket of the category text, {@code buckets} columns. */
final class HashStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Integer buckets;

  HashStep() {}

  HashStep(int buckets) {
    this.buckets = buckets;
  }

  @Override
  public StepKind kind() {
    return StepKind.HASH;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireCategorical(k, f);
    if (buckets == null || buckets <= 0) {
      throw new IllegalArgumentException(k + "buckets must be > 0, but was " + buckets);
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    for (int i = 0; i < buckets; i++) {
      names.add(nameOr(f.name + "_hash") + "_" + i);
    }
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    out[pos + StableHash.bucket(cat, buckets)] = 1f;
    return pos + buckets;
  }

  @Override
  List<?> parameters() {
    return values(buckets);
  }
}
