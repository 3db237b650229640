package dev.batchserve.transforms.monitoring;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.compare.CompareScores;
import dev.batchserve.transforms.compare.ModelAgreement;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.ApproximateQuantiles;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Measures one run's data quality, drift and prediction distribution: {@code KV<K, Row>} input rows
 * in, exactly one {@link RunQuality} out.
 *
 * <p>Per input feature of the {@link FeatureSpec}: rows, nulls (absent, null or blank), values that
 * cannot be read as the feature's type, the dead letters that name the feature (by reason), and the
 * run's distribution over the spec's training buckets with PSI and Jensen-Shannon divergence
 * (numeric) or L-infinity (categorical); see {@link Drift}. From the predictions: the score
 * histogram, mean, min, max and approximate quantiles, fallbacks by reason; against a previous run
 * (optional): the mean shift, the histogram's PSI and the share of keys whose score moved by more
 * than an epsilon (joined per hash bucket of the key, never per key).
 *
 * <pre>{@code
 * PCollection<RunQuality> quality = rows.apply("Quality",
 *     MeasureRunQuality.<String>of(spec)
 *         .withRunInfo(run)
 *         .withPredictions(keyed.predictions())
 *         .withDeadLetters(allDeadLetters)
 *         .withPreviousRun("fraud-daily-20261127", previousDistribution, previousScores));
 * }</pre>
 */
public final class MeasureRunQuality<K> extends PTransform<PCollection<KV<K, Row>>, PCollection<RunQuality>> {
  private static final long serialVersionUID = 1L;
  public static final double DEFAULT_CHANGE_EPSILON = 0.05;
  public static final int DEFAULT_JOIN_BUCKETS = 64;

  private final FeatureSpec spec;
  private final @Nullable RunInfo runInfo;
  private final transient @Nullable PCollection<KV<K, Prediction>> predictions;
  private final transient @Nullable PCollection<DeadLetter> deadLetters;
  private final @Nullable String previousRunId;
  private final @Nullable PredictionDistribution previousDistribution;
  private final transient @Nullable PCollection<KV<String, Double>> previousScores;
  private final double changeEpsilon;
  private final @Nullable Long previousRecords;

  private MeasureRunQuality(FeatureSpec spec, @Nullable RunInfo runInfo,
      @Nullable PCollection<KV<K, Prediction>> predictions, @Nullable PCollection<DeadLetter> deadLetters,
      @Nullable String previousRunId, @Nullable PredictionDistribution previousDistribution,
      @Nullable PCollection<KV<String, Double>> previousScores, double changeEpsilon,
      @Nullable Long previousRecords) {
    this.previousRecords = previousRecords;
    this.spec = spec;
    this.runInfo = runInfo;
    this.predictions = predictions;
    this.deadLetters = deadLetters;
    this.previousRunId = previousRunId;
    this.previousDistribution = previousDistribution;
    this.previousScores = previousScores;
    this.changeEpsilon = changeEpsilon;
  }

  /** Quality against the training statistics of a fitted {@code spec}. */
  public static <K> MeasureRunQuality<K> of(FeatureSpec spec) {
    Objects.requireNonNull(spec, "spec");
    checkArgument(spec.isFitted(), "the feature spec must be fitted (it holds the training statistics)");
    return new MeasureRunQuality<>(spec, null, null, null, null, null, null, DEFAULT_CHANGE_EPSILON, null);
  }

  /** The run measured (required). */
  public MeasureRunQuality<K> withRunInfo(RunInfo run) {
    return new MeasureRunQuality<>(spec, Objects.requireNonNull(run, "run"), predictions, deadLetters,
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords);
  }

  /** The run's keyed predictions (required). */
  public MeasureRunQuality<K> withPredictions(PCollection<KV<K, Prediction>> p) {
    return new MeasureRunQuality<>(spec, runInfo, Objects.requireNonNull(p, "predictions"), deadLetters,
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords);
  }

