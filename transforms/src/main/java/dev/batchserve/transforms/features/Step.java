package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One transform of a feature with its parameters; fitted parameters ({@code mean}, {@code std},
 * {@code min}, {@code max}, {@code boundaries}) are filled by fitting. {@code output} overrides the
 * output column name (or prefix, for multi-column transforms). Each {@link StepKind} is one
 * subclass that knows its own checks, output names, encoding and what fitting gathers for it, so a
 * new kind is one new class (plus its builder method and the {@link JsonSubTypes} line below).
 * Equal by value.
 *
 * <pre>{@code
 * Step z = spec.feature("amount").transforms().get(2);
 * double mean = z.mean();
 * }</pre>
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "kind")
@JsonSubTypes({
  @JsonSubTypes.Type(value = PassthroughStep.class, name = "passthrough"),
  @JsonSubTypes.Type(value = ZScoreStep.class, name = "zscore"),
  @JsonSubTypes.Type(value = MinMaxStep.class, name = "minmax"),
  @JsonSubTypes.Type(value = Log1pStep.class, name = "log1p"),
  @JsonSubTypes.Type(value = ClipStep.class, name = "clip"),
  @JsonSubTypes.Type(value = BucketizeStep.class, name = "bucketize"),
  @JsonSubTypes.Type(value = OneHotStep.class, name = "onehot"),
  @JsonSubTypes.Type(value = HashStep.class, name = "hash"),
  @JsonSubTypes.Type(value = DatePartsStep.class, name = "dateparts")
})
public abstract class Step implements Serializable {
  private static final long serialVersionUID = 1L;

  /** What fitting gathers from the training values that reach a step. */
  enum FitInput {
    NONE,
    /** Mean, population std, min and max ({@link #fitMoments}). */
    MOMENTS,
    /** A quantile summary ({@link #fitQuantiles}). */
    QUANTILES
  }

  @Nullable String output;

  Step() {}

  public abstract StepKind kind();

  public @Nullable String output() {
    return output;
  }

  /** The fitted mean of a {@code zscore} step; null for other kinds. */
  public @Nullable Double mean() {
    return null;
  }

  /** The fitted population std of a {@code zscore} step; null for other kinds. */
  public @Nullable Double std() {
    return null;
  }

  /** The fitted minimum of a {@code minmax} step; null for other kinds. */
  public @Nullable Double min() {
    return null;
  }

  /** The fitted maximum of a {@code minmax} step; null for other kinds. */
  public @Nullable Double max() {
    return null;
  }

  /** The boundaries of a {@code bucketize} step (given or fitted); null for other kinds. */
  public @Nullable List<Double> boundaries() {
    return null;
  }

  /** The calendar parts a {@code dateparts} step emits; empty for other kinds. */
  List<DatePart> dateParts() {
    return List.of();
  }

  /** Whether the step encodes over the feature's vocabulary (which fitting must then provide). */
  boolean usesVocabulary() {
    return false;
  }

  /** Whether the step rewrites the value for the steps after it instead of emitting columns. */
  boolean rewritesValue() {
    return false;
  }

  /**
   * The value the steps after this one see; NaN when {@code v} is outside the step's domain.
   * Shared by encoding and fitting, so statistics see exactly the served values.
   */
  double rewrite(double v) {
    return v;
  }

  /** Why {@link #rewrite} gave NaN for {@code v}, naming the feature. */
  String outOfDomain(String feature, double v) {
    return feature + ": " + kind().json() + " is undefined at " + v;
  }

  /** The base name of the output columns of the steps after this one. */
  String rewriteName(String base) {
    return base;
  }

  FitInput fitInput() {
    return FitInput.NONE;
  }

  /** Takes the moments of the values reaching the step; called when {@link #fitInput()} is MOMENTS. */
  void fitMoments(double mean, double std, double min, double max) {
    throw new IllegalStateException(kind().json() + " fits no moments");
  }

  /** Takes the quantile summary of the values reaching the step; called when {@link #fitInput()} is QUANTILES. */
  void fitQuantiles(List<Double> summary) {
    throw new IllegalStateException(kind().json() + " fits no quantiles");
  }

  /**
   * Throws {@link IllegalArgumentException} when the step does not suit feature {@code f} or its
   * parameters are wrong (or, in a fitted spec, missing); {@code k} starts every message ({@code
   * "feature 'amount': zscore "}). Changes nothing.
   */
  abstract void check(String k, Feature f, boolean fitted);

  /**
   * Appends the step's output column names, built on {@code base} (the feature name after the
   * rewriting steps before it); false when they depend on statistics not fitted yet.
   */
  abstract boolean addNames(Feature f, String base, List<String> names);

  /**
   * Writes the step's columns for the value {@code v} (category text {@code cat}, list elements
   * {@code list}) at {@code pos}; returns the position after them.
   */
  abstract int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos);

  /** The step's parameters, in JSON order, for equality. */
  abstract List<?> parameters();

  final String nameOr(String fallback) {
    return output != null ? output : fallback;
  }

  static void requireNumeric(String k, Feature f) {
    if (!f.type.isNumeric()) {
      throw new IllegalArgumentException(k + "needs a numeric feature, not " + f.type.json());
    }
  }

  static void requireCategorical(String k, Feature f) {
    if (!f.type.isCategorical()) {
      throw new IllegalArgumentException(k + "needs a string, long or boolean feature");
    }
  }

  @Override
  public final boolean equals(@Nullable Object o) {
    return o != null
        && o.getClass() == getClass()
        && Objects.equals(output, ((Step) o).output)
        && parameters().equals(((Step) o).parameters());
  }

  @Override
  public final int hashCode() {
    return Objects.hash(kind(), output, parameters());
  }

  @Override
  public String toString() {
    return kind().json() + (output == null ? "" : " as " + output) + parameters();
  }

  static List<?> values(@Nullable Object... values) {
    return Arrays.asList(values);
  }
}
