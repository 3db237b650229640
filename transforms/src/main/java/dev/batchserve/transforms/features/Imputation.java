package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How a feature's missing values are filled. {@code value} is fitted for mean/median/mode and
 * given for constant; {@code indicator} adds a {@code <name>_missing} column (1 when imputed).
 *
 * <pre>{@code
 * Object fill = spec.feature("age").imputation().value();
 * }</pre>
 */
public final class Imputation implements Serializable {
  private static final long serialVersionUID = 1L;

  ImputeStrategy strategy;
  @Nullable Object value;
  boolean indicator;

  Imputation() {}

  Imputation(ImputeStrategy strategy, @Nullable Object value) {
    this.strategy = strategy;
    this.value = value;
  }

  public ImputeStrategy strategy() {
    return strategy;
  }

  public @Nullable Object value() {
    return value;
  }

  public boolean indicator() {
    return indicator;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Imputation)) {
      return false;
    }
    Imputation other = (Imputation) o;
    return strategy == other.strategy && indicator == other.indicator && StoredValue.same(value, other.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(strategy, indicator, StoredValue.hash(value));
  }
}
