package dev.batchserve.transforms.monitoring;

import java.io.Serializable;
import java.util.Objects;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/** The run's dead letters counted as the report shows them: in all, unreadable, by reason and by field. */
final class DeadLetterTally implements Serializable {
  private static final long serialVersionUID = 1L;
  long total;
  long unreadable;
  final TreeMap<String, Long> byReason = new TreeMap<>();
  /** field -> reason -> count. */
  final TreeMap<String, TreeMap<String, Long>> byField = new TreeMap<>();

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof DeadLetterTally)) {
      return false;
    }
    DeadLetterTally t = (DeadLetterTally) o;
    return total == t.total && unreadable == t.unreadable && byReason.equals(t.byReason) && byField.equals(t.byField);
  }

  @Override
  public int hashCode() {
    return Objects.hash(total, unreadable, byReason, byField);
  }
}
