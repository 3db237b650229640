package dev.batchserve.transforms.features;

import java.io.Serializable;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One input feature of a {@link FeatureSpec}: its type, validation, policy, imputation, transforms
 * and (when fitted) its training statistics. Built with {@link FeatureSpec#builder()}; read-only
 * from outside. Equal by value.
 *
 * <pre>{@code
 * Feature amount = spec.feature("amount");
 * double trainingNullRate = amount.stats().nullRate();
 * }</pre>
 */
public final class Feature implements Serializable {
  private static final long serialVersionUID = 1L;

  String name;
  FeatureType type;
  boolean required = true;
  InvalidPolicy onInvalid = InvalidPolicy.ERROR;
  @Nullable Double min;
  @Nullable Double max;
  @Nullable Boolean nanAsMissing;
  @Nullable Integer length;
  @Nullable List<String> vocabulary;
  @Nullable Integer vocabularyTopN;
  @Nullable Long vocabularyMinFrequency;
  @Nullable Integer histogramBins;
  /** False: the feature is profiled but never compared with training (no drift figures, no breaker). */
  @Nullable Boolean drift;
  @Nullable Imputation impute;
  List<Step> transforms = new ArrayList<>();
  @Nullable FeatureStats stats;
  /** A timestamp feature's text pattern ({@link FeatureSpecBuilder#format}); null: {@link InstantText}'s default forms. */
  @Nullable String format;

  private transient volatile @Nullable Map<String, Integer> vocabularyIndex;
  private transient volatile @Nullable DateTimeFormatter formatter;

  Feature() {}

  Feature(String name, FeatureType type) {
    this.name = name;
    this.type = type;
  }

  public String name() {
    return name;
  }

  public FeatureType type() {
    return type;
  }

  /** Whether a missing value is invalid ({@code missing_required}) rather than imputed. */
  public boolean required() {
    return required;
  }

  public InvalidPolicy onInvalid() {
    return onInvalid;
  }

  /** Smallest allowed value (numbers, list elements), or null. */
  public @Nullable Double min() {
    return min;
  }

  /** Largest allowed value, or null. */
  public @Nullable Double max() {
    return max;
  }

  /** The vocabulary (fixed in the template or fitted), or null. */
  public @Nullable List<String> vocabulary() {
    return vocabulary == null ? null : Collections.unmodifiableList(vocabulary);
  }

  public @Nullable Imputation imputation() {
    return impute;
  }

  public List<Step> transforms() {
    return Collections.unmodifiableList(transforms);
  }

  /** Training statistics; null in a template. */
  public @Nullable FeatureStats stats() {
    return stats;
  }

  /** Whether the feature is compared with training (drift); false after {@link FeatureSpecBuilder#noDrift()}. */
  public boolean driftChecked() {
    return drift == null || drift;
  }

  /** The date parts the model sees of this timestamp feature (its date-parts steps), in order; empty for others. */
  public List<DatePart> dateParts() {
    List<DatePart> parts = new ArrayList<>();
    for (Step step : transforms) {
      for (DatePart p : step.dateParts()) {
        if (!parts.contains(p)) {
          parts.add(p);
        }
      }
    }
    return parts;
  }

  /** The text pattern of a timestamp feature ({@link FeatureSpecBuilder#format}), or null for the default forms. */
  public @Nullable String format() {
    return format;
  }

  /** The compiled {@link #format()}, or null. */
  @Nullable DateTimeFormatter formatter() {
    DateTimeFormatter f = formatter;
    if (f == null && format != null) {
      f = InstantText.formatter(format);
      formatter = f;
    }
    return f;
  }

  Map<String, Integer> vocabularyIndex() {
    Map<String, Integer> index = vocabularyIndex;
    if (index == null) {
      index = new HashMap<>();
      for (int i = 0; i < vocabulary.size(); i++) {
        index.put(vocabulary.get(i), i);
      }
      vocabularyIndex = index;
    }
    return index;
  }

  /** Sets the fitted vocabulary (and drops the index of any earlier one). */
  void fitVocabulary(List<String> values) {
    vocabulary = values;
    vocabularyIndex = null;
  }

  /** The feature's output column names, or null when they depend on statistics not fitted yet. */
  @Nullable List<String> layout() {
    List<String> names = new ArrayList<>();
    String base = name;
    for (Step s : transforms) {
      if (!s.addNames(this, base, names)) {
        return null;
      }
      base = s.rewriteName(base);
    }
    if (impute != null && impute.indicator) {
      names.add(name + "_missing");
    }
    return names;
  }

  boolean needsVocabularyFit() {
    if (vocabulary != null) {
      return false;
    }
    for (Step s : transforms) {
      if (s.usesVocabulary()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Feature)) {
      return false;
    }
    Feature other = (Feature) o;
    return required == other.required
        && Objects.equals(name, other.name)
        && type == other.type
        && onInvalid == other.onInvalid
        && Objects.equals(min, other.min)
        && Objects.equals(max, other.max)
        && Objects.equals(nanAsMissing, other.nanAsMissing)
        && Objects.equals(length, other.length)
        && Objects.equals(vocabulary, other.vocabulary)
        && Objects.equals(vocabularyTopN, other.vocabularyTopN)
        && Objects.equals(vocabularyMinFrequency, other.vocabularyMinFrequency)
        && Objects.equals(histogramBins, other.histogramBins)
        && Objects.equals(drift, other.drift)
        && Objects.equals(impute, other.impute)
        && Objects.equals(transforms, other.transforms)
        && Objects.equals(stats, other.stats)
        && Objects.equals(format, other.format);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, required, onInvalid, min, max, nanAsMissing, length, vocabulary,
        vocabularyTopN, vocabularyMinFrequency, histogramBins, drift, impute, transforms, stats, format);
  }

  @Override
  public String toString() {
    return "Feature(" + name + ": " + (type == null ? null : type.json()) + ")";
  }
}
