package dev.batchserve.transforms.features;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Checks a whole spec (version, features, imputations, transforms, crosses, unique output names)
 * and computes its output layout, without changing it: messages name the feature and say what to
 * change. {@link FeatureSpec} stores the returned layout when it is built, read or fitted.
 *
 * <pre>{@code
 * List<String> layout = FeatureSpecCheck.layout(spec); // null: depends on statistics not fitted yet
 * }</pre>
 */
final class FeatureSpecCheck {
  private FeatureSpecCheck() {}

  /**
   * Throws {@link IllegalArgumentException} when {@code spec} is not valid; otherwise returns its
   * output layout, or null when the layout depends on statistics a template has not fitted yet.
   */
  static @Nullable List<String> layout(FeatureSpec spec) {
    if (spec.version != 1) {
      throw new IllegalArgumentException("unsupported feature spec version " + spec.version);
    }
    if (spec.features == null || spec.features.isEmpty()) {
      throw new IllegalArgumentException("a feature spec needs at least one feature");
    }
    Set<String> names = new HashSet<>();
    for (Feature f : spec.features) {
      checkFeature(f, spec.fitted);
      if (!names.add(f.name)) {
        throw new IllegalArgumentException("duplicate feature '" + f.name + "'");
      }
    }
    List<Cross> crosses = spec.crosses == null ? List.of() : spec.crosses;
    Set<String> crossNames = new HashSet<>();
    for (Cross c : crosses) {
      if (c.features == null || c.features.size() < 2) {
        throw new IllegalArgumentException("cross '" + c.name + "' needs at least two features");
      }
      for (String name : c.features) {
        Feature f = spec.feature(name);
        if (!f.type.isCategorical()) {
          throw new IllegalArgumentException(
              "cross '" + c.name + "': feature '" + name + "' is " + f.type.json()
                  + ", crosses need string, long or boolean features");
        }
      }
      if (c.buckets <= 0) {
        throw new IllegalArgumentException(
            "cross '" + c.name + "': buckets must be > 0, but was " + c.buckets);
      }
      if (c.name == null || !crossNames.add(c.name)) {
        throw new IllegalArgumentException("cross names must be set and unique: " + c.name);
      }
    }
    List<String> layout = new ArrayList<>();
    for (Feature f : spec.features) {
      List<String> l = f.layout();
      if (l == null) {
        if (spec.fitted) {
          throw new IllegalArgumentException("a fitted spec must have a complete output layout");
        }
        return null;
      }
      layout.addAll(l);
    }
    for (Cross c : crosses) {
      for (int i = 0; i < c.buckets; i++) {
        layout.add(c.name + "_" + i);
      }
    }
    Set<String> seen = new HashSet<>();
    for (String name : layout) {
      if (!seen.add(name)) {
        throw new IllegalArgumentException("output name '" + name + "' appears twice; rename one with as(...)");
      }
    }
    return layout;
  }

  private static void checkFeature(Feature f, boolean fitted) {
    if (f.name == null || f.name.isEmpty()) {
      throw new IllegalArgumentException("every feature needs a name");
    }
    String n = "feature '" + f.name + "': ";
    if (f.type == null) {
      throw new IllegalArgumentException(n + "type is required");
    }
    if (f.format != null) {
      if (f.type != FeatureType.TIMESTAMP) {
        throw new IllegalArgumentException(n + "a format is for timestamp features, not " + f.type.json());
      }
      try {
        InstantText.formatter(f.format);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(n + e.getMessage(), e);
      }
    }
    if (f.min != null && f.max != null && f.min > f.max) {
      throw new IllegalArgumentException(n + "min " + f.min + " is above max " + f.max);
    }
    if (f.type == FeatureType.LIST && (f.length == null || f.length <= 0)) {
      throw new IllegalArgumentException(n + "a list feature needs a length > 0, but was " + f.length);
    }
    if (!f.required && f.impute == null) {
      throw new IllegalArgumentException(
          n + "is optional, so it needs an imputation (imputeMean, imputeMedian, imputeMode or"
              + " imputeConstant)");
    }
    if (f.impute != null) {
      checkImputation(n, f, fitted);
    }
    if (f.vocabularyTopN != null && f.vocabularyTopN <= 0) {
      throw new IllegalArgumentException(n + "topN must be > 0, but was " + f.vocabularyTopN);
    }
    if (f.histogramBins != null && f.histogramBins <= 0) {
      throw new IllegalArgumentException(n + "histogramBins must be > 0, but was " + f.histogramBins);
    }
    for (Step s : f.transforms) {
      if (s == null) {
        throw new IllegalArgumentException(n + "every transform needs a kind");
      }
      s.check(n + s.kind().json() + " ", f, fitted);
    }
  }

  private static void checkImputation(String n, Feature f, boolean fitted) {
    Imputation im = f.impute;
    if (im.strategy == null) {
      throw new IllegalArgumentException(n + "imputation needs a strategy");
    }
    if (f.type == FeatureType.LIST) {
      throw new IllegalArgumentException(n + "list features cannot be imputed; make it required");
    }
    if ((im.strategy == ImputeStrategy.MEAN || im.strategy == ImputeStrategy.MEDIAN)
        && !(f.type == FeatureType.DOUBLE || f.type == FeatureType.LONG || f.type == FeatureType.TIMESTAMP)) {
      throw new IllegalArgumentException(
          n + im.strategy.name().toLowerCase(Locale.ROOT) + " imputation needs a numeric feature, but it is "
              + f.type.json());
    }
    if (im.strategy == ImputeStrategy.CONSTANT && im.value == null) {
      throw new IllegalArgumentException(n + "constant imputation needs a value");
    }
    if (im.value != null) {
      FeatureValues.ofStored(f, im.value); // throws when the constant is not of the type
    } else if (fitted) {
      throw new IllegalArgumentException(n + "a fitted spec needs the imputation value");
    }
  }
}
