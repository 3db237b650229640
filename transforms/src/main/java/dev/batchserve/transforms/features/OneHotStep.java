package dev.batchserve.transforms.features;

import java.util.ArrayList;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * {@code onehot}: one-hot over the feature's vocabulary plus {@code oovBuckets} hashed
 * out-of-vocabulary buckets (unknown values without OOV buckets are all zeros under keep).
 */
final class OneHotStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable Integer oovBuckets;

  OneHotStep() {}

  OneHotStep(int oovBuckets) {
    this.oovBuckets = oovBuckets;
  }

  @Override
  public StepKind kind() {
    return StepKind.ONEHOT;
  }

  @Override
  boolean usesVocabulary() {
    return true;
  }

  private int oov() {
    return oovBuckets == null ? 0 : oovBuckets;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    requireCategorical(k, f);
    if (oovBuckets != null && oovBuckets < 0) {
      throw new IllegalArgumentException(k + "oovBuckets must be >= 0, but was " + oovBuckets);
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    if (f.vocabulary == null) {
      return false;
    }
    String prefix = nameOr(f.name);
    for (String value : f.vocabulary) {
      names.add(prefix + "=" + value);
    }
    for (int i = 0; i < oov(); i++) {
      names.add(prefix + "=__oov" + i);
    }
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    Integer idx = f.vocabularyIndex().get(cat);
    int oov = oov();
    if (idx != null) {
      out[pos + idx] = 1f;
    } else if (oov > 0) {
      out[pos + f.vocabulary.size() + StableHash.bucket(cat, oov)] = 1f;
    }
    return pos + f.vocabulary.size() + oov;
  }

  @Override
  List<?> parameters() {
    return values(oovBuckets);
  }
}