  /** All the run's dead letters, unreadable records (step {@code read}) included. */
  public MeasureRunQuality<K> withDeadLetters(PCollection<DeadLetter> d) {
    return new MeasureRunQuality<>(spec, runInfo, predictions, Objects.requireNonNull(d, "deadLetters"),
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords);
  }

  /**
   * The previous run: its id, its prediction distribution (from its report; null when it has none)
   * and its model scores by key string for the key-level change rate (null when unreadable).
   */
  public MeasureRunQuality<K> withPreviousRun(String runId, @Nullable PredictionDistribution distribution,
      @Nullable PCollection<KV<String, Double>> scores) {
    checkArgument(runId != null && !runId.isEmpty(), "previous runId must be set, but was '%s'", runId);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, runId, distribution, scores,
        changeEpsilon, previousRecords);
  }

  /**
   * The previous published run's record count (from its manifest), carried into
   * {@link RunQuality#getPreviousRecords()} for the {@code maxRecordDrop} limit of {@link CircuitBreaker}.
   */
  public MeasureRunQuality<K> withPreviousRecords(long records) {
    checkArgument(records >= 0, "previous records must be >= 0, but was %s", records);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, changeEpsilon, records);
  }

  /** A key's score "changed" when it moved by more than this (default {@value #DEFAULT_CHANGE_EPSILON}). */
  public MeasureRunQuality<K> withChangeEpsilon(double epsilon) {
    checkArgument(epsilon >= 0 && Double.isFinite(epsilon), "changeEpsilon must be >= 0, but was %s", epsilon);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, epsilon, previousRecords);
  }

  @Override
  public PCollection<RunQuality> expand(PCollection<KV<K, Row>> rows) {
    checkState(runInfo != null, "MeasureRunQuality needs withRunInfo(run)");
    checkState(predictions != null, "MeasureRunQuality needs withPredictions(predictions)");
    PCollection<DeadLetter> dead = deadLetters != null ? deadLetters
        : rows.getPipeline().apply("NoDeadLetters", Create.empty(DeadLetter.DeadLetterCoder.of()));

    PCollectionView<FeatureProfiles> features =
        rows.apply("ProfileFeatures", Combine.globally(new ProfileFeaturesFn<K>(spec)).asSingletonView());
    PCollectionView<Long> rowCount =
        rows.apply("CountRows", Combine.globally(Count.<KV<K, Row>>combineFn()).asSingletonView());
    PCollectionView<DeadLetterTally> tally =
        dead.apply("TallyDeadLetters", Combine.globally(new TallyDeadLettersFn()).asSingletonView());
    PCollectionView<ScoreProfile> scores =
        predictions.apply("ProfileScores", Combine.globally(new ProfileScoresFn<K>()).asSingletonView());
    PCollection<KV<String, Double>> modelScores =
        predictions.apply("ModelScores", ParDo.of(new ModelScoreFn<K>()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of()));
    PCollectionView<List<Double>> quantiles =
        modelScores
            .apply("Scores", ParDo.of(new DoFn<KV<String, Double>, Double>() {
              @ProcessElement
              public void process(@Element KV<String, Double> kv, OutputReceiver<Double> out) {
                out.output(kv.getValue());
              }
            }))
            .setCoder(DoubleCoder.of())
            .apply("ScoreQuantiles", ApproximateQuantiles.globally(101))
            .apply("QuantileView", View.asSingleton());

    List<PCollectionView<?>> sideInputs = new ArrayList<>(List.of(features, rowCount, tally, scores, quantiles));
    PCollectionView<Map<String, Long>> change = null;
    if (previousScores != null) {
      change = changeCounts(modelScores, previousScores, changeEpsilon).apply("ChangeView", View.asMap());
      sideInputs.add(change);
    }
    return rows.getPipeline()
        .apply("Once", Create.of(0))
        .apply("Assemble", ParDo.of(new AssembleFn(spec, runInfo.runId(), features, rowCount, tally, scores,
                quantiles, change, previousRunId, previousDistribution, changeEpsilon, previousRecords))
            .withSideInputs(sideInputs))
        .setCoder(RunQuality.RunQualityCoder.of());
  }

  /** {@code compared, changed, added, removed} counts of the key-level comparison with the previous run. */
  private static PCollection<KV<String, Long>> changeCounts(
      PCollection<KV<String, Double>> current, PCollection<KV<String, Double>> previous, double epsilon) {
    return PCollectionList.of(previous).and(current)
        .apply("CompareWithPrevious", CompareScores.of(0.5, epsilon))
        .apply("ChangeCounts", ParDo.of(new ChangeCountsFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
  }

  /** The comparison as the counts the report shows: the previous run is the comparison's first side. */
  static final class ChangeCountsFn extends DoFn<ModelAgreement, KV<String, Long>> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element ModelAgreement a, OutputReceiver<KV<String, Long>> out) {
      out.output(KV.of("compared", a.getCompared()));
      out.output(KV.of("changed", a.getChanged()));
      out.output(KV.of("added", a.getChallengerOnly()));
      out.output(KV.of("removed", a.getChampionOnly()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reading raw values the way the feature spec does (missing = absent, null or blank).

  static @Nullable Object raw(Row row, String field) {
    if (!row.getSchema().hasField(field)) {
      return null;
    }
    Object v = row.getValue(field);
    if (v instanceof CharSequence && v.toString().trim().isEmpty()) {
      return null;
    }
    return v;
  }

  /** The number a numeric feature's value stands for, or null when it cannot be read. */
  static @Nullable Double number(FeatureSpec.Type type, Object v) {
    return number(type, null, v);
  }

  /** As {@link #number(FeatureSpec.Type, Object)}, timestamps in text read with {@code format} when set. */
  static @Nullable Double number(FeatureSpec.Type type, @Nullable String format, Object v) {
    double x;
    java.time.Instant typed = dev.batchserve.transforms.features.InstantText.of(v);
    if (typed != null) {
      x = dev.batchserve.transforms.features.InstantText.epochMillis(typed);
    } else if (type == FeatureSpec.Type.TIMESTAMP && format != null && v instanceof CharSequence) {
      try {
        x = dev.batchserve.transforms.features.InstantText.epochMillis(
            dev.batchserve.transforms.features.InstantText.parse(v.toString(), format));
      } catch (java.time.DateTimeException | ArithmeticException e) {
        return null;
      }
    } else if (v instanceof Number) {
      x = ((Number) v).doubleValue();
    } else if (v instanceof Boolean) {
      x = (Boolean) v ? 1 : 0;
    } else {
      String s = v.toString().trim();
      try {
        // The features' own grammar, so that quality is measured on the numbers the model saw.
        x = dev.batchserve.transforms.features.DecimalText.parseDouble(s);
      } catch (NumberFormatException e) {
        if (type != FeatureSpec.Type.TIMESTAMP) {
          return null;
        }
        try {
          x = dev.batchserve.transforms.features.InstantText.epochMillis(
              dev.batchserve.transforms.features.InstantText.parse(s, (String) null));
        } catch (java.time.DateTimeException | ArithmeticException e2) {
          return null;
        }
      }
    }
    return Double.isFinite(x) ? x : null;
  }

  static String category(Object v) {
    return v instanceof CharSequence ? v.toString().trim() : String.valueOf(v);
  }

  // ---------------------------------------------------------------------------------------------
  // Accumulators (Java-serialized: they only travel between combine phases).

  /** Per-feature counts of one run. */
  static final class FeatureProfiles implements Serializable {
    private static final long serialVersionUID = 1L;
    final Map<String, long[]> counts = new HashMap<>();
    /** rows, nulls, unreadable. */
    final Map<String, long[]> totals = new HashMap<>();

    void merge(FeatureProfiles o) {
      o.counts.forEach((k, v) -> {
        long[] mine = counts.get(k);
        if (mine == null) {
          counts.put(k, v.clone());
        } else {
          for (int i = 0; i < v.length; i++) {
            mine[i] += v[i];
          }
        }
      });
      o.totals.forEach((k, v) -> {
        long[] mine = totals.computeIfAbsent(k, x -> new long[3]);
        for (int i = 0; i < 3; i++) {
          mine[i] += v[i];
        }
      });
    }

    // equals/hashCode let the runner compare accumulators by value (mutation and coder checks).
    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof FeatureProfiles && sameArrays(counts, ((FeatureProfiles) o).counts)
          && sameArrays(totals, ((FeatureProfiles) o).totals);
    }

    @Override
    public int hashCode() {
      return counts.keySet().hashCode() * 31 + totals.keySet().hashCode();
    }

    private static boolean sameArrays(Map<String, long[]> a, Map<String, long[]> b) {
      if (!a.keySet().equals(b.keySet())) {
        return false;
      }
      for (Map.Entry<String, long[]> e : a.entrySet()) {
        if (!java.util.Arrays.equals(e.getValue(), b.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  static final class ProfileFeaturesFn<K> extends Combine.CombineFn<KV<K, Row>, FeatureProfiles, FeatureProfiles> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec spec;
    private transient @Nullable Map<String, Map<String, Integer>> vocabularies;

    ProfileFeaturesFn(FeatureSpec spec) {
      this.spec = spec;
    }

    @Override
    public FeatureProfiles createAccumulator() {
      return new FeatureProfiles();
    }

    @Override
    public FeatureProfiles addInput(FeatureProfiles acc, KV<K, Row> kv) {
      Row row = kv.getValue();
      for (FeatureSpec.Feature f : spec.features()) {
        long[] totals = acc.totals.computeIfAbsent(f.name(), x -> new long[3]);
        totals[0]++;
        Object v = raw(row, f.name());
        if (v == null) {
          totals[1]++;
          continue;
        }
        Baseline b = Baseline.of(f);
        if (b == Baseline.CATEGORICAL) {
          List<String> vocabulary = f.vocabulary();
          int i = vocabulary(f).getOrDefault(category(v), vocabulary.size());
          acc.counts.computeIfAbsent(f.name(), x -> new long[vocabulary.size() + 1])[i]++;
        } else if (b == Baseline.NUMERIC) {
          Double x = number(f.type(), f.format(), v);
          if (x == null) {
            totals[2]++;
          } else {
            FeatureSpec.Histogram h = f.stats().histogram();
            acc.counts.computeIfAbsent(f.name(), n -> new long[h.counts().size()])[h.bucketOf(x)]++;
          }
        }
      }
      return acc;
    }

    private Map<String, Integer> vocabulary(FeatureSpec.Feature f) {
      if (vocabularies == null) {
        vocabularies = new HashMap<>();
      }
      return vocabularies.computeIfAbsent(f.name(), n -> {
        Map<String, Integer> index = new HashMap<>();
        List<String> vocabulary = f.vocabulary();
        for (int i = 0; i < vocabulary.size(); i++) {
          index.put(vocabulary.get(i), i);
        }
        return index;
      });
    }

    @Override
    public FeatureProfiles mergeAccumulators(Iterable<FeatureProfiles> accs) {
      FeatureProfiles merged = new FeatureProfiles();
      for (FeatureProfiles a : accs) {
        merged.merge(a);
      }
      return merged;
    }

    @Override
    public FeatureProfiles extractOutput(FeatureProfiles acc) {
      return acc;
    }

    @Override
    public Coder<FeatureProfiles> getAccumulatorCoder(CoderRegistry r, Coder<KV<K, Row>> in) {
      return SerializableCoder.of(FeatureProfiles.class);
    }

    @Override
    public Coder<FeatureProfiles> getDefaultOutputCoder(CoderRegistry r, Coder<KV<K, Row>> in) {
      return SerializableCoder.of(FeatureProfiles.class);
    }
  }

  /** Which training baseline a feature is compared with. */
  enum Baseline {
    NUMERIC, CATEGORICAL, NONE;

    static Baseline of(FeatureSpec.Feature f) {
      FeatureSpec.Stats s = f.stats();
      if (s == null) {
        return NONE;
      }
      if (f.vocabulary() != null && s.vocabularyCounts() != null
          && s.vocabularyCounts().size() == f.vocabulary().size()) {
        return CATEGORICAL;
      }
      if (s.histogram() != null && !s.histogram().counts().isEmpty()) {
        return NUMERIC;
      }
      return NONE;
    }
  }

  static final class DeadLetterTally implements Serializable {
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

  static final class TallyDeadLettersFn extends Combine.CombineFn<DeadLetter, DeadLetterTally, DeadLetterTally> {
    private static final long serialVersionUID = 1L;

    @Override
    public DeadLetterTally createAccumulator() {
      return new DeadLetterTally();
    }

    @Override
    public DeadLetterTally addInput(DeadLetterTally acc, DeadLetter d) {
      acc.total++;
      if ("read".equals(d.getStep())) {
        acc.unreadable++;
      }
      acc.byReason.merge(d.getStep() + ":" + d.getReason(), 1L, Long::sum);
      if (d.getField() != null) {
        acc.byField.computeIfAbsent(d.getField(), f -> new TreeMap<>()).merge(d.getReason(), 1L, Long::sum);
      }
      return acc;
    }

    @Override
    public DeadLetterTally mergeAccumulators(Iterable<DeadLetterTally> accs) {
      DeadLetterTally m = new DeadLetterTally();
      for (DeadLetterTally a : accs) {
        m.total += a.total;
        m.unreadable += a.unreadable;
        a.byReason.forEach((k, v) -> m.byReason.merge(k, v, Long::sum));
        a.byField.forEach((f, reasons) -> reasons.forEach(
            (k, v) -> m.byField.computeIfAbsent(f, x -> new TreeMap<>()).merge(k, v, Long::sum)));
      }
      return m;
    }

    @Override
    public DeadLetterTally extractOutput(DeadLetterTally acc) {
      return acc;
    }

    @Override
    public Coder<DeadLetterTally> getAccumulatorCoder(CoderRegistry r, Coder<DeadLetter> in) {
      return SerializableCoder.of(DeadLetterTally.class);
    }

    @Override
    public Coder<DeadLetterTally> getDefaultOutputCoder(CoderRegistry r, Coder<DeadLetter> in) {
      return SerializableCoder.of(DeadLetterTally.class);
    }
  }

  static final class ScoreProfile implements Serializable {
    private static final long serialVersionUID = 1L;
    long count;
    long fallbacks;
    long outOfRange;
    double sum;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    final long[] buckets = new long[PredictionDistribution.BUCKETS];
    final TreeMap<String, Long> fallbackReasons = new TreeMap<>();

    @Override
    public boolean equals(@Nullable Object o) {
      if (!(o instanceof ScoreProfile)) {
        return false;
      }
      ScoreProfile p = (ScoreProfile) o;
      return count == p.count && fallbacks == p.fallbacks && outOfRange == p.outOfRange
          && Double.compare(sum, p.sum) == 0 && Double.compare(min, p.min) == 0 && Double.compare(max, p.max) == 0
          && java.util.Arrays.equals(buckets, p.buckets) && fallbackReasons.equals(p.fallbackReasons);
    }

    @Override
    public int hashCode() {
      return Objects.hash(count, fallbacks, sum, fallbackReasons);
    }
  }

  static final class ProfileScoresFn<K> extends Combine.CombineFn<KV<K, Prediction>, ScoreProfile, ScoreProfile> {
    private static final long serialVersionUID = 1L;

    @Override
    public ScoreProfile createAccumulator() {
      return new ScoreProfile();
    }

    @Override
    public ScoreProfile addInput(ScoreProfile acc, KV<K, Prediction> kv) {
      Prediction p = kv.getValue();
      if (p.isFallback()) {
        acc.fallbacks++;
        acc.fallbackReasons.merge(p.getFallbackReason(), 1L, Long::sum);
        return acc;
      }
      Double s = p.getScore();
      if (s == null || !Double.isFinite(s)) {
        return acc;
      }
      acc.count++;
      acc.sum += s;
      acc.min = Math.min(acc.min, s);
      acc.max = Math.max(acc.max, s);
      if (s < 0 || s > 1) {
        acc.outOfRange++;
      }
      acc.buckets[PredictionDistribution.bucketOf(s)]++;
      return acc;
    }

    @Override
    public ScoreProfile mergeAccumulators(Iterable<ScoreProfile> accs) {
      ScoreProfile m = new ScoreProfile();
      for (ScoreProfile a : accs) {
        m.count += a.count;
        m.fallbacks += a.fallbacks;
        m.outOfRange += a.outOfRange;
        m.sum += a.sum;
        m.min = Math.min(m.min, a.min);
        m.max = Math.max(m.max, a.max);
        for (int i = 0; i < m.buckets.length; i++) {
          m.buckets[i] += a.buckets[i];
        }
        a.fallbackReasons.forEach((k, v) -> m.fallbackReasons.merge(k, v, Long::sum));
      }
      return m;
    }

    @Override
    public ScoreProfile extractOutput(ScoreProfile acc) {
      return acc;
    }

    @Override
    public Coder<ScoreProfile> getAccumulatorCoder(CoderRegistry r, Coder<KV<K, Prediction>> in) {
      return SerializableCoder.of(ScoreProfile.class);
    }

    @Override
    public Coder<ScoreProfile> getDefaultOutputCoder(CoderRegistry r, Coder<KV<K, Prediction>> in) {
      return SerializableCoder.of(ScoreProfile.class);
    }
  }

  /** Model predictions (not fallbacks) with a finite score, keyed by the key's string form. */
  static final class ModelScoreFn<K> extends DoFn<KV<K, Prediction>, KV<String, Double>> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element KV<K, Prediction> kv, OutputReceiver<KV<String, Double>> out) {
      Prediction p = kv.getValue();
      Double s = p.getScore();
      if (!p.isFallback() && s != null && Double.isFinite(s)) {
        out.output(KV.of(String.valueOf(kv.getKey()), s));
      }
    }
  }

  static final class AssembleFn extends DoFn<Integer, RunQuality> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec spec;
    private final String runId;
    private final PCollectionView<FeatureProfiles> features;
    private final PCollectionView<Long> rowCount;
    private final PCollectionView<DeadLetterTally> tally;
    private final PCollectionView<ScoreProfile> scores;
    private final PCollectionView<List<Double>> quantiles;
    private final @Nullable PCollectionView<Map<String, Long>> change;
    private final @Nullable String previousRunId;
    private final @Nullable PredictionDistribution previous;
    private final double epsilon;
    private final @Nullable Long previousRecords;

    AssembleFn(FeatureSpec spec, String runId, PCollectionView<FeatureProfiles> features,
        PCollectionView<Long> rowCount, PCollectionView<DeadLetterTally> tally, PCollectionView<ScoreProfile> scores,
        PCollectionView<List<Double>> quantiles, @Nullable PCollectionView<Map<String, Long>> change,
        @Nullable String previousRunId, @Nullable PredictionDistribution previous, double epsilon,
        @Nullable Long previousRecords) {
      this.previousRecords = previousRecords;
      this.spec = spec;
      this.runId = runId;
      this.features = features;
      this.rowCount = rowCount;
      this.tally = tally;
      this.scores = scores;
      this.quantiles = quantiles;
      this.change = change;
      this.previousRunId = previousRunId;
      this.previous = previous;
      this.epsilon = epsilon;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      RunQuality q = new RunQuality();
      q.runId = runId;
      q.inputRecords = c.sideInput(rowCount);
      DeadLetterTally t = c.sideInput(tally);
      q.unreadable = t.unreadable;
      q.deadLetters = t.total;
      long denominator = q.inputRecords + q.unreadable;
      q.deadLetterRate = denominator == 0 ? 0 : (double) t.total / denominator;
      q.deadLettersByReason.putAll(t.byReason);

      FeatureProfiles profiles = c.sideInput(features);
      for (FeatureSpec.Feature f : spec.features()) {
        q.features.add(feature(f, profiles, t));
      }

      ScoreProfile s = c.sideInput(scores);
      PredictionDistribution d = q.predictions;
      d.count = s.count;
      d.fallbacks = s.fallbacks;
      d.outOfRange = s.outOfRange;
      d.fallbacksByReason.putAll(s.fallbackReasons);
      if (s.count > 0) {
        d.mean = s.sum / s.count;
        d.min = s.min;
        d.max = s.max;
      }
      for (long b : s.buckets) {
        d.counts.add(b);
      }
      d.quantiles.addAll(c.sideInput(quantiles));

      q.previousRunId = previousRunId;
      q.previousRecords = previousRecords;
      if (previous != null) {
        q.previousPredictions = previous;
        if (d.mean != null && previous.mean != null) {
          q.predictionMeanShift = d.mean - previous.mean;
        }
        if (d.count > 0 && previous.count > 0 && previous.counts.size() == d.counts.size()) {
          q.predictionPsi = Drift.psi(previous.countArray(), d.countArray());
        }
      }
      if (change != null) {
        Map<String, Long> m = c.sideInput(change);
        PredictionChange pc = new PredictionChange();
        pc.previousRunId = previousRunId == null ? "" : previousRunId;
        pc.epsilon = epsilon;
        pc.compared = m.getOrDefault("compared", 0L);
        pc.changed = m.getOrDefault("changed", 0L);
        pc.added = m.getOrDefault("added", 0L);
        pc.removed = m.getOrDefault("removed", 0L);
        q.change = pc;
      }
      c.output(q);
    }

    private static FeatureQuality feature(FeatureSpec.Feature f, FeatureProfiles profiles, DeadLetterTally t) {
      FeatureQuality fq = new FeatureQuality();
      fq.name = f.name();
      long[] totals = profiles.totals.getOrDefault(f.name(), new long[3]);
      fq.count = totals[0];
      fq.nulls = totals[1];
      fq.unreadable = totals[2];
      fq.nullRate = fq.count == 0 ? 0 : (double) fq.nulls / fq.count;
      fq.trainingNullRate = f.stats() == null ? 0 : f.stats().nullRate();
      Map<String, Long> violations = t.byField.get(f.name());
      if (violations != null) {
        fq.violations.putAll(violations);
      }
      Baseline b = Baseline.of(f);
      long[] training;
      if (b == Baseline.NUMERIC) {
        fq.kind = FeatureQuality.Kind.NUMERIC;
        fq.edges.addAll(f.stats().histogram().edges());
        training = toArray(f.stats().histogram().counts());
      } else if (b == Baseline.CATEGORICAL) {
        fq.kind = FeatureQuality.Kind.CATEGORICAL;
        fq.categories.addAll(f.vocabulary());
        fq.categories.add(FeatureQuality.OTHER);
        List<Long> vc = new ArrayList<>(f.stats().vocabularyCounts());
        vc.add(0L);
        training = toArray(vc);
      } else {
        return fq;
      }
      long[] current = profiles.counts.getOrDefault(f.name(), new long[training.length]);
      for (int i = 0; i < training.length; i++) {
        fq.trainingCounts.add(training[i]);
        fq.counts.add(current[i]);
      }
      if (sum(training) > 0 && sum(current) > 0) {
        if (b == Baseline.NUMERIC) {
          fq.psi = Drift.psi(training, current);
          fq.jsDivergence = Drift.jensenShannon(training, current);
        } else {
          fq.lInfinity = Drift.lInfinity(training, current);
        }
      }
      return fq;
    }

    private static long[] toArray(List<Long> l) {
      long[] a = new long[l.size()];
      Iterator<Long> it = l.iterator();
      for (int i = 0; i < a.length; i++) {
        a[i] = it.next();
      }
      return a;
    }

    private static long sum(long[] a) {
      long s = 0;
      for (long x : a) {
        s += x;
      }
      return s;
    }
  }

}
