package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the records of a run looked like to the model, per input feature of a fitted {@link
 * FeatureSpec}: rows, nulls (absent, null, blank, or NaN where the spec reads NaN as missing),
 * unreadable values, and the counts over the feature's training buckets (the histogram for
 * numeric features, the vocabulary plus one "other" bucket for categorical ones). Counts are made
 * from the very cells {@link FeatureSpec#transform} reads, so the quality report and the model see
 * the same values: a record is parsed once.
 *
 * <p>{@link FeatureTransform#withFeatureProfile()} makes one partial profile per bundle as it
 * encodes; {@link #combine()} merges them into the run's profile:
 *
 * <pre>{@code
 * FeatureTransform.Result<String> features =
 *     rows.apply(FeatureTransform.<String>of(spec).withFeatureProfile());
 * PCollection<FeatureProfile> runProfile = features.featureProfiles().apply(FeatureProfile.combine());
 * // or hand the partials to MeasureRunQuality.withFeatureProfiles(features.featureProfiles())
 * }</pre>
 */
public final class FeatureProfile implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Which training baseline a feature's values are counted against. */
  public enum Baseline {
    /** The training histogram's buckets. */
    NUMERIC,
    /** The vocabulary, then one bucket for every other value. */
    CATEGORICAL,
    /** No training statistics to compare with: only rows, nulls and unreadable values are counted. */
    NONE;

    /** The baseline of a fitted feature. */
    public static Baseline of(Feature f) {
      FeatureStats s = f.stats();
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

  /** Per feature: rows, nulls, unreadable. */
  private final Map<String, long[]> totals = new HashMap<>();
  /** Per feature with a baseline: counts per training bucket. */
  private final Map<String, long[]> counts = new HashMap<>();

  /** An empty profile (no rows). */
  public FeatureProfile() {}

  /**
   * Adds one record read the way {@link FeatureSpec#transform} reads it (the same parser), for a
   * pipeline that has rows but no {@link FeatureTransform} to profile them.
   */
  public FeatureProfile add(FeatureSpec spec, Map<String, ?> record) {
    for (Feature f : spec.features()) {
      boolean present = record.containsKey(f.name());
      add(f, FeatureValues.read(f, present, present ? record.get(f.name()) : null, true));
    }
    return this;
  }

  /** {@link #add(FeatureSpec, Map)} for a Beam Row (null: every feature absent), read as FeatureTransform reads it. */
  public FeatureProfile add(FeatureSpec spec, @Nullable Row row) {
    return add(spec, row == null ? Map.of() : FeatureTransform.asMap(row));
  }

  /** Counts one feature's cell as read (before any imputation). */
  void add(Feature f, FeatureValues.Cell c) {
    long[] t = totals.computeIfAbsent(f.name(), x -> new long[3]);
    t[0]++;
    if (c.missing || FeatureValues.MISSING_REQUIRED.equals(c.reason)) {
      t[1]++;
      return;
    }
    Baseline b = Baseline.of(f);
    if (b == Baseline.CATEGORICAL) {
      if (c.cat == null) {
        t[2]++;
        return;
      }
      List<String> vocabulary = f.vocabulary();
      Integer i = f.vocabularyIndex().get(c.cat);
      counts.computeIfAbsent(f.name(), x -> new long[vocabulary.size() + 1])[i == null ? vocabulary.size() : i]++;
    } else if (c.reason != null && !FeatureValues.OUT_OF_RANGE.equals(c.reason)
        && !FeatureValues.UNKNOWN_CATEGORY.equals(c.reason)) {
      t[2]++;
    } else if (b == Baseline.NUMERIC) {
      Histogram h = f.stats().histogram();
      counts.computeIfAbsent(f.name(), x -> new long[h.counts().size()])[h.bucketOf(c.num)]++;
      if (f.type() == FeatureType.TIMESTAMP && c.reason == null) {
        for (DatePart part : f.dateParts()) {
          if (f.stats().datePartCounts(part) != null) {
            counts.computeIfAbsent(FeatureFitting.datePartKey(f, part), x -> new long[part.cycle()])
                [part.bucketOf((long) c.num)]++;
          }
        }
      }
    }
  }

  /** Adds {@code other}'s counts to this profile. */
  public FeatureProfile merge(FeatureProfile other) {
    other.counts.forEach((k, v) -> {
      long[] mine = counts.get(k);
      if (mine == null) {
        counts.put(k, v.clone());
      } else {
        for (int i = 0; i < v.length; i++) {
          mine[i] += v[i];
        }
      }
    });
    other.totals.forEach((k, v) -> {
      long[] mine = totals.computeIfAbsent(k, x -> new long[3]);
      for (int i = 0; i < 3; i++) {
        mine[i] += v[i];
      }
    });
    return this;
  }

  /** Whether no record was counted. */
  public boolean isEmpty() {
    return totals.isEmpty();
  }

  /** Records in which the feature was read. */
  public long rows(String feature) {
    long[] t = totals.get(feature);
    return t == null ? 0 : t[0];
  }

  /** Records in which the feature was absent, null, blank (or NaN read as missing). */
  public long nulls(String feature) {
    long[] t = totals.get(feature);
    return t == null ? 0 : t[1];
  }

  /** Records whose value could not be read as the feature's type. */
  public long unreadable(String feature) {
    long[] t = totals.get(feature);
    return t == null ? 0 : t[2];
  }

  /**
   * Counts per training bucket (a copy): histogram buckets, or the vocabulary then "other"; an
   * array of zeros of that size when no value was counted; empty when the feature has no baseline.
   */
  public long[] bucketCounts(Feature f) {
    long[] c = counts.get(f.name());
    if (c != null) {
      return c.clone();
    }
    Baseline b = Baseline.of(f);
    return b == Baseline.NUMERIC ? new long[f.stats().histogram().counts().size()]
        : b == Baseline.CATEGORICAL ? new long[f.vocabulary().size() + 1] : new long[0];
  }

  /**
   * Counts per value of a timestamp feature's date part ({@link DatePart#cycle()}
   * buckets from {@link DatePart#first()}): what the model saw of the instants.
   */
  public long[] datePartCounts(Feature f, DatePart part) {
    long[] c = counts.get(FeatureFitting.datePartKey(f, part));
    return c != null ? c.clone() : new long[part.cycle()];
  }

  /** A new profile holding the counts of all {@code profiles}. */
  public static FeatureProfile mergeAll(Iterable<FeatureProfile> profiles) {
    FeatureProfile merged = new FeatureProfile();
    for (FeatureProfile p : profiles) {
      merged.merge(p);
    }
    return merged;
  }

  /** Merges partial profiles (e.g. one per bundle) into one; an empty input gives an empty profile. */
  public static Combine.CombineFn<FeatureProfile, FeatureProfile, FeatureProfile> combineFn() {
    return new MergeFn();
  }

  /** {@code Combine.globally(combineFn())}: the run's profile. */
  public static Combine.Globally<FeatureProfile, FeatureProfile> combine() {
    return Combine.globally(combineFn());
  }

  // equals/hashCode let a runner compare values (mutation and coder checks).
  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof FeatureProfile && same(counts, ((FeatureProfile) o).counts)
        && same(totals, ((FeatureProfile) o).totals);
  }

  @Override
  public int hashCode() {
    return counts.keySet().hashCode() * 31 + totals.keySet().hashCode();
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder("FeatureProfile{");
    totals.forEach((k, v) -> s.append(k).append('=').append(Arrays.toString(v))
        .append(counts.containsKey(k) ? Arrays.toString(counts.get(k)) : "").append(' '));
    return s.append('}').toString();
  }

  private static boolean same(Map<String, long[]> a, Map<String, long[]> b) {
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (Map.Entry<String, long[]> e : a.entrySet()) {
      if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static final class MergeFn extends Combine.CombineFn<FeatureProfile, FeatureProfile, FeatureProfile> {
    private static final long serialVersionUID = 1L;

    @Override
    public FeatureProfile createAccumulator() {
      return new FeatureProfile();
    }

    @Override
    public FeatureProfile addInput(FeatureProfile acc, FeatureProfile input) {
      return acc.merge(input);
    }

    @Override
    public FeatureProfile mergeAccumulators(Iterable<FeatureProfile> accs) {
      return mergeAll(accs);
    }

    @Override
    public FeatureProfile extractOutput(FeatureProfile acc) {
      return acc;
    }

    @Override
    public Coder<FeatureProfile> getAccumulatorCoder(CoderRegistry r, Coder<FeatureProfile> in) {
      return coder();
    }

    @Override
    public Coder<FeatureProfile> getDefaultOutputCoder(CoderRegistry r, Coder<FeatureProfile> in) {
      return coder();
    }
  }

  /** The coder of profiles (Java serialization: a profile is a few small arrays per feature). */
  public static Coder<FeatureProfile> coder() {
    return SerializableCoder.of(FeatureProfile.class);
  }
}
