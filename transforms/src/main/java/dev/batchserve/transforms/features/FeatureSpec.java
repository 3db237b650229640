package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import dev.batchserve.transforms.features.FeatureValues.Cell;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The one description of how raw records become model inputs: ordered input features with their
 * types, validation rules, invalid-value policy, imputation and transforms, plus (once fitted) the
 * training statistics those transforms need and the output vector layout. Training code and the
 * serving pipeline both call {@link #transform(Map)}, so they cannot disagree (no training/serving
 * skew).
 *
 * <p>A spec starts as a template from {@link #builder()}, is fitted on training rows with {@link
 * #fit} (plain Java) or {@link AnalyzeFeatures} (Beam), and is saved next to the model as JSON:
 *
 * <pre>{@code
 * FeatureSpec template = FeatureSpec.builder()
 *     .numeric("amount").range(0, 1e7).clip(0, 1e5).log1p().zscore()
 *     .integer("age").optional().imputeMedian().withMissingIndicator().minMax()
 *     .categorical("country").vocabulary().topN(50).oneHot(2).onInvalid(FeatureSpec.Policy.KEEP)
 *     .categorical("device").hash(8)
 *     .timestamp("ts").dateParts(FeatureSpec.DatePart.HOUR, FeatureSpec.DatePart.DAY_OF_WEEK)
 *     .cross(16, "country", "device")
 *     .build();
 * FeatureSpec spec = FeatureSpec.fit(template, trainingRows);
 * spec.write("gs://bucket/models/v7/feature_spec.json");
 * float[] x = spec.transform(Map.of("amount", 12.5, ...)).vector();
 * }</pre>
 *
 * <p>Semantics worth knowing:
 *
 * <ul>
 *   <li>A value is missing when its column is absent, null, or a blank string. Missing values of a
 *       {@code required} feature are invalid ({@code missing_required}); optional features are
 *       imputed.
 *   <li>Transforms run in order. {@code clip} and {@code log1p} rewrite the value; every other
 *       transform appends columns computed from the current value, so {@code clip, log1p, zscore}
 *       standardises the clipped log. Statistics for a transform are fitted on the valid,
 *       non-imputed training values as they reach that transform.
 *   <li>{@code zscore} is {@code (x - mean) / std} with the population std (0 when std is 0);
 *       {@code minmax} is {@code (x - min) / (max - min)} (0 when max == min); {@code bucketize}
 *       puts x in bucket {@code i} = number of boundaries {@code <= x}.
 *   <li>Invalid-value policy: {@code error} makes a dead letter, {@code skip} drops the record
 *       (counted, reported as skipped), {@code keep} routes unknown categories to OOV buckets and
 *       imputes other invalid values (a feature without imputation falls back to {@code error}).
 *       A missing required feature is never kept (under {@code skip} it is skipped).
 *   <li>Hashing (OOV buckets, {@code hash}, crosses) uses {@code StableHash}: 64-bit FNV-1a of the
 *       UTF-8 text, unsigned modulo the bucket count. Crosses hash the category texts joined by
 *       {@code U+0001}.
 *   <li>Timestamps are epoch millis, ISO-8601 text, {@code java.time.Instant} or Joda instants;
 *       date parts are taken in UTC.
 * </ul>
 */
@DefaultCoder(FeatureSpec.FeatureSpecCoder.class)
public final class FeatureSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter PRETTY;

  static {
    JSON.setVisibility(PropertyAccessor.ALL, Visibility.NONE);
    JSON.setVisibility(PropertyAccessor.FIELD, Visibility.ANY);
    JSON.setVisibility(PropertyAccessor.CREATOR, Visibility.ANY);
    JSON.setSerializationInclusion(JsonInclude.Include.NON_NULL);
    JSON.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter();
    // A fixed "\n" so the file is byte-identical whichever OS wrote it.
    DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
    printer.indentObjectsWith(indenter);
    printer.indentArraysWith(indenter);
    PRETTY = JSON.writer(printer);
  }

  /**
   * Declared type of an input feature; values arriving as text (CSV) are parsed to it.
   *
   * <pre>{@code
   * FeatureSpec.builder().feature("clicks", FeatureSpec.Type.LONG).passthrough();
   * }</pre>
   */
  public enum Type {
    @JsonProperty("double") DOUBLE,
    @JsonProperty("long") LONG,
    @JsonProperty("string") STRING,
    @JsonProperty("boolean") BOOLEAN,
    @JsonProperty("timestamp") TIMESTAMP,
    @JsonProperty("list") LIST;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    boolean isNumeric() {
      return this == DOUBLE || this == LONG || this == BOOLEAN || this == TIMESTAMP;
    }

    boolean isCategorical() {
      return this == STRING || this == LONG || this == BOOLEAN;
    }
  }

  /**
   * What to do with a record whose value for a feature is invalid.
   *
   * <pre>{@code
   * FeatureSpec.builder().categorical("country").oneHot(2).onInvalid(FeatureSpec.Policy.KEEP);
   * }</pre>
   */
  public enum Policy {
    /** The record becomes a dead letter. */
    @JsonProperty("error") ERROR,
    /** The record is dropped and reported on the skipped output. */
    @JsonProperty("skip") SKIP,
    /** Unknown categories go to OOV buckets; other invalid values are imputed. */
    @JsonProperty("keep") KEEP
  }

  /**
   * How a missing (or kept invalid) value is replaced.
   *
   * <pre>{@code
   * FeatureSpec.ImputeStrategy s = spec.feature("age").imputation().strategy();
   * }</pre>
   */
  public enum ImputeStrategy {
    @JsonProperty("mean") MEAN,
    @JsonProperty("median") MEDIAN,
    @JsonProperty("mode") MODE,
    @JsonProperty("constant") CONSTANT
  }

  /**
   * The kind of one transform step, as written in the JSON {@code "kind"} field.
   *
   * <pre>{@code
   * boolean scaled = spec.feature("amount").transforms().get(0).kind() == FeatureSpec.StepKind.ZSCORE;
   * }</pre>
   */
  public enum StepKind {
    @JsonProperty("passthrough") PASSTHROUGH,
    @JsonProperty("zscore") ZSCORE,
    @JsonProperty("minmax") MINMAX,
    @JsonProperty("log1p") LOG1P,
    @JsonProperty("clip") CLIP,
    @JsonProperty("bucketize") BUCKETIZE,
    @JsonProperty("onehot") ONEHOT,
    @JsonProperty("hash") HASH,
    @JsonProperty("dateparts") DATEPARTS
  }

  /**
   * A calendar part of a timestamp, in UTC.
   *
   * <pre>{@code
   * FeatureSpec.builder().timestamp("ts").dateParts(FeatureSpec.DatePart.HOUR, FeatureSpec.DatePart.DAY_OF_WEEK);
   * }</pre>
   */
  public enum DatePart {
    /** 0..23. */
    @JsonProperty("hour") HOUR,
    /** 1 (Monday) .. 7 (Sunday), ISO-8601. */
    @JsonProperty("day_of_week") DAY_OF_WEEK,
    /** 1..31. */
    @JsonProperty("day_of_month") DAY_OF_MONTH,
    /** 1..12. */
    @JsonProperty("month") MONTH;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The part's value at {@code t}, as the model sees it. */
    int valueAt(ZonedDateTime t) {
      switch (this) {
        case HOUR:
          return t.getHour();
        case DAY_OF_WEEK:
          return t.getDayOfWeek().getValue();
        case DAY_OF_MONTH:
          return t.getDayOfMonth();
        case MONTH:
          return t.getMonthValue();
        default:
          throw new IllegalStateException("unhandled date part " + this);
      }
    }

    /** The smallest value (0 for hours, 1 otherwise). */
    public int first() {
      return this == HOUR ? 0 : 1;
    }

    /** How many values the part takes (24, 7, 31, 12): the buckets of its training counts. */
    public int cycle() {
      switch (this) {
        case HOUR:
          return 24;
        case DAY_OF_WEEK:
          return 7;
        case DAY_OF_MONTH:
          return 31;
        case MONTH:
          return 12;
        default:
          throw new IllegalStateException("unhandled date part " + this);
      }
    }

    /** The bucket (0 .. cycle - 1) of the instant {@code epochMillis}, in UTC. */
    public int bucketOf(long epochMillis) {
      return valueAt(Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC)) - first();
    }
  }

  int version = 1;
  boolean fitted;
  List<Feature> features = new ArrayList<>();
  List<Cross> crosses = new ArrayList<>();
  /** The output layout; null while it depends on statistics not fitted yet. */
  @Nullable List<String> outputs;

  private transient volatile int @Nullable [] widths;

  FeatureSpec() {}

  // ---------------------------------------------------------------------------------------------
  // Model classes (plain data; Jackson reads and writes their fields).

  /**
   * One input feature: its type, validation, policy, imputation, transforms and (when fitted) its
   * training statistics. Built with {@link FeatureSpec#builder()}; read-only from outside.
   *
   * <pre>{@code
   * FeatureSpec.Feature amount = spec.feature("amount");
   * double trainingNullRate = amount.stats().nullRate();
   * }</pre>
   */
  public static final class Feature implements Serializable {
    private static final long serialVersionUID = 1L;

    String name;
    Type type;
    boolean required = true;
    Policy onInvalid = Policy.ERROR;
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
    @Nullable Stats stats;
    /** A timestamp feature's text pattern ({@link Builder#format}); null: {@link InstantText}'s default forms. */
    @Nullable String format;

    private transient volatile @Nullable Map<String, Integer> vocabularyIndex;
    private transient volatile java.time.format.@Nullable DateTimeFormatter formatter;

    Feature() {}

    Feature(String name, Type type) {
      this.name = name;
      this.type = type;
    }

    public String name() {
      return name;
    }

    public Type type() {
      return type;
    }

    /** Whether a missing value is invalid ({@code missing_required}) rather than imputed. */
    public boolean required() {
      return required;
    }

    public Policy onInvalid() {
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
    public @Nullable Stats stats() {
      return stats;
    }

    /** Whether the feature is compared with training (drift); false after {@link Builder#noDrift()}. */
    public boolean driftChecked() {
      return drift == null || drift;
    }

    /** The date parts the model sees of this timestamp feature (its date-parts steps), in order; empty for others. */
    public List<DatePart> dateParts() {
      List<DatePart> parts = new ArrayList<>();
      for (Step step : transforms) {
        if (step.kind == StepKind.DATEPARTS && step.parts != null) {
          for (DatePart p : step.parts) {
            if (!parts.contains(p)) {
              parts.add(p);
            }
          }
        }
      }
      return parts;
    }

    /** The text pattern of a timestamp feature ({@link Builder#format}), or null for the default forms. */
    public @Nullable String format() {
      return format;
    }

    /** The compiled {@link #format()}, or null. */
    java.time.format.@Nullable DateTimeFormatter formatter() {
      java.time.format.DateTimeFormatter f = formatter;
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

    boolean needsVocabularyFit() {
      if (vocabulary != null) {
        return false;
      }
      for (Step s : transforms) {
        if (s.kind == StepKind.ONEHOT) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * How a feature's missing values are filled. {@code value} is fitted for mean/median/mode and
   * given for constant; {@code indicator} adds a {@code <name>_missing} column (1 when imputed).
   *
   * <pre>{@code
   * Object fill = spec.feature("age").imputation().value();
   * }</pre>
   */
  public static final class Imputation implements Serializable {
    private static final long serialVersionUID = 1L;

    ImputeStrategy strategy;
    @Nullable Object value;
    boolean indicator;

    Imputation() {}

    Imputation(ImputeStrategy strategy, @Nullable Object value) {
      this.strategy = strategy;
      this.value = value;
    }

    public ImputeStrategy strategy() {
      return strategy;
    }

    public @Nullable Object value() {
      return value;
    }

    public boolean indicator() {
      return indicator;
    }
  }

  /**
   * One transform of a feature with its parameters; fitted parameters ({@code mean}, {@code std},
   * {@code min}, {@code max}, {@code boundaries}) are filled by fitting. {@code output} overrides
   * the output column name (or prefix, for multi-column transforms).
   *
   * <pre>{@code
   * FeatureSpec.Step z = spec.feature("amount").transforms().get(2);
   * double mean = z.mean();
   * }</pre>
   */
  public static final class Step implements Serializable {
    private static final long serialVersionUID = 1L;

    StepKind kind;
    @Nullable String output;
    @Nullable Double lower;
    @Nullable Double upper;
    @Nullable Integer numBuckets;
    @Nullable List<Double> boundaries;
    @Nullable Boolean index;
    @Nullable Integer oovBuckets;
    @Nullable Integer buckets;
    @Nullable List<DatePart> parts;
    @Nullable Double mean;
    @Nullable Double std;
    @Nullable Double min;
    @Nullable Double max;

    Step() {}

    Step(StepKind kind) {
      this.kind = kind;
    }

    public StepKind kind() {
      return kind;
    }

    public @Nullable String output() {
      return output;
    }

    public @Nullable Double mean() {
      return mean;
    }

    public @Nullable Double std() {
      return std;
    }

    public @Nullable Double min() {
      return min;
    }

    public @Nullable Double max() {
      return max;
    }

    public @Nullable List<Double> boundaries() {
      return boundaries == null ? null : Collections.unmodifiableList(boundaries);
    }

    boolean needsStats() {
      return (kind == StepKind.ZSCORE || kind == StepKind.MINMAX)
          || (kind == StepKind.BUCKETIZE && boundaries == null);
    }
  }

  /**
   * Training statistics of one feature, kept for imputation, auditing and drift detection: row
   * count, null and invalid counts, null rate, and for numeric features mean, population std, min,
   * max, median and an equal-width histogram; the mode and vocabulary counts where fitted.
   *
   * <pre>{@code
   * FeatureSpec.Stats s = spec.feature("amount").stats();
   * List<Long> trainingCounts = s.histogram().counts();
   * }</pre>
   */
  public static final class Stats implements Serializable {
    private static final long serialVersionUID = 1L;

    long count;
    long nullCount;
    long invalidCount;
    double nullRate;
    @Nullable Double mean;
    @Nullable Double std;
    @Nullable Double min;
    @Nullable Double max;
    @Nullable Double median;
    @Nullable Object mode;
    @Nullable List<Long> vocabularyCounts;
    @Nullable Histogram histogram;
    /** Training counts per value of each date part the model sees (timestamps with date parts). */
    @Nullable Map<DatePart, List<Long>> datePartCounts;

    public long count() {
      return count;
    }

    public long nullCount() {
      return nullCount;
    }

    public long invalidCount() {
      return invalidCount;
    }

    public double nullRate() {
      return nullRate;
    }

    public @Nullable Double mean() {
      return mean;
    }

    public @Nullable Double std() {
      return std;
    }

    public @Nullable Double min() {
      return min;
    }

    public @Nullable Double max() {
      return max;
    }

    public @Nullable Double median() {
      return median;
    }

    public @Nullable Object mode() {
      return mode;
    }

    /** Training counts of {@link Feature#vocabulary()}, same order. */
    public @Nullable List<Long> vocabularyCounts() {
      return vocabularyCounts;
    }

    public @Nullable Histogram histogram() {
      return histogram;
    }

    /**
     * Training counts of {@code part}'s values ({@link DatePart#cycle()} buckets from {@link
     * DatePart#first()}), or null when the feature has no such part or the spec was fitted before
     * date parts were counted.
     */
    public @Nullable List<Long> datePartCounts(DatePart part) {
      return datePartCounts == null ? null : datePartCounts.get(part);
    }
  }

  /**
   * An equal-width training histogram: {@code edges.size() == counts.size() + 1}; the last bucket
   * includes its upper edge.
   *
   * <pre>{@code
   * Histogram h = spec.feature("amount").stats().histogram();
   * }</pre>
   */
  public static final class Histogram implements Serializable {
    private static final long serialVersionUID = 1L;

    List<Double> edges = new ArrayList<>();
    List<Long> counts = new ArrayList<>();

    public List<Double> edges() {
      return Collections.unmodifiableList(edges);
    }

    public List<Long> counts() {
      return Collections.unmodifiableList(counts);
    }

    /**
     * The bucket of {@code x}, binned exactly as the training counts were (values outside the
     * training range go to the first or last bucket), so serving counts compare bucket by bucket.
     */
    public int bucketOf(double x) {
      return equalWidthBucket(edges.get(0), edges.get(edges.size() - 1), counts.size(), x);
    }

    static int equalWidthBucket(double min, double max, int bins, double x) {
      double range = max - min;
      if (!(range > 0)) {
        return 0;
      }
      int bucket = (int) Math.floor((x - min) / range * bins);
      return Math.max(0, Math.min(bins - 1, bucket));
    }
  }

  /**
   * A hashed cross of categorical features: one-hot of {@code bucket(join(values, U+0001))}.
   *
   * <pre>{@code
   * FeatureSpec.Cross c = spec.crosses().get(0);
   * }</pre>
   */
  public static final class Cross implements Serializable {
    private static final long serialVersionUID = 1L;

    String name;
    List<String> features = new ArrayList<>();
    int buckets;

    Cross() {}

    public String name() {
      return name;
    }

    public List<String> features() {
      return Collections.unmodifiableList(features);
    }

    public int buckets() {
      return buckets;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Public API.

  /** Starts a template; see the class documentation for an example. */
  public static Builder builder() {
    return new Builder();
  }

  /** Parses a spec written by {@link #toJson()}; checks it and its stored layout. */
  public static FeatureSpec fromJson(String json) {
    FeatureSpec spec;
    try {
      spec = JSON.readValue(json, FeatureSpec.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid feature spec JSON: " + e.getMessage(), e);
    }
    List<String> stored = spec.outputs;
    spec.check();
    if (stored != null && !stored.equals(spec.outputs)) {
      throw new IllegalArgumentException(
          "the spec's 'outputs' " + stored + " do not match its features, which produce "
              + spec.outputs);
    }
    return spec;
  }

  /** Stable pretty JSON: fields in a fixed order, nulls omitted, {@code \n} line ends. */
  public String toJson() {
    try {
      return PRETTY.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write feature spec as JSON", e);
    }
  }

  /**
   * Reads a spec from a local path or any Beam filesystem URI (gs://, s3://...). A local spec whose
   * directory does not exist (e.g. {@code <model>/feature-spec.json} under a wrong model directory)
   * is reported as a missing directory, naming it.
   */
  public static FeatureSpec read(String uri) {
    java.nio.file.Path missingDir = missingLocalDirectory(uri);
    if (missingDir != null) {
      throw new IllegalArgumentException("cannot read feature spec from " + uri + ": the directory " + missingDir
          + " does not exist (a wrong model directory? check --model, or pass the spec's path)");
    }
    try {
      ResourceId resource = FileSystems.matchSingleFileSpec(uri).resourceId();
      try (ReadableByteChannel channel = FileSystems.open(resource);
          InputStream in = Channels.newInputStream(channel)) {
        return fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read feature spec from " + uri, e);
    }
  }

  /** The directory of a local {@code uri} when it does not exist; null for remote URIs and existing directories. */
  private static java.nio.file.@org.checkerframework.checker.nullness.qual.Nullable Path missingLocalDirectory(String uri) {
    String path = uri.startsWith("file:") ? uri.substring("file:".length()) : uri;
    if (path.contains("://") || path.contains("*") || path.contains("?")) {
      return null;
    }
    java.nio.file.Path dir = java.nio.file.Path.of(path).toAbsolutePath().getParent();
    return dir == null || java.nio.file.Files.isDirectory(dir) ? null : dir;
  }

  /** Writes {@link #toJson()} to a local path or any Beam filesystem URI. */
  public void write(String uri) {
    ResourceId resource = FileSystems.matchNewResource(uri, false);
    try (WritableByteChannel channel = FileSystems.create(resource, "application/json");
        OutputStream out = Channels.newOutputStream(channel)) {
      out.write(toJson().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write feature spec to " + uri, e);
    }
  }

  /** Fits a template on training rows in plain Java (exact statistics); see {@link AnalyzeFeatures}. */
  public static FeatureSpec fit(FeatureSpec template, Iterable<? extends Map<String, ?>> rows) {
    return FeatureFitting.fit(template, rows);
  }

  /** Input feature names, in declared order. */
  public List<String> inputNames() {
    List<String> names = new ArrayList<>(features.size());
    for (Feature f : features) {
      names.add(f.name);
    }
    return Collections.unmodifiableList(names);
  }

  /** Output column names in vector order; for a template only when the layout needs no fitting. */
  public List<String> outputNames() {
    if (outputs == null) {
      throw new IllegalStateException(
          "the output layout depends on statistics (vocabularies, quantile buckets) that this"
              + " template has not fitted yet: fit it first");
    }
    return Collections.unmodifiableList(outputs);
  }

  /** The position of an output column, or -1. */
  public int outputIndex(String outputName) {
    return outputNames().indexOf(outputName);
  }

  public int outputSize() {
    return outputNames().size();
  }

  public boolean isFitted() {
    return fitted;
  }

  public List<Feature> features() {
    return Collections.unmodifiableList(features);
  }

  public List<Cross> crosses() {
    return Collections.unmodifiableList(crosses);
  }

  /** The feature called {@code name}. */
  public Feature feature(String name) {
    for (Feature f : features) {
      if (f.name.equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("no feature '" + name + "' in spec; inputs are " + inputNames());
  }

  /**
   * Throws {@link IllegalArgumentException} unless the model's input feature names equal {@link
   * #outputNames()}, naming the first differing position or the size difference.
   */
  public void checkMatches(List<String> modelInputFeatures) {
    List<String> mine = outputNames();
    int common = Math.min(mine.size(), modelInputFeatures.size());
    for (int i = 0; i < common; i++) {
      if (!mine.get(i).equals(modelInputFeatures.get(i))) {
        throw new IllegalArgumentException(
            "feature layout differs from the model at position " + i + ": spec has '" + mine.get(i)
                + "', model expects '" + modelInputFeatures.get(i) + "'");
      }
    }
    if (mine.size() != modelInputFeatures.size()) {
      throw new IllegalArgumentException(
          "feature layout differs from the model in size: spec has " + mine.size()
              + " features, model expects " + modelInputFeatures.size()
              + (mine.size() > common
                  ? " (first extra in spec: '" + mine.get(common) + "')"
                  : " (first extra in model: '" + modelInputFeatures.get(common) + "')"));
    }
  }

  /**
   * Validates, imputes and encodes one record. Values may be their declared Java types or text
   * (CSV); extra entries are ignored. This is the only implementation: {@link FeatureTransform}
   * calls it too.
   */
  public FeatureOutcome transform(Map<String, ?> raw) {
    return transform(raw, null);
  }

  /**
   * {@link #transform(Map)}, also counting every feature's value as read into {@code profile}
   * (when not null): features after a rejected one are still read for the profile, so that each
   * record counts once per feature whatever its outcome.
   */
  FeatureOutcome transform(Map<String, ?> raw, @Nullable FeatureProfile profile) {
    if (!fitted) {
      throw new IllegalStateException(
          "this FeatureSpec is an unfitted template: fit it with FeatureSpec.fit or"
              + " AnalyzeFeatures before transforming");
    }
    int[] w = widths();
    float[] out = new float[outputs.size()];
    List<String> missing = new ArrayList<>(0);
    Map<String, String> categories = crosses.isEmpty() ? null : new HashMap<>();
    String[] error = new String[1];
    int pos = 0;
    for (int fi = 0; fi < features.size(); fi++) {
      Feature f = features.get(fi);
      boolean present = raw.containsKey(f.name);
      Cell c = FeatureValues.read(f, present, raw.get(f.name), true);
      if (profile != null) {
        profile.add(f, c);
      }
      if (c.missing || FeatureValues.MISSING_REQUIRED.equals(c.reason)) {
        missing.add(f.name);
      }
      boolean imputed = false;
      if (c.reason != null) {
        boolean keep = f.onInvalid == Policy.KEEP && !FeatureValues.MISSING_REQUIRED.equals(c.reason);
        if (keep && FeatureValues.UNKNOWN_CATEGORY.equals(c.reason)) {
          c.reason = null; // encoded into an OOV bucket (or all zeros without OOV buckets)
        } else if (keep && f.impute != null) {
          c = imputedCell(f);
          imputed = true;
        } else {
          profileRest(raw, fi + 1, profile);
          return reject(f, c.reason, c.message, missing);
        }
      } else if (c.missing) {
        c = imputedCell(f);
        imputed = true;
      }
      int end = encode(f, c, out, pos, error);
      if (end < 0 && f.onInvalid == Policy.KEEP && !imputed && f.impute != null) {
        Arrays.fill(out, pos, pos + w[fi], 0f);
        c = imputedCell(f);
        imputed = true;
        end = encode(f, c, out, pos, error);
      }
      if (end < 0) {
        profileRest(raw, fi + 1, profile);
        return reject(f, FeatureValues.OUT_OF_RANGE, error[0], missing);
      }
      if (f.impute != null && f.impute.indicator) {
        out[end++] = imputed ? 1f : 0f;
      }
      pos = end;
      if (categories != null) {
        categories.put(f.name, c.cat);
      }
    }
    for (Cross cross : crosses) {
      StringBuilder key = new StringBuilder();
      for (int i = 0; i < cross.features.size(); i++) {
        if (i > 0) {
          key.append('\u0001');
        }
        key.append(categories.get(cross.features.get(i)));
      }
      out[pos + StableHash.bucket(key.toString(), cross.buckets)] = 1f;
      pos += cross.buckets;
    }
    return FeatureOutcome.valid(out, missing);
  }

  /** Reads features {@code from..} of a rejected record into {@code profile} only. */
  private void profileRest(Map<String, ?> raw, int from, @Nullable FeatureProfile profile) {
    if (profile == null) {
      return;
    }
    for (int i = from; i < features.size(); i++) {
      Feature f = features.get(i);
      boolean present = raw.containsKey(f.name);
      profile.add(f, FeatureValues.read(f, present, present ? raw.get(f.name) : null, true));
    }
  }

  private FeatureOutcome reject(Feature f, String reason, String message, List<String> missing) {
    FeatureOutcome.Kind kind =
        f.onInvalid == Policy.SKIP ? FeatureOutcome.Kind.SKIPPED : FeatureOutcome.Kind.INVALID;
    return FeatureOutcome.rejected(kind, f.name, reason, message, missing);
  }

  private static Cell imputedCell(Feature f) {
    return FeatureValues.ofStored(f, f.impute.value);
  }

  /** Writes the feature's columns at {@code pos}; returns the end position, or -1 with error[0]. */
  private static int encode(Feature f, Cell c, float[] out, int pos, String[] error) {
    double v = c.num;
    for (Step s : f.transforms) {
      switch (s.kind) {
        case CLIP:
        case LOG1P:
          double next = rewrite(s, v);
          if (Double.isNaN(next)) {
            error[0] = f.name + ": log1p needs a value > -1, but was " + v;
            return -1;
          }
          v = next;
          break;
        case PASSTHROUGH:
          if (f.type == Type.LIST) {
            for (double x : c.list) {
              out[pos++] = (float) x;
            }
          } else {
            out[pos++] = (float) v;
          }
          break;
        case ZSCORE:
          out[pos++] = (float) (s.std > 0 ? (v - s.mean) / s.std : 0.0);
          break;
        case MINMAX:
          double range = s.max - s.min;
          out[pos++] = (float) (range > 0 ? (v - s.min) / range : 0.0);
          break;
        case BUCKETIZE:
          int bucket = bucketOf(s.boundaries, v);
          if (Boolean.TRUE.equals(s.index)) {
            out[pos++] = bucket;
          } else {
            out[pos + bucket] = 1f;
            pos += s.boundaries.size() + 1;
          }
          break;
        case ONEHOT:
          Integer idx = f.vocabularyIndex().get(c.cat);
          int oov = s.oovBuckets == null ? 0 : s.oovBuckets;
          if (idx != null) {
            out[pos + idx] = 1f;
          } else if (oov > 0) {
            out[pos + f.vocabulary.size() + StableHash.bucket(c.cat, oov)] = 1f;
          }
          pos += f.vocabulary.size() + oov;
          break;
        case HASH:
          out[pos + StableHash.bucket(c.cat, s.buckets)] = 1f;
          pos += s.buckets;
          break;
        case DATEPARTS:
          ZonedDateTime t = Instant.ofEpochMilli((long) v).atZone(ZoneOffset.UTC);
          for (DatePart part : s.parts) {
            out[pos++] = part.valueAt(t);
          }
          break;
        default:
          throw new IllegalStateException("unhandled transform " + s.kind);
      }
    }
    return pos;
  }

  /**
   * Applies a value-rewriting step ({@code clip}, {@code log1p}); NaN when the value is outside its
   * domain. Shared by transforming and fitting so statistics see exactly the served values.
   */
  static double rewrite(Step s, double v) {
    if (s.kind == StepKind.CLIP) {
      return Math.min(
          Math.max(v, s.lower == null ? Double.NEGATIVE_INFINITY : s.lower),
          s.upper == null ? Double.POSITIVE_INFINITY : s.upper);
    }
    return v > -1 ? Math.log1p(v) : Double.NaN;
  }

  /** Number of boundaries {@code <= v}: values on a boundary go to the upper bucket. */
  static int bucketOf(List<Double> boundaries, double v) {
    int lo = 0;
    int hi = boundaries.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (boundaries.get(mid) <= v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private int[] widths() {
    int[] w = widths;
    if (w == null) {
      w = new int[features.size()];
      for (int i = 0; i < features.size(); i++) {
        w[i] = layoutOf(features.get(i)).size();
      }
      widths = w;
    }
    return w;
  }

  // ---------------------------------------------------------------------------------------------
  // Layout and checks.

  /** The feature's output names, or null when they depend on unfitted statistics. */
  static @Nullable List<String> layoutOf(Feature f) {
    List<String> names = new ArrayList<>();
    String base = f.name;
    for (Step s : f.transforms) {
      switch (s.kind) {
        case CLIP:
          base = base + "_clip";
          break;
        case LOG1P:
          base = base + "_log1p";
          break;
        case PASSTHROUGH:
          if (f.type == Type.LIST) {
            for (int i = 0; i < f.length; i++) {
              names.add(nameOr(s, base) + "_" + i);
            }
          } else {
            names.add(nameOr(s, base));
          }
          break;
        case ZSCORE:
          names.add(nameOr(s, base + "_z"));
          break;
        case MINMAX:
          names.add(nameOr(s, base + "_minmax"));
          break;
        case BUCKETIZE:
          if (s.boundaries == null) {
            return null;
          }
          if (Boolean.TRUE.equals(s.index)) {
            names.add(nameOr(s, base + "_bucket"));
          } else {
            for (int i = 0; i <= s.boundaries.size(); i++) {
              names.add(nameOr(s, base + "_bucket") + "_" + i);
            }
          }
          break;
        case ONEHOT:
          if (f.vocabulary == null) {
            return null;
          }
          String prefix = nameOr(s, f.name);
          for (String value : f.vocabulary) {
            names.add(prefix + "=" + value);
          }
          for (int i = 0; i < (s.oovBuckets == null ? 0 : s.oovBuckets); i++) {
            names.add(prefix + "=__oov" + i);
          }
          break;
        case HASH:
          for (int i = 0; i < s.buckets; i++) {
            names.add(nameOr(s, f.name + "_hash") + "_" + i);
          }
          break;
        case DATEPARTS:
          for (DatePart part : s.parts) {
            names.add(nameOr(s, f.name) + "_" + part.json());
          }
          break;
        default:
          throw new IllegalStateException("unhandled transform " + s.kind);
      }
    }
    if (f.impute != null && f.impute.indicator) {
      names.add(f.name + "_missing");
    }
    return names;
  }

  private static String nameOr(Step s, String fallback) {
    return s.output != null ? s.output : fallback;
  }

  /** Validates the whole spec and recomputes {@link #outputs}; messages name the feature. */
  void check() {
    if (version != 1) {
      throw new IllegalArgumentException("unsupported feature spec version " + version);
    }
    if (features == null || features.isEmpty()) {
      throw new IllegalArgumentException("a feature spec needs at least one feature");
    }
    Set<String> names = new HashSet<>();
    for (Feature f : features) {
      checkFeature(f);
      if (!names.add(f.name)) {
        throw new IllegalArgumentException("duplicate feature '" + f.name + "'");
      }
    }
    if (crosses == null) {
      crosses = new ArrayList<>();
    }
    Set<String> crossNames = new HashSet<>();
    for (Cross c : crosses) {
      if (c.features == null || c.features.size() < 2) {
        throw new IllegalArgumentException("cross '" + c.name + "' needs at least two features");
      }
      for (String name : c.features) {
        Feature f = feature(name);
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
    for (Feature f : features) {
      List<String> l = layoutOf(f);
      if (l == null) {
        layout = null;
        break;
      }
      layout.addAll(l);
    }
    if (layout != null) {
      for (Cross c : crosses) {
        for (int i = 0; i < c.buckets; i++) {
          layout.add(c.name + "_" + i);
        }
      }
      Set<String> seen = new HashSet<>();
      for (String name : layout) {
        if (!seen.add(name)) {
          throw new IllegalArgumentException(
              "output name '" + name + "' appears twice; rename one with as(...)");
        }
      }
    } else if (fitted) {
      throw new IllegalArgumentException("a fitted spec must have a complete output layout");
    }
    outputs = layout;
    widths = null;
  }

  private void checkFeature(Feature f) {
    if (f.name == null || f.name.isEmpty()) {
      throw new IllegalArgumentException("every feature needs a name");
    }
    String n = "feature '" + f.name + "': ";
    if (f.type == null) {
      throw new IllegalArgumentException(n + "type is required");
    }
    if (f.onInvalid == null) {
      f.onInvalid = Policy.ERROR;
    }
    if (f.transforms == null) {
      f.transforms = new ArrayList<>();
    }
    if (f.format != null) {
      if (f.type != Type.TIMESTAMP) {
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
    if (f.type == Type.LIST && (f.length == null || f.length <= 0)) {
      throw new IllegalArgumentException(n + "a list feature needs a length > 0, but was " + f.length);
    }
    if (!f.required && f.impute == null) {
      throw new IllegalArgumentException(
          n + "is optional, so it needs an imputation (imputeMean, imputeMedian, imputeMode or"
              + " imputeConstant)");
    }
    if (f.impute != null) {
      Imputation im = f.impute;
      if (im.strategy == null) {
        throw new IllegalArgumentException(n + "imputation needs a strategy");
      }
      if (f.type == Type.LIST) {
        throw new IllegalArgumentException(n + "list features cannot be imputed; make it required");
      }
      if ((im.strategy == ImputeStrategy.MEAN || im.strategy == ImputeStrategy.MEDIAN)
          && !(f.type == Type.DOUBLE || f.type == Type.LONG || f.type == Type.TIMESTAMP)) {
        throw new IllegalArgumentException(
            n + im.strategy.name().toLowerCase(java.util.Locale.ROOT) + " imputation needs a"
                + " numeric feature, but it is " + f.type.json());
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
    if (f.vocabularyTopN != null && f.vocabularyTopN <= 0) {
      throw new IllegalArgumentException(n + "topN must be > 0, but was " + f.vocabularyTopN);
    }
    if (f.histogramBins != null && f.histogramBins <= 0) {
      throw new IllegalArgumentException(n + "histogramBins must be > 0, but was " + f.histogramBins);
    }
    for (Step s : f.transforms) {
      checkStep(n, f, s);
    }
    f.vocabularyIndex = null;
  }

  private void checkStep(String n, Feature f, Step s) {
    if (s.kind == null) {
      throw new IllegalArgumentException(n + "every transform needs a kind");
    }
    String k = n + s.kind.name().toLowerCase(java.util.Locale.ROOT) + " ";
    switch (s.kind) {
      case PASSTHROUGH:
        if (!f.type.isNumeric() && f.type != Type.LIST) {
          throw new IllegalArgumentException(k + "needs a numeric or list feature, not " + f.type.json());
        }
        break;
      case CLIP:
      case LOG1P:
      case ZSCORE:
      case MINMAX:
      case BUCKETIZE:
        if (!f.type.isNumeric()) {
          throw new IllegalArgumentException(k + "needs a numeric feature, not " + f.type.json());
        }
        if (s.kind == StepKind.CLIP && s.lower != null && s.upper != null && s.lower > s.upper) {
          throw new IllegalArgumentException(k + "lower " + s.lower + " is above upper " + s.upper);
        }
        if (s.kind == StepKind.BUCKETIZE) {
          if (s.boundaries == null && (s.numBuckets == null || s.numBuckets < 2)) {
            throw new IllegalArgumentException(k + "needs boundaries or numBuckets >= 2");
          }
          if (s.boundaries != null) {
            for (int i = 1; i < s.boundaries.size(); i++) {
              if (!(s.boundaries.get(i) > s.boundaries.get(i - 1))) {
                throw new IllegalArgumentException(
                    k + "boundaries must be strictly increasing: " + s.boundaries);
              }
            }
          }
        }
        if (fitted && (s.kind == StepKind.ZSCORE) && (s.mean == null || s.std == null)) {
          throw new IllegalArgumentException(k + "is not fitted (mean/std missing)");
        }
        if (fitted && (s.kind == StepKind.MINMAX) && (s.min == null || s.max == null)) {
          throw new IllegalArgumentException(k + "is not fitted (min/max missing)");
        }
        break;
      case ONEHOT:
        if (!f.type.isCategorical()) {
          throw new IllegalArgumentException(k + "needs a string, long or boolean feature");
        }
        if (s.oovBuckets != null && s.oovBuckets < 0) {
          throw new IllegalArgumentException(k + "oovBuckets must be >= 0, but was " + s.oovBuckets);
        }
        break;
      case HASH:
        if (!f.type.isCategorical()) {
          throw new IllegalArgumentException(k + "needs a string, long or boolean feature");
        }
        if (s.buckets == null || s.buckets <= 0) {
          throw new IllegalArgumentException(k + "buckets must be > 0, but was " + s.buckets);
        }
        break;
      case DATEPARTS:
        if (f.type != Type.TIMESTAMP) {
          throw new IllegalArgumentException(k + "needs a timestamp feature, not " + f.type.json());
        }
        if (s.parts == null || s.parts.isEmpty()) {
          throw new IllegalArgumentException(k + "needs at least one date part");
        }
        break;
      default:
        throw new IllegalStateException("unhandled transform " + s.kind);
    }
  }

  FeatureSpec copy() {
    try {
      FeatureSpec c = JSON.readValue(JSON.writeValueAsString(this), FeatureSpec.class);
      c.outputs = outputs == null ? null : new ArrayList<>(outputs);
      return c;
    } catch (IOException e) {
      throw new IllegalStateException("cannot copy feature spec", e);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof FeatureSpec && toJson().equals(((FeatureSpec) o).toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "FeatureSpec" + (fitted ? "(fitted) " : "(template) ") + inputNames();
  }

  // ---------------------------------------------------------------------------------------------
  // Builder.

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
  public static final class Builder {
    private final FeatureSpec spec = new FeatureSpec();
    private @Nullable Feature current;
    private @Nullable Step last;

    private Builder() {}

    /** Starts a {@code double} feature. */
    public Builder numeric(String name) {
      return feature(name, Type.DOUBLE);
    }

    /** Starts a {@code long} feature. */
    public Builder integer(String name) {
      return feature(name, Type.LONG);
    }

    /** Starts a {@code string} feature. */
    public Builder categorical(String name) {
      return feature(name, Type.STRING);
    }

    /** Starts a {@code boolean} feature (1/0; "true"/"false"/"1"/"0" as text). */
    public Builder bool(String name) {
      return feature(name, Type.BOOLEAN);
    }

    /** Starts a {@code timestamp} feature. */
    public Builder timestamp(String name) {
      return feature(name, Type.TIMESTAMP);
    }

    /** Starts a fixed-length numeric {@code list} feature. */
    public Builder list(String name, int length) {
      if (length <= 0) {
        throw new IllegalArgumentException("list length must be > 0, but was " + length);
      }
      feature(name, Type.LIST);
      current.length = length;
      return this;
    }

    /** Starts a feature of any type. */
    public Builder feature(String name, Type type) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("feature name must be non-empty, but was '" + name + "'");
      }
      current = new Feature(name, type);
      last = null;
      spec.features.add(current);
      return this;
    }

    /** Missing values are invalid ({@code missing_required}); the default. */
    public Builder required() {
      current().required = true;
      return this;
    }

    /** Missing values (absent, null, blank) are imputed; needs an impute method. */
    public Builder optional() {
      current().required = false;
      return this;
    }

    /** Same as {@link #optional()}: null is an allowed value, and is imputed. */
    public Builder nullable() {
      return optional();
    }

    /** Allowed values: outside {@code [min, max]} is {@code out_of_range}. */
    public Builder range(double min, double max) {
      if (!(min <= max)) {
        throw new IllegalArgumentException("range min must be <= max, but was [" + min + ", " + max + "]");
      }
      current().min = min;
      current().max = max;
      return this;
    }

    public Builder min(double min) {
      current().min = min;
      return this;
    }

    public Builder max(double max) {
      current().max = max;
      return this;
    }

    /** What happens to records with an invalid value for this feature (default {@code ERROR}). */
    public Builder onInvalid(Policy policy) {
      if (policy == null) {
        throw new IllegalArgumentException("policy must not be null");
      }
      current().onInvalid = policy;
      return this;
    }

    /** Treats NaN as missing rather than {@code not_finite} (infinities stay invalid). */
    /**
     * Profiles the current feature but never compares it with training: no drift figures, and the
     * circuit breaker's drift limits skip it (e.g. an id-like or a seasonal feature whose shift is
     * expected). Written as {@code "drift": false} in the spec file.
     *
     * <pre>{@code
     * FeatureSpec.builder().numeric("days_since_signup").zscore().noDrift();
     * }</pre>
     */
    public Builder noDrift() {
      current().drift = false;
      return this;
    }

    public Builder nanAsMissing() {
      current().nanAsMissing = true;
      return this;
    }

    public Builder imputeMean() {
      return impute(ImputeStrategy.MEAN, null);
    }

    public Builder imputeMedian() {
      return impute(ImputeStrategy.MEDIAN, null);
    }

    public Builder imputeMode() {
      return impute(ImputeStrategy.MODE, null);
    }

    /** Imputes a fixed value, given as the feature's type or as text. */
    public Builder imputeConstant(Object value) {
      if (value == null) {
        throw new IllegalArgumentException("constant imputation value must not be null");
      }
      return impute(ImputeStrategy.CONSTANT, value);
    }

    /** Adds a {@code <name>_missing} column: 1 when the value was imputed, else 0. */
    public Builder withMissingIndicator() {
      if (current().impute == null) {
        throw new IllegalStateException(
            "withMissingIndicator() comes after an impute method on '" + current.name + "'");
      }
      current.impute.indicator = true;
      return this;
    }

    private Builder impute(ImputeStrategy strategy, @Nullable Object value) {
      boolean indicator = current().impute != null && current.impute.indicator;
      current.impute = new Imputation(strategy, value);
      current.impute.indicator = indicator;
      return this;
    }

    /** The vocabulary is fitted from training data (use {@link #topN}, {@link #minFrequency}). */
    public Builder vocabulary() {
      current().vocabulary = null;
      return this;
    }

    /** A fixed vocabulary: not fitted; other values are {@code unknown_category}. */
    public Builder vocabulary(List<String> values) {
      if (values == null || new HashSet<>(values).size() != values.size()) {
        throw new IllegalArgumentException("vocabulary must be non-null without duplicates: " + values);
      }
      current().vocabulary = new ArrayList<>(values);
      return this;
    }

    /** Keeps the {@code n} most frequent values (ties by value). */
    public Builder topN(int n) {
      if (n <= 0) {
        throw new IllegalArgumentException("topN must be > 0, but was " + n);
      }
      current().vocabularyTopN = n;
      return this;
    }

    /** Keeps values seen at least {@code count} times. */
    public Builder minFrequency(long count) {
      if (count <= 0) {
        throw new IllegalArgumentException("minFrequency must be > 0, but was " + count);
      }
      current().vocabularyMinFrequency = count;
      return this;
    }

    /** Buckets of the training histogram (default 10). */
    public Builder histogramBins(int bins) {
      if (bins <= 0) {
        throw new IllegalArgumentException("histogramBins must be > 0, but was " + bins);
      }
      current().histogramBins = bins;
      return this;
    }

    /** Clips the value into {@code [lower, upper]} for the transforms after it. */
    public Builder clip(double lower, double upper) {
      if (!(lower <= upper)) {
        throw new IllegalArgumentException("clip lower must be <= upper, but was [" + lower + ", " + upper + "]");
      }
      Step s = step(StepKind.CLIP);
      s.lower = lower;
      s.upper = upper;
      return this;
    }

    /** Replaces the value by {@code log(1 + x)} for the transforms after it; needs x > -1. */
    public Builder log1p() {
      step(StepKind.LOG1P);
      return this;
    }

    /** Emits the current value (or every element of a list). */
    public Builder passthrough() {
      step(StepKind.PASSTHROUGH);
      return this;
    }

    /** Emits {@code (x - mean) / std} with training mean and population std. */
    public Builder zscore() {
      step(StepKind.ZSCORE);
      return this;
    }

    /** Emits {@code (x - min) / (max - min)} with training min and max. */
    public Builder minMax() {
      step(StepKind.MINMAX);
      return this;
    }

    /** One-hot of the bucket between fixed, strictly increasing boundaries. */
    public Builder bucketize(double... boundaries) {
      if (boundaries.length == 0) {
        throw new IllegalArgumentException("bucketize needs at least one boundary");
      }
      Step s = step(StepKind.BUCKETIZE);
      s.boundaries = new ArrayList<>();
      for (double b : boundaries) {
        s.boundaries.add(b);
      }
      return this;
    }

    /** One-hot of {@code n} training-quantile buckets (boundaries fitted). */
    public Builder quantileBuckets(int n) {
      if (n < 2) {
        throw new IllegalArgumentException("quantileBuckets needs n >= 2, but was " + n);
      }
      step(StepKind.BUCKETIZE).numBuckets = n;
      return this;
    }

    /** Makes the preceding bucketize emit the bucket index (one column) instead of a one-hot. */
    public Builder asBucketIndex() {
      if (last == null || last.kind != StepKind.BUCKETIZE) {
        throw new IllegalStateException("asBucketIndex() must follow bucketize or quantileBuckets");
      }
      last.index = true;
      return this;
    }

    /** One-hot over the vocabulary, no OOV bucket (unknown values are all zeros under keep). */
    public Builder oneHot() {
      return oneHot(0);
    }

    /** One-hot over the vocabulary plus {@code oovBuckets} hashed out-of-vocabulary buckets. */
    public Builder oneHot(int oovBuckets) {
      if (oovBuckets < 0) {
        throw new IllegalArgumentException("oovBuckets must be >= 0, but was " + oovBuckets);
      }
      step(StepKind.ONEHOT).oovBuckets = oovBuckets;
      return this;
    }

    /** One-hot of {@link StableHash} bucket of the value, {@code buckets} columns. */
    public Builder hash(int buckets) {
      if (buckets <= 0) {
        throw new IllegalArgumentException("hash buckets must be > 0, but was " + buckets);
      }
      step(StepKind.HASH).buckets = buckets;
      return this;
    }

    /**
     * The text form of the current timestamp feature's CSV, JSON and BigQuery values: a
     * {@link java.time.format.DateTimeFormatter} pattern (locale {@code ROOT}), read in UTC when it
     * has no zone or offset. Text that does not match is {@code unparsable}, handled by the feature's
     * {@link #onInvalid} policy. Typed values (Parquet and JDBC timestamps) ignore it. Without a format
     * the forms of {@link InstantText} are read (ISO-8601, BigQuery's text, epoch milliseconds).
     *
     * <pre>{@code
     * FeatureSpec.builder().timestamp("ts").format("yyyy-MM-dd HH:mm:ss").dateParts(FeatureSpec.DatePart.HOUR);
     * }</pre>
     */
    public Builder format(String pattern) {
      Feature f = current();
      if (f.type != Type.TIMESTAMP) {
        throw new IllegalStateException("format(\"" + pattern + "\") is for a timestamp feature, but '" + f.name
            + "' is " + f.type.json() + ": declare it with timestamp(\"" + f.name + "\")");
      }
      InstantText.formatter(pattern);
      f.format = pattern;
      return this;
    }

    /** Emits the given calendar parts (UTC) of a timestamp, one column each. */
    public Builder dateParts(DatePart... parts) {
      if (parts.length == 0) {
        throw new IllegalArgumentException("dateParts needs at least one part");
      }
      step(StepKind.DATEPARTS).parts = new ArrayList<>(Arrays.asList(parts));
      return this;
    }

    /** Names the preceding transform's output column (or prefix, for multi-column outputs). */
    public Builder as(String outputName) {
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
    public Builder cross(int buckets, String... featureNames) {
      return crossNamed(String.join("_x_", featureNames), buckets, featureNames);
    }

    public Builder crossNamed(String name, int buckets, String... featureNames) {
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
      FeatureSpec built = spec.copy();
      built.check();
      return built;
    }

    private Feature current() {
      if (current == null) {
        throw new IllegalStateException("declare a feature first, e.g. numeric(\"amount\")");
      }
      return current;
    }

    private Step step(StepKind kind) {
      last = new Step(kind);
      current().transforms.add(last);
      return last;
    }
  }

  /**
   * Encodes a spec as its JSON text: deterministic, readable in logs and by other languages. It is
   * the default coder of {@link FeatureSpec}, so {@code PCollection<FeatureSpec>} needs no setCoder.
   *
   * <pre>{@code
   * PCollection<FeatureSpec> specs = p.apply(Create.of(spec).withCoder(FeatureSpec.FeatureSpecCoder.of()));
   * }</pre>
   */
  public static final class FeatureSpecCoder extends AtomicCoder<FeatureSpec> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(FeatureSpec.class), of());
    }

    private static final FeatureSpecCoder INSTANCE = new FeatureSpecCoder();

    public static FeatureSpecCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(FeatureSpec value, OutputStream out) throws IOException {
      StringUtf8Coder.of().encode(value.toJson(), out);
    }

    @Override
    public FeatureSpec decode(InputStream in) throws IOException {
      return fromJson(StringUtf8Coder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
