package dev.batchserve.transforms.monitoring;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Data quality and drift of one input feature in one run, against its training statistics.
 *
 * <p>Numeric features with a training histogram are binned over the training edges exactly as in
 * training ({@code Histogram.bucketOf}) and get {@link #getPsi()} and {@link #getJsDivergence()};
 * categorical features with training vocabulary counts are counted per vocabulary value plus one
 * {@value #OTHER} bucket (its training share: values outside the kept vocabulary) and get {@link
 * #getLInfinity()}. A timestamp the model sees as date parts is compared through them: one extra
 * entry per part, named {@code <feature>_<part>} (e.g. {@code ts_hour}), binned per value; a part
 * is only compared when the run's interval covers its whole cycle (a daily run compares hours, a
 * weekly run also weekdays), since a daily run sees one weekday. Other features (no training
 * baseline) get counts and null rate only; {@link #getDriftSkipped()} says why a feature with a
 * baseline has no drift figures.
 *
 * <pre>{@code
 * FeatureQuality amount = quality.feature("amount_mean_30d");
 * amount.getPsi(); // 0.02
 * }</pre>
 */
public final class FeatureQuality implements Serializable {
  private static final long serialVersionUID = 1L;
  /** The bucket of categories outside the training vocabulary. */
  public static final String OTHER = "__other__";

  /** How the feature was compared with training. */
  public enum Kind {
    NUMERIC, CATEGORICAL, UNCOMPARED
  }

  String name = "";
  Kind kind = Kind.UNCOMPARED;
  long count;
  long nulls;
  /** Values this check could not read as the feature's type (also a dead letter, in most specs). */
  long unreadable;
  double nullRate;
  double trainingNullRate;
  /** Dead letters naming this feature, by reason. */
  Map<String, Long> violations = new TreeMap<>();
  /** Numeric: the training histogram's edges. */
  List<Double> edges = new ArrayList<>();
  /** Categorical: the bucket labels (vocabulary, then {@link #OTHER}). */
  List<String> categories = new ArrayList<>();
  List<Long> trainingCounts = new ArrayList<>();
  List<Long> counts = new ArrayList<>();
  @Nullable Double psi;
  @Nullable Double jsDivergence;
  @Nullable Double lInfinity;
  /** Why this feature has no drift figures although it has a baseline; null when compared. */
  @Nullable String driftSkipped;

  FeatureQuality() {}

  public String getName() {
    return name;
  }

  public Kind getKind() {
    return kind;
  }

  /** Rows seen (every input row, whether or not it has the feature). */
  public long getCount() {
    return count;
  }

  public long getNulls() {
    return nulls;
  }

  public long getUnreadable() {
    return unreadable;
  }

  public double getNullRate() {
    return nullRate;
  }

  public double getTrainingNullRate() {
    return trainingNullRate;
  }

  public Map<String, Long> getViolations() {
    return Collections.unmodifiableMap(violations);
  }

  public List<Double> getEdges() {
    return Collections.unmodifiableList(edges);
  }

  public List<String> getCategories() {
    return Collections.unmodifiableList(categories);
  }

  public List<Long> getTrainingCounts() {
    return Collections.unmodifiableList(trainingCounts);
  }

  /** This run's counts over the same buckets as {@link #getTrainingCounts()}. */
  public List<Long> getCounts() {
    return Collections.unmodifiableList(counts);
  }

  /** Numeric only; null when not comparable (no baseline, or no value in this run). */
  public @Nullable Double getPsi() {
    return psi;
  }

  public @Nullable Double getJsDivergence() {
    return jsDivergence;
  }

  /** Categorical only. */
  public @Nullable Double getLInfinity() {
    return lInfinity;
  }

  /**
   * Why the feature was not compared with training although counts exist: {@code "drift": false}
   * in the spec, excluded by the job, a timestamp compared through its date parts, or a date part
   * whose cycle is longer than the run's interval; null when compared (or without a baseline).
   */
  public @Nullable String getDriftSkipped() {
    return driftSkipped;
  }

  @Override
  public String toString() {
    return "FeatureQuality{" + name + ", " + kind + ", count=" + count + ", nulls=" + nulls + ", psi=" + psi
        + ", js=" + jsDivergence + ", linf=" + lInfinity + (driftSkipped == null ? "" : ", skipped=" + driftSkipped) + "}";
  }
}
