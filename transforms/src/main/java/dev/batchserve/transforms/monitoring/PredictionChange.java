package dev.batchserve.transforms.monitoring;

import java.io.Serializable;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How this run's scores moved against the previous run's, key by key: {@link #getChanged()} of the
 * {@link #getCompared()} keys scored by both moved by more than {@link #getEpsilon()}.
 *
 * <pre>{@code
 * double rate = quality.getChange().getChangeRate();
 * }</pre>
 */
public final class PredictionChange implements Serializable {
  private static final long serialVersionUID = 1L;

  String previousRunId = "";
  double epsilon;
  long compared;
  long changed;
  /** Keys scored now but not in the previous run. */
  long added;
  /** Keys scored in the previous run but not now. */
  long removed;

  PredictionChange() {}

  public String getPreviousRunId() {
    return previousRunId;
  }

  public double getEpsilon() {
    return epsilon;
  }

  public long getCompared() {
    return compared;
  }

  public long getChanged() {
    return changed;
  }

  public long getAdded() {
    return added;
  }

  public long getRemoved() {
    return removed;
  }

  /** Share of compared keys that changed; null when no key was compared. */
  public @Nullable Double getChangeRate() {
    return compared == 0 ? null : (double) changed / compared;
  }
}
