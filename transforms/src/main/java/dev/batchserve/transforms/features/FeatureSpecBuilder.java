package dev.batchserve.transforms.features;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Builds a template feature by feature. A type method ({@code numeric}, {@code integer}, {@code
 * categorical}, {@code bool}, {@code timestamp}, {@code list}) starts a feature; the methods after
 * it configure that feature, transforms in the order written. Each method checks its argument at
 * once.
 *
 * <pre>{@code
 * FeatureSpec template = FeatureSpec.builder()
 *     .numeric("amount").range(0, 1e7).log1p().zscore()
 *     .categorical("country").vocabulary().oneHot(1)
 *     .build();
 * }</pre>
 */
public final class FeatureSpecBuilder {
  private final FeatureSpec spec = new FeatureSpec();
  private @Nullable Feature current;
  private @Nullable Step last;

  FeatureSpecBuilder() {}

  /** Starts a {@code double} feature. */
  public FeatureSpecBuilder numeric(String name) {
    return feature(name, FeatureType.DOUBLE);
  }

  /** Starts a {@code long} feature. */
  public FeatureSpecBuilder integer(String name) {
    return feature(name, FeatureType.LONG);
  }

  /** Starts a {@code string} feature. */
  public FeatureSpecBuilder categorical(String name) {
    return feature(name, FeatureType.STRING);
  }

  /** Starts a {@code boolean} feature (1/0; "true"/"false"/"1"/"0" as text). */
  public FeatureSpecBuilder bool(String name) {
    return feature(name, FeatureType.BOOLEAN);
  }

  /** Starts a {@code timestamp} feature. */
  public FeatureSpecBuilder timestamp(String name) {
    return feature(name, FeatureType.TIMESTAMP);
  }

  /** Starts a fixed-length numeric {@code list} feature. */
  public FeatureSpecBuilder list(String name, int length) {
    if (length <= 0) {
      throw new IllegalArgumentException("list length must be > 0, but was " + length);
    }
    feature(name, FeatureType.LIST);
    current.length = length;
    return this;
  }

