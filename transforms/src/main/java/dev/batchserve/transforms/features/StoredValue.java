package dev.batchserve.transforms.features;

import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Equality of the untyped values a spec stores (an imputation value, a fitted mode): numbers are
 * equal when they are written the same in the spec JSON ({@code 5} as Integer or Long, but not
 * {@code 5.0}), since a spec read back from its file holds whichever boxed type Jackson chose.
 *
 * <pre>{@code
 * boolean same = StoredValue.same(5, 5L); // true
 * }</pre>
 */
final class StoredValue {
  private StoredValue() {}

  static boolean same(@Nullable Object a, @Nullable Object b) {
    if (a instanceof Number && b instanceof Number) {
      return a.toString().equals(b.toString());
    }
    return Objects.equals(a, b);
  }

  static int hash(@Nullable Object v) {
    return v instanceof Number ? v.toString().hashCode() : Objects.hashCode(v);
  }
}
