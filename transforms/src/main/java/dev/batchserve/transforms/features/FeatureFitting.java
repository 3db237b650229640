package dev.batchserve.transforms.features;

import dev.batchserve.transforms.features.FeatureValues.Cell;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How a template becomes a fitted spec, shared by {@link FeatureSpec#fit} (plain Java) and {@link
 * AnalyzeFeatures} (Beam): both extract the same observations from each row with {@link #observe},
 * aggregate them (here in maps, there with Combine), and turn the aggregates into a spec with
 * {@link #applyStats} and {@link #applyHistograms}. Keeping one extraction and one application is
 * what makes the two fits agree.
 *
 * <pre>{@code
 * FeatureSpec fitted = FeatureFitting.fit(template, rows);
 * }</pre>
 */
final class FeatureFitting {
  /** Quantile summary size: min, 999 inner quantiles, max (0.1% resolution). */
  static final int QUANTILES = 1001;

  static final int DEFAULT_HISTOGRAM_BINS = 10;

  private FeatureFitting() {}

  /** Receives the observations of one row. */
  interface Sink {
    void moments(String key, Moments single);

    void category(String feature, String value);

    void quantile(String key, double value);
  }

  /** The statistics key of the transform at {@code stepIndex} of {@code f}. */
  static String stepKey(Feature f, int stepIndex) {
    return f.name + "#" + stepIndex;
  }

  /** Emits what the template needs to know about one training row. */
  static void observe(FeatureSpec template, Map<String, ?> row, Sink sink) {
    for (Feature f : template.features) {
      Cell c = FeatureValues.read(f, row.containsKey(f.name), row.get(f.name), false);
      if (c.missing || FeatureValues.MISSING_REQUIRED.equals(c.reason)) {
        sink.moments(f.name, Moments.ofNull());
        continue;
      }
      if (c.reason != null) {
        sink.moments(f.name, Moments.ofInvalid());
        continue;
      }
      if (f.type.isNumeric()) {
        sink.moments(f.name, Moments.of(c.num));
        if (f.type != FeatureType.BOOLEAN) {
          sink.quantile(f.name, c.num);
        }
      } else {
        sink.moments(f.name, Moments.ofPresent());
      }
      if (needsCounts(f)) {
        sink.category(f.name, categoryText(f, c));
      }
      double v = c.num;
      for (int i = 0; i < f.transforms.size(); i++) {
        Step s = f.transforms.get(i);
        if (s.rewritesValue()) {
          v = s.rewrite(v);
          if (Double.isNaN(v)) {
            break; // rejected at serving too: no statistics from it
          }
        } else if (s.fitInput() == Step.FitInput.MOMENTS) {
          sink.moments(stepKey(f, i), Moments.of(v));
        } else if (s.fitInput() == Step.FitInput.QUANTILES) {
          sink.quantile(stepKey(f, i), v);
        }
      }
    }
  }

  private static boolean needsCounts(Feature f) {
    return f.needsVocabularyFit()
        || (f.impute != null && f.impute.strategy == ImputeStrategy.MODE);
  }

  private static String categoryText(Feature f, Cell c) {
    switch (f.type) {
      case DOUBLE:
        return Double.toString(c.num);
      case TIMESTAMP:
        return Long.toString((long) c.num);
      default:
        return c.cat;
    }
  }

  private static Object parseCategory(Feature f, String text) {
    switch (f.type) {
      case DOUBLE:
        return DecimalText.parseDouble(text);
      case LONG:
      case TIMESTAMP:
        return DecimalText.parseLong(text);
      case BOOLEAN:
        return Boolean.parseBoolean(text);
      default:
        return text;
    }
  }

  /** A fitted vocabulary: values by count descending (ties by value), their counts, and the mode. */
  static final class Vocabulary implements Serializable {
    private static final long serialVersionUID = 1L;
    final List<String> values;
    final List<Long> counts;
    final String mode;

    Vocabulary(List<String> values, List<Long> counts, String mode) {
      this.values = values;
      this.counts = counts;
      this.mode = mode;
    }
  }

  /** Orders, filters (min frequency) and truncates (top N) the counted values of {@code f}. */
  static Vocabulary selectVocabulary(Feature f, Map<String, Long> counts) {
    List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
    entries.sort(
        (a, b) -> {
          int byCount = Long.compare(b.getValue(), a.getValue());
          return byCount != 0 ? byCount : a.getKey().compareTo(b.getKey());
        });
    List<String> values = new ArrayList<>();
    List<Long> valueCounts = new ArrayList<>();
    long minFrequency = f.vocabularyMinFrequency == null ? 1 : f.vocabularyMinFrequency;
    int topN = f.vocabularyTopN == null ? Integer.MAX_VALUE : f.vocabularyTopN;
    for (Map.Entry<String, Long> e : entries) {
      if (values.size() >= topN) {
        break;
      }
      if (e.getValue() >= minFrequency) {
        values.add(e.getKey());
        valueCounts.add(e.getValue());
      }
    }
    return new Vocabulary(values, valueCounts, entries.get(0).getKey());
  }

  /**
   * The {@link #QUANTILES}-point summary of sorted values, picked exactly as Beam's {@link
   * org.apache.beam.sdk.transforms.ApproximateQuantiles} picks them when every value fits in its
   * buffer: min, then for each inner point the first element whose cumulative count exceeds {@code
   * k * n / (N - 1) + (n - 1) / (N - 1)}, then max. Same arithmetic, so small fits agree exactly.
   */
  static List<Double> exactQuantiles(List<Double> sorted) {
    int n = sorted.size();
    List<Double> q = new ArrayList<>(QUANTILES);
    q.add(sorted.get(0));
    double step = 1.0 * n / (QUANTILES - 1);
    double offset = (1.0 * n - 1) / (QUANTILES - 1);
    int i = 0;
    double current = 1;
    for (int k = 0; k < QUANTILES - 2; k++) {
      double target = k * step + offset;
      while (current <= target && i < n - 1) {
        i++;
        current += 1;
      }
      q.add(sorted.get(i));
    }
    q.add(sorted.get(n - 1));
    return q;
  }

  static double median(List<Double> summary) {
    return summary.get((summary.size() - 1) / 2);
  }

  /** Turns aggregated observations into a fitted spec (histograms still empty). */
  static FeatureSpec applyStats(
      FeatureSpec template,
      Map<String, Moments> moments,
      Map<String, Vocabulary> vocabularies,
      Map<String, List<Double>> quantiles) {
    FeatureSpec spec = template.copy();
    for (Feature f : spec.features) {
      String n = "cannot fit feature '" + f.name + "': ";
      Moments m = moments.getOrDefault(f.name, new Moments());
      FeatureStats s = new FeatureStats();
      s.count = m.rows;
      s.nullCount = m.nulls;
      s.invalidCount = m.invalid;
      s.nullRate = m.rows == 0 ? 0.0 : (double) m.nulls / m.rows;
      if (f.type.isNumeric() && m.n > 0) {
        s.mean = m.mean;
        s.std = m.std();
        s.min = m.min;
        s.max = m.max;
      }
      List<Double> summary = quantiles.get(f.name);
      if (summary != null && !summary.isEmpty()) {
        s.median = median(summary);
      }
      Vocabulary vocabulary = vocabularies.get(f.name);
      if (vocabulary != null) {
        s.mode = parseCategory(f, vocabulary.mode);
        if (f.needsVocabularyFit()) {
          if (vocabulary.values.isEmpty()) {
            throw new IllegalStateException(
                n + "no value passes the vocabulary filters (minFrequency "
                    + f.vocabularyMinFrequency + ")");
          }
          f.fitVocabulary(vocabulary.values);
          s.vocabularyCounts = vocabulary.counts;
        }
      } else if (f.needsVocabularyFit()) {
        throw new IllegalStateException(n + "no valid training values for its vocabulary");
      }
      if (f.impute != null && f.impute.strategy != ImputeStrategy.CONSTANT) {
        Object value =
            f.impute.strategy == ImputeStrategy.MEAN
                ? s.mean
                : f.impute.strategy == ImputeStrategy.MEDIAN ? s.median : s.mode;
        if (value == null) {
          throw new IllegalStateException(n + "no valid training values to impute from");
        }
        f.impute.value = value;
      }
      for (int i = 0; i < f.transforms.size(); i++) {
        Step step = f.transforms.get(i);
        String key = stepKey(f, i);
        if (step.fitInput() == Step.FitInput.MOMENTS) {
          Moments sm = moments.get(key);
          if (sm == null || sm.n == 0) {
            throw new IllegalStateException(n + "no valid training values for " + step.kind());
          }
          step.fitMoments(sm.mean, sm.std(), sm.min, sm.max);
        } else if (step.fitInput() == Step.FitInput.QUANTILES) {
          List<Double> q = quantiles.get(key);
          if (q == null || q.isEmpty()) {
            throw new IllegalStateException(n + "no valid training values for quantile buckets");
          }
          step.fitQuantiles(q);
        }
      }
      f.stats = s;
    }
    spec.fitted = true;
    return FeatureSpec.checked(spec);
  }

  private static boolean hasHistogram(Feature f) {
    return (f.type == FeatureType.DOUBLE || f.type == FeatureType.LONG || f.type == FeatureType.TIMESTAMP)
        && f.stats != null
        && f.stats.min != null;
  }

  private static int bins(Feature f) {
    return f.histogramBins == null ? DEFAULT_HISTOGRAM_BINS : f.histogramBins;
  }

  /** Emits (feature, histogram bucket) for every valid numeric value of a row. */
  static void observeHistogram(FeatureSpec spec, Map<String, ?> row, BiConsumer<String, Integer> sink) {
    for (Feature f : spec.features) {
      if (!hasHistogram(f)) {
        continue;
      }
      Cell c = FeatureValues.read(f, row.containsKey(f.name), row.get(f.name), false);
      if (c.reason == null && !c.missing) {
        sink.accept(
            f.name, Histogram.equalWidthBucket(f.stats.min, f.stats.max, bins(f), c.num));
        if (f.type == FeatureType.TIMESTAMP) {
          for (DatePart part : f.dateParts()) {
            sink.accept(datePartKey(f, part), part.bucketOf((long) c.num));
          }
        }
      }
    }
  }

  /** How many buckets a histogram key has: the feature's bins, or a date part's largest cycle. */
  private static int bucketsOf(FeatureSpec spec, String key) {
    for (Feature f : spec.features) {
      if (f.name.equals(key)) {
        return bins(f);
      }
    }
    return 31;
  }

  /** The histogram key under which the training counts of a timestamp's date part travel. */
  static String datePartKey(Feature f, DatePart part) {
    return f.name + "@" + part.json();
  }

  /** Attaches equal-width histograms (edges from the fitted min/max) to a fitted spec. */
  static FeatureSpec applyHistograms(FeatureSpec fitted, Map<String, long[]> counts) {
    FeatureSpec spec = fitted.copy();
    for (Feature f : spec.features) {
      if (!hasHistogram(f)) {
        continue;
      }
      double min = f.stats.min;
      double max = f.stats.max;
      int b = max > min ? bins(f) : 1;
      Histogram h = new Histogram();
      for (int i = 0; i <= b; i++) {
        h.edges.add(i == b ? max : min + (max - min) * i / b);
      }
      long[] c = counts.getOrDefault(f.name, new long[b]);
      for (int i = 0; i < b; i++) {
        h.counts.add(i < c.length ? c[i] : 0L);
      }
      f.stats.histogram = h;
      List<DatePart> parts = f.dateParts();
      if (f.type == FeatureType.TIMESTAMP && !parts.isEmpty()) {
        f.stats.datePartCounts = new java.util.EnumMap<>(DatePart.class);
        for (DatePart part : parts) {
          long[] pc = counts.getOrDefault(datePartKey(f, part), new long[0]);
          List<Long> l = new java.util.ArrayList<>();
          for (int i = 0; i < part.cycle(); i++) {
            l.add(i < pc.length ? pc[i] : 0L);
          }
          f.stats.datePartCounts.put(part, l);
        }
      }
    }
    return FeatureSpec.checked(spec);
  }

  /** Plain-Java exact fit: iterates {@code rows} twice (statistics, then histograms). */
  static FeatureSpec fit(FeatureSpec template, Iterable<? extends Map<String, ?>> rows) {
    if (template.fitted) {
      throw new IllegalArgumentException("the spec is already fitted; fit its template instead");
    }
    Map<String, Moments> moments = new HashMap<>();
    Map<String, Map<String, Long>> counts = new HashMap<>();
    Map<String, List<Double>> values = new HashMap<>();
    Sink sink =
        new Sink() {
          @Override
          public void moments(String key, Moments single) {
            moments.computeIfAbsent(key, k -> new Moments()).merge(single);
          }

          @Override
          public void category(String feature, String value) {
            counts.computeIfAbsent(feature, k -> new HashMap<>()).merge(value, 1L, Long::sum);
          }

          @Override
          public void quantile(String key, double value) {
            values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
          }
        };
    for (Map<String, ?> row : rows) {
      observe(template, row, sink);
    }
    Map<String, Vocabulary> vocabularies = new HashMap<>();
    for (Map.Entry<String, Map<String, Long>> e : counts.entrySet()) {
      vocabularies.put(e.getKey(), selectVocabulary(template.feature(e.getKey()), e.getValue()));
    }
    Map<String, List<Double>> quantiles = new HashMap<>();
    for (Map.Entry<String, List<Double>> e : values.entrySet()) {
      List<Double> sorted = new ArrayList<>(e.getValue());
      Collections.sort(sorted);
      quantiles.put(e.getKey(), exactQuantiles(sorted));
    }
    FeatureSpec fitted = applyStats(template, moments, vocabularies, quantiles);
    Map<String, long[]> histograms = new HashMap<>();
    for (Map<String, ?> row : rows) {
      observeHistogram(
          fitted,
          row,
          (feature, bucket) ->
              histograms.computeIfAbsent(feature, k -> new long[bucketsOf(fitted, k)])[bucket]++);
    }
    return applyHistograms(fitted, histograms);
  }

  /**
   * Count, mean, sum of squared deviations, min and max, plus null/invalid counts: merged with
   * Chan et al.'s parallel update, which stays accurate where sum/sum-of-squares cancels
   * catastrophically (large means, small variances).
   */
  static final class Moments implements Serializable {
    private static final long serialVersionUID = 1L;

    long rows;
    long nulls;
    long invalid;
    long n;
    double mean;
    double m2;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;

    static Moments of(double x) {
      Moments m = new Moments();
      m.rows = 1;
      m.n = 1;
      m.mean = x;
      m.min = x;
      m.max = x;
      return m;
    }

    static Moments ofNull() {
      Moments m = new Moments();
      m.rows = 1;
      m.nulls = 1;
      return m;
    }

    static Moments ofInvalid() {
      Moments m = new Moments();
      m.rows = 1;
      m.invalid = 1;
      return m;
    }

    static Moments ofPresent() {
      Moments m = new Moments();
      m.rows = 1;
      return m;
    }

    Moments merge(Moments o) {
      rows += o.rows;
      nulls += o.nulls;
      invalid += o.invalid;
      if (o.n > 0) {
        long total = n + o.n;
        double delta = o.mean - mean;
        mean = n == 0 ? o.mean : mean + delta * o.n / total;
        m2 = m2 + o.m2 + delta * delta * ((double) n * o.n / total);
        n = total;
        min = Math.min(min, o.min);
        max = Math.max(max, o.max);
      }
      return this;
    }

    /** Population standard deviation. */
    double std() {
      return n == 0 ? Double.NaN : Math.sqrt(Math.max(0.0, m2 / n));
    }

    @Override
    public String toString() {
      return "Moments{rows=" + rows + ", n=" + n + ", mean=" + mean + ", std=" + std() + "}";
    }

    @Override
    public boolean equals(@Nullable Object o) {
      if (!(o instanceof Moments)) {
        return false;
      }
      Moments m = (Moments) o;
      return rows == m.rows && nulls == m.nulls && invalid == m.invalid && n == m.n
          && Double.compare(mean, m.mean) == 0 && Double.compare(m2, m.m2) == 0
          && Double.compare(min, m.min) == 0 && Double.compare(max, m.max) == 0;
    }

    @Override
    public int hashCode() {
      return Long.hashCode(rows) * 31 + Double.hashCode(mean);
    }
  }
}