  /** Starts a feature of any type. */
  public FeatureSpecBuilder feature(String name, FeatureType type) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("feature name must be non-empty, but was '" + name + "'");
    }
    current = new Feature(name, type);
    last = null;
    spec.features.add(current);
    return this;
  }

  /** Missing values are invalid ({@code missing_required}); the default. */
  public FeatureSpecBuilder required() {
    current().required = true;
    return this;
  }

  /** Missing values (absent, null, blank) are imputed; needs an impute method. */
  public FeatureSpecBuilder optional() {
    current().required = false;
    return this;
  }

  /** Same as {@link #optional()}: null is an allowed value, and is imputed. */
  public FeatureSpecBuilder nullable() {
    return optional();
  }

  /** Allowed values: outside {@code [min, max]} is {@code out_of_range}. */
  public FeatureSpecBuilder range(double min, double max) {
    if (!(min <= max)) {
      throw new IllegalArgumentException("range min must be <= max, but was [" + min + ", " + max + "]");
    }
    current().min = min;
    current().max = max;
    return this;
  }

  public FeatureSpecBuilder min(double min) {
    current().min = min;
    return this;
  }

  public FeatureSpecBuilder max(double max) {
    current().max = max;
    return this;
  }

  /** What happens to records with an invalid value for this feature (default {@code ERROR}). */
  public FeatureSpecBuilder onInvalid(InvalidPolicy policy) {
    if (policy == null) {
      throw new IllegalArgumentException("policy must not be null");
    }
    current().onInvalid = policy;
    return this;
  }

  /**
   * Profiles the current feature but never compares it with training: no drift figures, and the
   * circuit breaker's drift limits skip it (e.g. an id-like or a seasonal feature whose shift is
   * expected). Written as {@code "drift": false} in the spec file.
   *
   * <pre>{@code
   * FeatureSpec.builder().numeric("days_since_signup").zscore().noDrift();
   * }</pre>
   */
  public FeatureSpecBuilder noDrift() {
    current().drift = false;
    return this;
  }

  /** Treats NaN as missing rather than {@code not_finite} (infinities stay invalid). */
  public FeatureSpecBuilder nanAsMissing() {
    current().nanAsMissing = true;
    return this;
  }

  public FeatureSpecBuilder imputeMean() {
    return impute(ImputeStrategy.MEAN, null);
  }

  public FeatureSpecBuilder imputeMedian() {
    return impute(ImputeStrategy.MEDIAN, null);
  }

  public FeatureSpecBuilder imputeMode() {
    return impute(ImputeStrategy.MODE, null);
  }

  /** Imputes a fixed value, given as the feature's type or as text. */
  public FeatureSpecBuilder imputeConstant(Object value) {
    if (value == null) {
      throw new IllegalArgumentException("constant imputation value must not be null");
    }
    return impute(ImputeStrategy.CONSTANT, value);
  }

  /** Adds a {@code <name>_missing} column: 1 when the value was imputed, else 0. */
  public FeatureSpecBuilder withMissingIndicator() {
    if (current().impute == null) {
      throw new IllegalStateException(
          "withMissingIndicator() comes after an impute method on '" + current.name + "'");
    }
    current.impute.indicator = true;
    return this;
  }

  private FeatureSpecBuilder impute(ImputeStrategy strategy, @Nullable Object value) {
    boolean indicator = current().impute != null && current.impute.indicator;
    current.impute = new Imputation(strategy, value);
    current.impute.indicator = indicator;
    return this;
  }

  /** The vocabulary is fitted from training data (use {@link #topN}, {@link #minFrequency}). */
  public FeatureSpecBuilder vocabulary() {
    current().vocabulary = null;
    return this;
  }

  /** A fixed vocabulary: not fitted; other values are {@code unknown_category}. */
  public FeatureSpecBuilder vocabulary(List<String> values) {
    if (values == null || new HashSet<>(values).size() != values.size()) {
      throw new IllegalArgumentException("vocabulary must be non-null without duplicates: " + values);
    }
    current().vocabulary = new ArrayList<>(values);
    return this;
  }

  /** Keeps the {@code n} most frequent values (ties by value). */
  public FeatureSpecBuilder topN(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("topN must be > 0, but was " + n);
    }
    current().vocabularyTopN = n;
    return this;
  }

  /** Keeps values seen at least {@code count} times. */
  public FeatureSpecBuilder minFrequency(long count) {
    if (count <= 0) {
      throw new IllegalArgumentException("minFrequency must be > 0, but was " + count);
    }
    current().vocabularyMinFrequency = count;
    return this;
  }

  /** Buckets of the training histogram (default 10). */
  public FeatureSpecBuilder histogramBins(int bins) {
    if (bins <= 0) {
      throw new IllegalArgumentException("histogramBins must be > 0, but was " + bins);
    }
    current().histogramBins = bins;
    return this;
  }

  /** Clips the value into {@code [lower, upper]} for the transforms after it. */
  public FeatureSpecBuilder clip(double lower, double upper) {
    if (!(lower <= upper)) {
      throw new IllegalArgumentException("clip lower must be <= upper, but was [" + lower + ", " + upper + "]");
    }
    return step(new ClipStep(lower, upper));
  }

  /** Replaces the value by {@code log(1 + x)} for the transforms after it; needs x > -1. */
  public FeatureSpecBuilder log1p() {
    return step(new Log1pStep());
  }

  /** Emits the current value (or every element of a list). */
  public FeatureSpecBuilder passthrough() {
    return step(new PassthroughStep());
  }

  /** Emits {@code (x - mean) / std} with training mean and population std. */
  public FeatureSpecBuilder zscore() {
    return step(new ZScoreStep());
  }

  /** Emits {@code (x - min) / (max - min)} with training min and max. */
  public FeatureSpecBuilder minMax() {
    return step(new MinMaxStep());
  }

  /** One-hot of the bucket between fixed, strictly increasing boundaries. */
  public FeatureSpecBuilder bucketize(double... boundaries) {
    if (boundaries.length == 0) {
      throw new IllegalArgumentException("bucketize needs at least one boundary");
    }
    BucketizeStep s = new BucketizeStep();
    s.boundaries = new ArrayList<>();
    for (double b : boundaries) {
      s.boundaries.add(b);
    }
    return step(s);
  }

  /** One-hot of {@code n} training-quantile buckets (boundaries fitted). */
  public FeatureSpecBuilder quantileBuckets(int n) {
    if (n < 2) {
      throw new IllegalArgumentException("quantileBuckets needs n >= 2, but was " + n);
    }
    BucketizeStep s = new BucketizeStep();
    s.numBuckets = n;
    return step(s);
  }

  /** Makes the preceding bucketize emit the bucket index (one column) instead of a one-hot. */
  public FeatureSpecBuilder asBucketIndex() {
    if (!(last instanceof BucketizeStep)) {
      throw new IllegalStateException("asBucketIndex() must follow bucketize or quantileBuckets");
    }
    ((BucketizeStep) last).index = true;
    return this;
  }

  /** One-hot over the vocabulary, no OOV bucket (unknown values are all zeros under keep). */
  public FeatureSpecBuilder oneHot() {
    return oneHot(0);
  }

  /** One-hot over the vocabulary plus {@code oovBuckets} hashed out-of-vocabulary buckets. */
  public FeatureSpecBuilder oneHot(int oovBuckets) {
    if (oovBuckets < 0) {
      throw new IllegalArgumentException("oovBuckets must be >= 0, but was " + oovBuckets);
    }
    return step(new OneHotStep(oovBuckets));
  }

  /** One-hot of {@link StableHash} bucket of the value, {@code buckets} columns. */
  public FeatureSpecBuilder hash(int buckets) {
    if (buckets <= 0) {
      throw new IllegalArgumentException("hash buckets must be > 0, but was " + buckets);
    }
    return step(new HashStep(buckets));
  }

  /**
   * The text form of the current timestamp feature's CSV, JSON and BigQuery values: a
   * {@link java.time.format.DateTimeFormatter} pattern (locale {@code ROOT}), read in UTC when it
   * has no zone or offset. Text that does not match is {@code unparsable}, handled by the feature's
   * {@link #onInvalid} policy. Typed values (Parquet and JDBC timestamps) ignore it. Without a format
   * the forms of {@link InstantText} are read (ISO-8601, BigQuery's text, epoch milliseconds).
   *
   * <pre>{@code
   * FeatureSpec.builder().timestamp("ts").format("yyyy-MM-dd HH:mm:ss").dateParts(DatePart.HOUR);
   * }</pre>
   */
  public FeatureSpecBuilder format(String pattern) {
    Feature f = current();
    if (f.type != FeatureType.TIMESTAMP) {
      throw new IllegalStateException("format(\"" + pattern + "\") is for a timestamp feature, but '" + f.name
          + "' is " + f.type.json() + ": declare it with timestamp(\"" + f.name + "\")");
    }
    InstantText.formatter(pattern);
    f.format = pattern;
    return this;
  }

  /** Emits the given calendar parts (UTC) of a timestamp, one column each. */
  public FeatureSpecBuilder dateParts(DatePart... parts) {
    if (parts.length == 0) {
      throw new IllegalArgumentException("dateParts needs at least one part");
    }
    return step(new DatePartsStep(Arrays.asList(parts)));
  }

  /** Names the preceding transform's output column (or prefix, for multi-column outputs). */
  public FeatureSpecBuilder as(String outputName) {
    if (last == null) {
      throw new IllegalStateException("as(\"" + outputName + "\") must follow a transform");
    }
    if (outputName == null || outputName.isEmpty()) {
      throw new IllegalArgumentException("output name must be non-empty");
    }
    last.output = outputName;
    return this;
  }

  /** A hashed cross named {@code a_x_b}, one-hot over {@code buckets}. */
  public FeatureSpecBuilder cross(int buckets, String... featureNames) {
    return crossNamed(String.join("_x_", featureNames), buckets, featureNames);
  }

  public FeatureSpecBuilder crossNamed(String name, int buckets, String... featureNames) {
    if (buckets <= 0) {
      throw new IllegalArgumentException("cross buckets must be > 0, but was " + buckets);
    }
    if (featureNames.length < 2) {
      throw new IllegalArgumentException("a cross needs at least two features");
    }
    Cross c = new Cross();
    c.name = name;
    c.buckets = buckets;
    c.features.addAll(Arrays.asList(featureNames));
    spec.crosses.add(c);
    current = null;
    last = null;
    return this;
  }

  /** Checks the whole template (combinations, unique outputs) and returns it. */
  public FeatureSpec build() {
    return FeatureSpec.checked(FeatureSpecJson.copy(spec));
  }

  private Feature current() {
    if (current == null) {
      throw new IllegalStateException("declare a feature first, e.g. numeric(\"amount\")");
    }
    return current;
  }

  private FeatureSpecBuilder step(Step step) {
    current().transforms.add(step);
    last = step;
    return this;
  }
}
