package dev.batchserve.transforms.features;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
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
 *     .categorical("country").vocabulary().topN(50).oneHot(2).onInvalid(InvalidPolicy.KEEP)
 *     .categorical("device").hash(8)
 *     .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK)
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
 *
 * <p>The concerns live in their own classes: {@link FeatureSpecBuilder} (templates), {@code
 * FeatureSpecJson} (the file format), {@code FeatureSpecCheck} (validation and layout), {@code
 * FeatureEncoder} (record to vector), {@code FeatureFitting} (statistics), and one {@link Step}
 * class per transform kind. A spec is equal to another when their fields are equal.
 */
@DefaultCoder(FeatureSpec.FeatureSpecCoder.class)
public final class FeatureSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  int version = 1;
  boolean fitted;
  List<Feature> features = new ArrayList<>();
  List<Cross> crosses = new ArrayList<>();
  /** The output layout; null while it depends on statistics not fitted yet. */
  @Nullable List<String> outputs;

  private transient volatile @Nullable FeatureEncoder encoder;

  FeatureSpec() {}

  /** Starts a template; see the class documentation for an example. */
  public static FeatureSpecBuilder builder() {
    return new FeatureSpecBuilder();
  }

  /**
   * {@code spec} after {@link FeatureSpecCheck} with its computed layout stored; throws {@link
   * IllegalArgumentException} naming what to change when it is not valid.
   */
  static FeatureSpec checked(FeatureSpec spec) {
    spec.outputs = FeatureSpecCheck.layout(spec);
    spec.encoder = null;
    return spec;
  }

  /** Parses a spec written by {@link #toJson()}; checks it and its stored layout. */
  public static FeatureSpec fromJson(String json) {
    FeatureSpec spec = FeatureSpecJson.parse(json);
    List<String> stored = spec.outputs;
    checked(spec);
    if (stored != null && !stored.equals(spec.outputs)) {
      throw new IllegalArgumentException(
          "the spec's 'outputs' " + stored + " do not match its features, which produce "
              + spec.outputs);
    }
    return spec;
  }

  /** Stable pretty JSON: fields in a fixed order, nulls omitted, {@code \n} line ends. */
  public String toJson() {
    return FeatureSpecJson.write(this);
  }

  /**
   * Reads a spec from a local path or any Beam filesystem URI (gs://, s3://...). A local spec whose
   * directory does not exist (e.g. {@code <model>/feature-spec.json} under a wrong model directory)
   * is reported as a missing directory, naming it.
   */
  public static FeatureSpec read(String uri) {
    return fromJson(FeatureSpecJson.readText(uri));
  }

  /** Writes {@link #toJson()} to a local path or any Beam filesystem URI. */
  public void write(String uri) {
    FeatureSpecJson.writeText(uri, toJson());
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
    FeatureEncoder e = encoder;
    if (e == null) {
      e = new FeatureEncoder(features, crosses, outputs.size());
      encoder = e;
    }
    return e.encode(raw, profile == null ? null : profile::add);
  }

  /** A deep copy, to fit or change without touching this spec. */
  FeatureSpec copy() {
    return FeatureSpecJson.copy(this);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof FeatureSpec)) {
      return false;
    }
    FeatureSpec other = (FeatureSpec) o;
    return version == other.version
        && fitted == other.fitted
        && Objects.equals(features, other.features)
        && Objects.equals(crosses, other.crosses)
        && Objects.equals(outputs, other.outputs);
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, fitted, features, crosses, outputs);
  }

  @Override
  public String toString() {
    return "FeatureSpec" + (fitted ? "(fitted) " : "(template) ") + inputNames();
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
