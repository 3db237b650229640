package dev.batchserve.transforms.monitoring;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The limits a run's {@link RunQuality} must stay within for {@link CircuitBreaker} to let it
 * publish. Each limit is inclusive (a value equal to it passes); {@code Double.POSITIVE_INFINITY}
 * switches a check off. Drift limits (PSI, JS, L-infinity, prediction mean shift) are only judged on
 * at least {@link #minDriftSample()} values (default {@value #DEFAULT_MIN_DRIFT_SAMPLE}): on fewer,
 * sampling noise alone moves them past usual limits (a small test run would trip on its own).
 * Volume limits: at least {@link #minRecords()} records (default 1: an empty run never publishes),
 * and a drop of at most {@link #maxRecordDrop()} (default 0.5) against the previous published run's
 * record count; {@code 0} and {@code 1} respectively switch them off.
 *
 * <p>Options and job files spell every limit the same way ({@link #withLimit}): a number, or
 * {@value #OFF} to switch the check off ({@code Infinity} and YAML's {@code .inf} are read as
 * {@value #OFF} for the {@code max} limits). {@code minDriftSample} is no check and has no off.
 *
 * <pre>{@code
 * QualityThresholds t = QualityThresholds.defaults().withMaxPsi(0.5).withMaxPredictionMeanShift(0.05);
 * List<String> tripped = t.violations(quality); // empty: the run may publish
 * QualityThresholds noPsi = t.withLimit("maxPsi", "off"); // as --maxPsi=off or "maxPsi: off" say
 * }</pre>
 */
public final class QualityThresholds implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final double DEFAULT_MAX_DEAD_LETTER_RATE = 0.05;
  public static final double DEFAULT_MAX_PSI = 0.25;
  public static final double DEFAULT_MAX_JS_DIVERGENCE = 0.1;
  public static final double DEFAULT_MAX_CATEGORY_SHIFT = 0.2;
  public static final double DEFAULT_MAX_PREDICTION_MEAN_SHIFT = 0.1;
  public static final long DEFAULT_MIN_DRIFT_SAMPLE = 100;
  /** An empty run never publishes: it would replace the served predictions with none. */
  public static final long DEFAULT_MIN_RECORDS = 1;
  /** A run with fewer than half the previous run's records is suspect (a truncated input). */
  public static final double DEFAULT_MAX_RECORD_DROP = 0.5;
  /** How options and job files switch a limit's check off: {@code --maxPsi=off}, {@code maxPsi: off}. */
  public static final String OFF = "off";
  /** The limits' names, as options and job files spell them (see {@link #withLimit}). */
  public static final List<String> LIMITS = List.of("maxDeadLetterRate", "maxPsi", "maxJsDivergence",
      "maxCategoryShift", "maxPredictionMeanShift", "minDriftSample", "minRecords", "maxRecordDrop");

  private double maxDeadLetterRate = DEFAULT_MAX_DEAD_LETTER_RATE;
  private double maxPsi = DEFAULT_MAX_PSI;
  private double maxJsDivergence = DEFAULT_MAX_JS_DIVERGENCE;
  private double maxCategoryShift = DEFAULT_MAX_CATEGORY_SHIFT;
  private double maxPredictionMeanShift = DEFAULT_MAX_PREDICTION_MEAN_SHIFT;
  private long minDriftSample = DEFAULT_MIN_DRIFT_SAMPLE;
  private long minRecords = DEFAULT_MIN_RECORDS;
  private double maxRecordDrop = DEFAULT_MAX_RECORD_DROP;

  private QualityThresholds() {}

  private QualityThresholds copy() {
    QualityThresholds c = new QualityThresholds();
    c.maxDeadLetterRate = maxDeadLetterRate;
    c.maxPsi = maxPsi;
    c.maxJsDivergence = maxJsDivergence;
    c.maxCategoryShift = maxCategoryShift;
    c.maxPredictionMeanShift = maxPredictionMeanShift;
    c.minDriftSample = minDriftSample;
    c.minRecords = minRecords;
    c.maxRecordDrop = maxRecordDrop;
    return c;
  }

  /** Dead-letter rate 0.05, PSI 0.25, JS 0.1, category L-infinity 0.2, prediction mean shift 0.1. */
  public static QualityThresholds defaults() {
    return new QualityThresholds();
  }

  /** Largest share of dead letters among all records read (0 to 1). */
  public QualityThresholds withMaxDeadLetterRate(double v) {
    checkArgument(v >= 0 && v <= 1 || v == Double.POSITIVE_INFINITY,
        "maxDeadLetterRate must be in [0, 1] or off, but was %s", v);
    QualityThresholds c = copy();
    c.maxDeadLetterRate = v;
    return c;
  }

  /** Largest PSI of any numeric feature against training. */
  public QualityThresholds withMaxPsi(double v) {
    checkArgument(v >= 0 && !Double.isNaN(v), "maxPsi must be >= 0, but was %s", v);
    QualityThresholds c = copy();
    c.maxPsi = v;
    return c;
  }

  /** Largest Jensen-Shannon divergence (base 2) of any numeric feature against training. */
  public QualityThresholds withMaxJsDivergence(double v) {
    checkArgument(v >= 0 && !Double.isNaN(v), "maxJsDivergence must be >= 0, but was %s", v);
    QualityThresholds c = copy();
    c.maxJsDivergence = v;
    return c;
  }

  /** Largest L-infinity distance of any categorical feature's shares against training. */
  public QualityThresholds withMaxCategoryShift(double v) {
    checkArgument(v >= 0 && !Double.isNaN(v), "maxCategoryShift must be >= 0, but was %s", v);
    QualityThresholds c = copy();
    c.maxCategoryShift = v;
    return c;
  }

  /** Largest absolute change of the mean score against the previous run. */
  public QualityThresholds withMaxPredictionMeanShift(double v) {
    checkArgument(v >= 0 && !Double.isNaN(v), "maxPredictionMeanShift must be >= 0, but was %s", v);
    QualityThresholds c = copy();
    c.maxPredictionMeanShift = v;
    return c;
  }

  /** Fewest values (of a feature, or scored predictions) on which drift limits are judged. */
  public QualityThresholds withMinDriftSample(long n) {
    checkArgument(n >= 0, "minDriftSample must be >= 0, but was %s", n);
    QualityThresholds c = copy();
    c.minDriftSample = n;
    return c;
  }

  /**
   * Fewest records (that reached scoring) a run must have to publish; default
   * {@value #DEFAULT_MIN_RECORDS}, so an empty input (a header-only CSV) fails instead of replacing
   * the served predictions with none. 0 turns the check off.
   */
  public QualityThresholds withMinRecords(long n) {
    checkArgument(n >= 0, "minRecords must be >= 0 (0 turns the check off), but was %s", n);
    QualityThresholds c = copy();
    c.minRecords = n;
    return c;
  }

  /**
   * Largest share (0 to 1) by which a run's record count may fall below the previous published run's
   * ({@link RunQuality#getPreviousRecords()}); default {@value #DEFAULT_MAX_RECORD_DROP}: 2,000 records
   * yesterday and 900 today fails. Not judged without a previous run. 1 turns the check off.
   */
  public QualityThresholds withMaxRecordDrop(double v) {
    checkArgument(v >= 0 && v <= 1 || v == Double.POSITIVE_INFINITY,
        "maxRecordDrop must be in [0, 1] or off (1 also turns the check off), but was %s", v);
    QualityThresholds c = copy();
    c.maxRecordDrop = v;
    return c;
  }

  /**
   * This with limit {@code name} (one of {@link #LIMITS}) set from its text as an option or a job
   * file gives it: a number, or {@value #OFF}. Each {@code with...} method then checks the value.
   *
   * <pre>{@code
   * QualityThresholds t = QualityThresholds.defaults().withLimit("maxPsi", "off").withLimit("minRecords", "10");
   * }</pre>
   *
   * @throws IllegalArgumentException naming the limit and the value, for an unknown limit, text that
   *     is neither a number nor {@value #OFF}, or a value out of the limit's range
   */
  public QualityThresholds withLimit(String name, String text) {
    Number v = parseLimit(name, text);
    switch (name) {
      case "maxDeadLetterRate":
        return withMaxDeadLetterRate(v.doubleValue());
      case "maxPsi":
        return withMaxPsi(v.doubleValue());
      case "maxJsDivergence":
        return withMaxJsDivergence(v.doubleValue());
      case "maxCategoryShift":
        return withMaxCategoryShift(v.doubleValue());
      case "maxPredictionMeanShift":
        return withMaxPredictionMeanShift(v.doubleValue());
      case "minDriftSample":
        return withMinDriftSample(v.longValue());
      case "minRecords":
        return withMinRecords(v.longValue());
      default:
        return withMaxRecordDrop(v.doubleValue());
    }
  }

  /**
   * The number limit {@code name} takes for {@code text}: {@value #OFF} is {@code Infinity} for a
   * {@code max} limit (also spelled {@code Infinity}, {@code inf} or YAML's {@code .inf}) and 0 for
   * {@code minRecords}; a {@link Long} for {@code minRecords} and {@code minDriftSample}, else a
   * {@link Double}. The range is checked by {@link #withLimit}, not here.
   */
  public static Number parseLimit(String name, String text) {
    checkArgument(LIMITS.contains(name), "'%s' is not a quality limit; the limits are %s", name, LIMITS);
    String t = text == null ? "" : text.trim();
    boolean count = name.equals("minRecords") || name.equals("minDriftSample");
    if (t.equalsIgnoreCase(OFF)) {
      checkArgument(!name.equals("minDriftSample"), "minDriftSample cannot be off: it is no check but the fewest"
          + " values the drift limits are judged on (0 judges every sample); turn a drift limit off instead");
      return name.equals("minRecords") ? (Number) 0L : (Number) Double.POSITIVE_INFINITY;
    }
    if (!count && t.replaceFirst("^\\+", "").matches("(?i)\\.?inf(inity)?")) {
      return Double.POSITIVE_INFINITY;
    }
    try {
      if (count) {
        return Long.parseLong(t);
      }
      // Double.parseDouble would also take "1d", "0x1p3" and "NaN".
      checkArgument(t.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?"), "not a decimal");
      return Double.parseDouble(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + " must be " + (count ? "a whole number" : "a number") + " or "
          + OFF + ", but was '" + text + "'", e);
    }
  }

  public long minRecords() {
    return minRecords;
  }

  public double maxRecordDrop() {
    return maxRecordDrop;
  }

  public long minDriftSample() {
    return minDriftSample;
  }

  public double maxDeadLetterRate() {
    return maxDeadLetterRate;
  }

  public double maxPsi() {
    return maxPsi;
  }

  public double maxJsDivergence() {
    return maxJsDivergence;
  }

  public double maxCategoryShift() {
    return maxCategoryShift;
  }

  public double maxPredictionMeanShift() {
    return maxPredictionMeanShift;
  }

  /** One line per exceeded limit, naming the limit, the feature and both values; empty when all pass. */
  public List<String> violations(RunQuality q) {
    List<String> out = new ArrayList<>();
    long records = q.getInputRecords();
    if (records < minRecords) {
      out.add(String.format(Locale.ROOT,
          "minRecords: %d records reached scoring (%d unreadable), fewer than the minimum of %d: an empty or"
              + " truncated input? If so few records are expected, lower --minRecords (0 turns the check off)",
          records, q.getUnreadable(), minRecords));
    }
    Long previous = q.getPreviousRecords();
    if (previous != null && previous > 0 && maxRecordDrop < 1) {
      double drop = (double) (previous - records) / previous;
      if (drop > maxRecordDrop) {
        out.add(String.format(Locale.ROOT,
            "maxRecordDrop: %d records against %d in the previous run %s, a drop of %.4f > %s: a truncated"
                + " input? If the smaller input is expected, raise --maxRecordDrop (1 turns the check off)",
            records, previous, q.getPreviousRunId() == null ? "(unnamed)" : q.getPreviousRunId(), drop,
            maxRecordDrop));
      }
    }
    if (q.getDeadLetterRate() > maxDeadLetterRate) {
      out.add(String.format(Locale.ROOT, "maxDeadLetterRate: dead-letter rate %.4f (%d of %d) > %s",
          q.getDeadLetterRate(), q.getDeadLetters(), q.getInputRecords() + q.getUnreadable(), maxDeadLetterRate));
    }
    for (FeatureQuality f : q.getFeatures()) {
      long values = 0;
      for (long c : f.getCounts()) {
        values += c;
      }
      if (values < minDriftSample) {
        continue;
      }
      if (f.getPsi() != null && f.getPsi() > maxPsi) {
        out.add(String.format(Locale.ROOT, "maxPsi: feature %s PSI %.4f > %s", f.getName(), f.getPsi(), maxPsi));
      }
      if (f.getJsDivergence() != null && f.getJsDivergence() > maxJsDivergence) {
        out.add(String.format(Locale.ROOT, "maxJsDivergence: feature %s JS divergence %.4f > %s",
            f.getName(), f.getJsDivergence(), maxJsDivergence));
      }
      if (f.getLInfinity() != null && f.getLInfinity() > maxCategoryShift) {
        out.add(String.format(Locale.ROOT, "maxCategoryShift: feature %s L-infinity %.4f > %s",
            f.getName(), f.getLInfinity(), maxCategoryShift));
      }
    }
    Double shift = q.getPredictionMeanShift();
    if (shift != null && Math.abs(shift) > maxPredictionMeanShift
        && q.getPredictions().getCount() >= minDriftSample) {
      out.add(String.format(Locale.ROOT,
          "maxPredictionMeanShift: mean score moved by %+.4f against run %s (%.4f -> %.4f) > %s",
          shift, q.getPreviousRunId(), q.getPreviousPredictions().getMean(), q.getPredictions().getMean(),
          maxPredictionMeanShift));
    }
    return out;
  }

  @Override
  public String toString() {
    return "QualityThresholds{maxDeadLetterRate=" + maxDeadLetterRate + ", maxPsi=" + maxPsi
        + ", maxJsDivergence=" + maxJsDivergence + ", maxCategoryShift=" + maxCategoryShift
        + ", maxPredictionMeanShift=" + maxPredictionMeanShift + ", minDriftSample=" + minDriftSample
        + ", minRecords=" + minRecords + ", maxRecordDrop=" + maxRecordDrop + "}";
  }
}
