package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A hashed cross of categorical features: one-hot of {@code bucket(join(values, U+0001))}.
 *
 * <pre>{@code
 * Cross c = spec.crosses().get(0);
 * }</pre>
 */
public final class Cross implements Serializable {
  private static final long serialVersionUID = 1L;

  String name;
  List<String> features = new ArrayList<>();
  int buckets;

  Cross() {}

  public String name() {
    return name;
  }

  public List<String> features() {
    return Collections.unmodifiableList(features);
  }

  public int buckets() {
    return buckets;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Cross)) {
      return false;
    }
    Cross other = (Cross) o;
    return buckets == other.buckets && Objects.equals(name, other.name) && Objects.equals(features, other.features);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, features, buckets);
  }
}
