package dev.batchserve.transforms.features;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The result of {@link FeatureSpec#transform}: either a vector in the spec's layout, or the reason
 * the record was refused ({@link Kind#INVALID}, a dead letter) or dropped by a {@code skip} policy
 * ({@link Kind#SKIPPED}).
 *
 * <pre>{@code
 * FeatureOutcome out = spec.transform(Map.of("amount", "12.5", "country", "DE"));
 * if (out.kind() == FeatureOutcome.Kind.VALID) {
 *   float[] x = out.vector();
 * } else {
 *   log.warn("{} rejected: {} ({})", out.field(), out.reason(), out.message());
 * }
 * }</pre>
 */
public final class FeatureOutcome {

  /**
   * What happened to the record.
   *
   * <pre>{@code
   * boolean deadLetter = outcome.kind() == FeatureOutcome.Kind.INVALID;
   * }</pre>
   */
  public enum Kind {
    /** All features were read (or imputed) and encoded. */
    VALID,
    /** A feature failed validation under the {@code error} policy: the record is a dead letter. */
    INVALID,
    /** A feature failed validation under the {@code skip} policy: the record is dropped, counted. */
    SKIPPED
  }

  private final Kind kind;
  private final float @Nullable [] vector;
  private final @Nullable String field;
  private final @Nullable String reason;
  private final @Nullable String message;
  private final List<String> missingFields;

  private FeatureOutcome(
      Kind kind,
      float @Nullable [] vector,
      @Nullable String field,
      @Nullable String reason,
      @Nullable String message,
      List<String> missingFields) {
    this.kind = kind;
    this.vector = vector;
    this.field = field;
    this.reason = reason;
    this.message = message;
    this.missingFields = Collections.unmodifiableList(missingFields);
  }

  static FeatureOutcome valid(float[] vector, List<String> missingFields) {
    return new FeatureOutcome(Kind.VALID, vector, null, null, null, missingFields);
  }

  static FeatureOutcome rejected(
      Kind kind, String field, String reason, String message, List<String> missingFields) {
    return new FeatureOutcome(kind, null, field, reason, message, missingFields);
  }

  public Kind kind() {
    return kind;
  }

  /** The encoded features in {@link FeatureSpec#outputNames()} order; only for {@link Kind#VALID}. */
  public float[] vector() {
    if (vector == null) {
      throw new IllegalStateException("no vector: the record was " + kind + " (" + reason + ")");
    }
    return vector.clone();
  }

  /** The vector itself, for callers that copy it anyway ({@link FeatureVector#of} does). */
  float[] vectorUnsafe() {
    if (vector == null) {
      throw new IllegalStateException("no vector: the record was " + kind + " (" + reason + ")");
    }
    return vector;
  }

  /** The first failing input feature, or null when valid. */
  public @Nullable String field() {
    return field;
  }

  /** A short stable code ({@code missing_required}, {@code out_of_range}, ...), or null when valid. */
  public @Nullable String reason() {
    return reason;
  }

  /** A human-readable explanation naming the value, or null when valid. */
  public @Nullable String message() {
    return message;
  }

  /** Features that were null or absent in the record (counted as the per-feature null rate). */
  public List<String> missingFields() {
    return missingFields;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof FeatureOutcome)) {
      return false;
    }
    FeatureOutcome other = (FeatureOutcome) o;
    return kind == other.kind
        && Arrays.equals(vector, other.vector)
        && Objects.equals(field, other.field)
        && Objects.equals(reason, other.reason)
        && Objects.equals(message, other.message)
        && missingFields.equals(other.missingFields);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, Arrays.hashCode(vector), field, reason, message, missingFields);
  }

  @Override
  public String toString() {
    return kind == Kind.VALID
        ? "FeatureOutcome{VALID " + Arrays.toString(vector) + "}"
        : "FeatureOutcome{" + kind + " field=" + field + " reason=" + reason + ": " + message + "}";
  }
}
