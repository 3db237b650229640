package dev.batchserve.transforms.monitoring;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.compare.CompareScores;
import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.features.Feature;
import dev.batchserve.transforms.features.FeatureProfile;
import dev.batchserve.transforms.features.FeatureProfile.Baseline;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureStats;
import dev.batchserve.transforms.features.FeatureType;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.ApproximateQuantiles;
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
  private final transient @Nullable PCollection<FeatureProfile> featureProfiles;
  private final java.util.SortedSet<String> noDrift;

  private MeasureRunQuality(FeatureSpec spec, @Nullable RunInfo runInfo,
      @Nullable PCollection<KV<K, Prediction>> predictions, @Nullable PCollection<DeadLetter> deadLetters,
      @Nullable String previousRunId, @Nullable PredictionDistribution previousDistribution,
      @Nullable PCollection<KV<String, Double>> previousScores, double changeEpsilon,
      @Nullable Long previousRecords, @Nullable PCollection<FeatureProfile> featureProfiles,
      java.util.SortedSet<String> noDrift) {
    this.noDrift = noDrift;
    this.previousRecords = previousRecords;
    this.featureProfiles = featureProfiles;
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
    return new MeasureRunQuality<>(spec, null, null, null, null, null, null, DEFAULT_CHANGE_EPSILON, null, null,
        new java.util.TreeSet<>());
  }

  /** The run measured (required). */
  public MeasureRunQuality<K> withRunInfo(RunInfo run) {
    return new MeasureRunQuality<>(spec, Objects.requireNonNull(run, "run"), predictions, deadLetters,
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords, featureProfiles, noDrift);
  }

  /** The run's keyed predictions (required). */
  public MeasureRunQuality<K> withPredictions(PCollection<KV<K, Prediction>> p) {
    return new MeasureRunQuality<>(spec, runInfo, Objects.requireNonNull(p, "predictions"), deadLetters,
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords, featureProfiles, noDrift);
  }

  /** All the run's dead letters, unreadable records (step {@code read}) included. */
  public MeasureRunQuality<K> withDeadLetters(PCollection<DeadLetter> d) {
    return new MeasureRunQuality<>(spec, runInfo, predictions, Objects.requireNonNull(d, "deadLetters"),
        previousRunId, previousDistribution, previousScores, changeEpsilon, previousRecords, featureProfiles, noDrift);
  }

  /**
   * The previous run: its id, its prediction distribution (from its report; null when it has none)
   * and its model scores by key string for the key-level change rate (null when unreadable).
   */
  public MeasureRunQuality<K> withPreviousRun(String runId, @Nullable PredictionDistribution distribution,
      @Nullable PCollection<KV<String, Double>> scores) {
    checkArgument(runId != null && !runId.isEmpty(), "previous runId must be set, but was '%s'", runId);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, runId, distribution, scores,
        changeEpsilon, previousRecords, featureProfiles, noDrift);
  }

  /**
   * The previous published run's record count (from its manifest), carried into
   * {@link RunQuality#getPreviousRecords()} for the {@code maxRecordDrop} limit of {@link CircuitBreaker}.
   */
  public MeasureRunQuality<K> withPreviousRecords(long records) {
    checkArgument(records >= 0, "previous records must be >= 0, but was %s", records);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, changeEpsilon, records, featureProfiles, noDrift);
  }

  /**
   * Takes the features' profile from {@link dev.batchserve.transforms.features.FeatureTransform#withFeatureProfile()} (the partial
   * profiles it made while encoding) instead of reading the input rows again: every record is then
   * parsed once, by the features' own parser, and the report counts exactly the values the model
   * saw. Without it the rows are profiled here, with the same parser. The profile must come from a
   * transform with the same spec.
   *
   * <pre>{@code
   * FeatureTransform.Result<String> f = rows.apply(FeatureTransform.<String>of(spec).withFeatureProfile());
   * rows.apply(MeasureRunQuality.<String>of(spec).withRunInfo(run).withPredictions(p)
   *     .withFeatureProfiles(f.featureProfiles()));
   * }</pre>
   */
  public MeasureRunQuality<K> withFeatureProfiles(PCollection<FeatureProfile> profiles) {
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, changeEpsilon, previousRecords,
        Objects.requireNonNull(profiles, "profiles"), noDrift);
  }

  /**
   * Profiles these features but never compares them with training (no drift figures, so the
   * circuit breaker's drift limits skip them), on top of those marked {@code "drift": false} in
   * the spec. For a job: {@code --noDriftFeatures=signup_ts,zip}.
   *
   * <pre>{@code
   * MeasureRunQuality.<String>of(spec).withoutDrift(List.of("signup_ts"));
   * }</pre>
   *
   * @throws IllegalArgumentException naming a feature the spec does not have
   */
  public MeasureRunQuality<K> withoutDrift(java.util.Collection<String> features) {
    java.util.SortedSet<String> names = new java.util.TreeSet<>(noDrift);
    for (String f : features) {
      String name = f.trim();
      if (name.isEmpty()) {
        continue;
      }
      checkArgument(spec.inputNames().contains(name),
          "no feature '%s' to exclude from drift: the spec's features are %s", name, spec.inputNames());
      names.add(name);
    }
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, changeEpsilon, previousRecords, featureProfiles, names);
  }

  /** A key's score "changed" when it moved by more than this (default {@value #DEFAULT_CHANGE_EPSILON}). */
  public MeasureRunQuality<K> withChangeEpsilon(double epsilon) {
    checkArgument(epsilon >= 0 && Double.isFinite(epsilon), "changeEpsilon must be >= 0, but was %s", epsilon);
    return new MeasureRunQuality<>(spec, runInfo, predictions, deadLetters, previousRunId,
        previousDistribution, previousScores, epsilon, previousRecords, featureProfiles, noDrift);
  }

  @Override
  public PCollection<RunQuality> expand(PCollection<KV<K, Row>> rows) {
    checkState(runInfo != null, "MeasureRunQuality needs withRunInfo(run)");
    checkState(predictions != null, "MeasureRunQuality needs withPredictions(predictions)");
    PCollection<DeadLetter> dead = deadLetters != null ? deadLetters
        : rows.getPipeline().apply("NoDeadLetters", Create.empty(DeadLetter.DeadLetterCoder.of()));

    PCollection<KV<String, Double>> modelScores =
        predictions.apply("ModelScores", ParDo.of(new ModelScoreFn<K>()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of()));
    // One combine (the quality ledger) for the feature profiles, the row count, the dead-letter tally, the
    // score profile and the score quantiles: one shuffle of per-bundle accumulators instead of six.
    QualityLedger ledger = new QualityLedger(rows.getPipeline().getCoderRegistry());
    if (featureProfiles != null) {
      ledger.add("FeatureProfiles", featureProfiles, FeatureProfile.combineFn());
    } else {
      ledger.add("ProfileRows", rows, new ProfileRowsFn<K>(spec));
    }
    ledger.add("Rows", rows.apply("OnePerRow", ParDo.of(new OneFn<KV<K, Row>>())).setCoder(VarLongCoder.of()),
        Sum.ofLongs());
    ledger.add("DeadLetters", dead, new TallyDeadLettersFn());
    ledger.add("Scores", predictions, new ProfileScoresFn<K>());
    ledger.add("Quantiles", modelScores.apply("Scores", Values.create()).setCoder(DoubleCoder.of()),
        ApproximateQuantiles.ApproximateQuantilesCombineFn.<Double>create(101));
    PCollectionView<List<Object>> quality = ledger.combine("QualityLedger");

    List<PCollectionView<?>> sideInputs = new ArrayList<>(List.of(quality));
    PCollectionView<Map<String, Long>> change = null;
    if (previousScores != null) {
      change = changeCounts(modelScores, previousScores, changeEpsilon).apply("ChangeView", View.asMap());
      sideInputs.add(change);
    }
    return rows.getPipeline()
        .apply("Once", Create.of(0))
        .apply("Assemble", ParDo.of(new AssembleFn(spec, runInfo.runId(), runInfo.interval(), noDrift, quality,
                change, previousRunId, previousDistribution, changeEpsilon, previousRecords))
            .withSideInputs(sideInputs))
        .setCoder(RunQuality.RunQualityCoder.of());
  }

  /** One per element, for counting through the quality ledger. */
  private static final class OneFn<T> extends DoFn<T, Long> {
    @ProcessElement
    public void process(OutputReceiver<Long> out) {
      out.output(1L);
    }
  }

  /** {@code compared, changed, added, removed} counts of the key-level comparison with the previous run. */
  private static PCollection<KV<String, Long>> changeCounts(
      PCollection<KV<String, Double>> current, PCollection<KV<String, Double>> previous, double epsilon) {
    return PCollectionList.of(previous).and(current)
        .apply("CompareWithPrevious", CompareScores.of(0.5, epsilon))
        .apply("ChangeCounts", ParDo.of(new ChangeCountsFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
  }

  static final class AssembleFn extends DoFn<Integer, RunQuality> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec spec;
    private final String runId;
    private final RunInfo.Interval interval;
    private final java.util.SortedSet<String> noDrift;
    /** The quality ledger's outputs, in the order added: profiles, rows, tally, scores, quantiles. */
    private final PCollectionView<List<Object>> quality;
    private final @Nullable PCollectionView<Map<String, Long>> change;
    private final @Nullable String previousRunId;
    private final @Nullable PredictionDistribution previous;
    private final double epsilon;
    private final @Nullable Long previousRecords;

    AssembleFn(FeatureSpec spec, String runId, RunInfo.Interval interval, java.util.SortedSet<String> noDrift,
        PCollectionView<List<Object>> quality, @Nullable PCollectionView<Map<String, Long>> change,
        @Nullable String previousRunId, @Nullable PredictionDistribution previous, double epsilon,
        @Nullable Long previousRecords) {
      this.previousRecords = previousRecords;
      this.spec = spec;
      this.runId = runId;
      this.interval = interval;
      this.noDrift = noDrift;
      this.quality = quality;
      this.change = change;
      this.previousRunId = previousRunId;
      this.previous = previous;
      this.epsilon = epsilon;
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(ProcessContext c) {
      List<Object> ledger = c.sideInput(quality);
      RunQuality q = new RunQuality();
      q.runId = runId;
      q.inputRecords = (Long) ledger.get(1);
      DeadLetterTally t = (DeadLetterTally) ledger.get(2);
      q.unreadable = t.unreadable;
      q.deadLetters = t.total;
      long denominator = q.inputRecords + q.unreadable;
      q.deadLetterRate = denominator == 0 ? 0 : (double) t.total / denominator;
      q.deadLettersByReason.putAll(t.byReason);

      FeatureProfile profiles = (FeatureProfile) ledger.get(0);
      for (Feature f : spec.features()) {
        String skipped = !f.driftChecked() ? "\"drift\": false in the feature spec"
            : noDrift.contains(f.name()) ? "excluded from drift by the job (noDriftFeatures)" : null;
        q.features.add(feature(f, profiles, t, skipped));
        for (DatePart part : f.dateParts()) {
          if (f.stats() != null && f.stats().datePartCounts(part) != null) {
            q.features.add(datePart(f, part, profiles, skipped, interval));
          }
        }
      }

      ScoreProfile s = (ScoreProfile) ledger.get(3);
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
      d.quantiles.addAll((List<Double>) ledger.get(4));

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

    private static FeatureQuality feature(Feature f, FeatureProfile profiles, DeadLetterTally t,
        @Nullable String skipped) {
      FeatureQuality fq = new FeatureQuality();
      fq.name = f.name();
      fq.count = profiles.rows(f.name());
      fq.nulls = profiles.nulls(f.name());
      fq.unreadable = profiles.unreadable(f.name());
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
        vc.add(trainingOther(f.stats()));
        training = toArray(vc);
      } else {
        return fq;
      }
      long[] current = profiles.bucketCounts(f);
      for (int i = 0; i < training.length; i++) {
        fq.trainingCounts.add(training[i]);
        fq.counts.add(current[i]);
      }
      if (skipped == null && f.type() == FeatureType.TIMESTAMP && !f.dateParts().isEmpty()) {
        // The model never sees the instant itself, and a later run's instants always lie past training's.
        skipped = "the model sees this timestamp as date parts: compared through " + f.name() + "_<part>";
      }
      fq.driftSkipped = skipped;
      if (skipped == null && sum(training) > 0 && sum(current) > 0) {
        if (b == Baseline.NUMERIC) {
          fq.psi = Drift.psi(training, current);
          fq.jsDivergence = Drift.jensenShannon(training, current);
        } else {
          fq.lInfinity = Drift.lInfinity(training, current);
        }
      }
      return fq;
    }

    /** One date part of a timestamp feature, binned per value, compared when the run covers its cycle. */
    static FeatureQuality datePart(Feature f, DatePart part, FeatureProfile profiles,
        @Nullable String skipped, RunInfo.Interval interval) {
      FeatureQuality fq = new FeatureQuality();
      fq.name = f.name() + "_" + part.name().toLowerCase(java.util.Locale.ROOT);
      fq.kind = FeatureQuality.Kind.NUMERIC;
      for (int i = 0; i <= part.cycle(); i++) {
        fq.edges.add((double) (part.first() + i));
      }
      long[] training = toArray(f.stats().datePartCounts(part));
      long[] current = profiles.datePartCounts(f, part);
      for (int i = 0; i < training.length; i++) {
        fq.trainingCounts.add(training[i]);
        fq.counts.add(current[i]);
      }
      fq.count = sum(current);
      if (skipped == null && !covers(interval, part)) {
        skipped = "a " + interval.name().toLowerCase(java.util.Locale.ROOT) + " run sees only part of the "
            + part.name().toLowerCase(java.util.Locale.ROOT) + " cycle";
      }
      fq.driftSkipped = skipped;
      if (skipped == null && sum(training) > 0 && fq.count > 0) {
        fq.psi = Drift.psi(training, current);
        fq.jsDivergence = Drift.jensenShannon(training, current);
      }
      return fq;
    }

    /** Whether a run of {@code interval} sees {@code part}'s whole cycle (hours need a day, weekdays a week). */
    static boolean covers(RunInfo.Interval interval, DatePart part) {
      java.time.Duration length = interval.length();
      switch (part) {
        case HOUR:
          return length.compareTo(java.time.Duration.ofDays(1)) >= 0;
        case DAY_OF_WEEK:
          return length.compareTo(java.time.Duration.ofDays(7)) >= 0;
        default:
          return false; // days of the month and months need at least a month: no interval is that long
      }
    }

    /**
     * The training rows outside the vocabulary (the "other" bucket): read values that are neither
     * null, invalid nor one of the kept categories (e.g. below {@code topN} or the minimum frequency).
     */
    static long trainingOther(FeatureStats s) {
      long inVocabulary = 0;
      for (long c : s.vocabularyCounts()) {
        inVocabulary += c;
      }
      return Math.max(0, s.count() - s.nullCount() - s.invalidCount() - inVocabulary);
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
