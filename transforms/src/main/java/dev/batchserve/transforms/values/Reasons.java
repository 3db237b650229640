package dev.batchserve.transforms.values;

import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Every reason a run gives for not serving a model prediction: the {@link DeadLetter#getReason()} of
 * a record a step rejected, and the {@link Prediction#getFallbackReason()} of a key served a fallback.
 *
 * <p>The texts are stable: run reports, dashboards, alerts and stored dead-letter files count by
 * them, so a constant's value never changes. Each one is documented in README.md, section "Reasons:
 * fallbacks and dead letters" (what it means and what to do); a test fails when one is not.
 *
 * <p>A fallback for a key whose records were all dead letters carries the first dead letter's
 * {@code step:reason[:field]} ({@link #failure}), e.g. {@code features:out_of_range:age}; a
 * previous-run fallback prefixes the reason it stands in for ({@link #previousRun}).
 *
 * <pre>{@code
 * long outOfRange = deadLetters.stream().filter(d -> Reasons.OUT_OF_RANGE.equals(d.getReason())).count();
 * boolean coldStart = Reasons.COLD_START.equals(prediction.getFallbackReason());
 * String ageFailure = Reasons.failure("features", Reasons.OUT_OF_RANGE, "age"); // features:out_of_range:age
 * }</pre>
 */
public final class Reasons {
  private Reasons() {}

  // ---- Dead letters of step "read" (ReadRecords) ----

  /** A CSV line the parser cannot read (an unclosed quote, ...). */
  public static final String MALFORMED_LINE = "malformed_line";
  /** A CSV record with more or fewer columns than the header. */
  public static final String WRONG_COLUMN_COUNT = "wrong_column_count";
  /** A record whose key column (or one of the composite key's columns) is empty or null. */
  public static final String MISSING_KEY = "missing_key";
  /** A key column value that does not parse as its declared type (a key timestamp, ...). */
  public static final String UNPARSABLE_KEY = "unparsable_key";
  /** A CSV column whose bytes are not valid UTF-8. */
  public static final String INVALID_UTF8 = "invalid_utf8";
  /** A JSON-lines line that is not valid JSON. */
  public static final String MALFORMED_JSON = "malformed_json";
  /** A JSON-lines line that is valid JSON but not one object. */
  public static final String NOT_AN_OBJECT = "not_an_object";

  // ---- Dead letters of step "keys" (KeyedPrediction); DUPLICATE_KEY is also a fallback reason ----

  /**
   * Several records (or predictions) share one key and the duplicate policy is {@code error}: none
   * is scored, each is a dead letter, and the key is served a fallback with this reason.
   */
  public static final String DUPLICATE_KEY = "duplicate_key";
  /** A record (or prediction) that lost to a later one of the same key under {@code last_wins}. */
  public static final String DUPLICATE_KEY_SUPERSEDED = "duplicate_key_superseded";
  /** A prediction for a key outside the expected key set: never served. */
  public static final String UNEXPECTED_KEY = "unexpected_key";

  // ---- Dead letters of step "features" (FeatureTransform); the field names the feature ----

  /** A required feature is missing, null or NaN. */
  public static final String MISSING_REQUIRED = "missing_required";
  /** A value of the wrong JSON/Beam type for the feature (a string for an integer, ...). */
  public static final String WRONG_TYPE = "wrong_type";
  /** A text value that does not parse as the feature's type or timestamp format. */
  public static final String UNPARSABLE = "unparsable";
  /** A numeric value that is infinite or NaN where a finite number is needed. */
  public static final String NOT_FINITE = "not_finite";
  /** A well-formed literal a double or long cannot hold ({@code 1e-400}, {@code 1e400}). */
  public static final String NOT_REPRESENTABLE = "not_representable";
  /** A value outside the feature's declared or fitted range. */
  public static final String OUT_OF_RANGE = "out_of_range";
  /** A categorical value outside the vocabulary, with no out-of-vocabulary bucket kept. */
  public static final String UNKNOWN_CATEGORY = "unknown_category";
  /** An array feature with a different number of elements than declared. */
  public static final String WRONG_LENGTH = "wrong_length";

  // ---- Dead letters of step "segments" (ScoreBySegment) ----

  /** A record whose segment has no model while no default model is set. */
  public static final String NO_MODEL_FOR_SEGMENT = "no_model_for_segment";
  /** A record without a segment (null column, key without the separator) and no default model. */
  public static final String MISSING_SEGMENT = "missing_segment";

  // ---- Dead letters of steps "inference" (BatchInfer) and "recommend" (Recommend) ----

  /** A feature vector (or embedding) whose size is not the model's input size. */
  public static final String WRONG_FEATURE_COUNT = "wrong_feature_count";
  /** The model threw on this one record (isolated by splitting the batch); the error has the stack. */
  public static final String INFERENCE_ERROR = "inference_error";

  // ---- Dead letters of step "aggregate" (the fraud example's AggregateAccountActivity) ----

  /** A transaction or account row without a value the aggregation needs. */
  public static final String MISSING_VALUE = "missing_value";
  /** A value that does not parse or is not finite. */
  public static final String INVALID_VALUE = "invalid_value";

  // ---- Fallback reasons (Prediction.getFallbackReason()) ----

  /** An expected key with no input record at all. */
  public static final String COLD_START = "cold_start";
  /** An expected key whose records were read but produced neither a prediction nor a dead letter. */
  public static final String NO_PREDICTION = "no_prediction";
  /** The prefix of a previous-run fallback's reason: {@code previous_run:<reason>} ({@link #previousRun}). */
  public static final String PREVIOUS_RUN_PREFIX = "previous_run:";

  // ---- Fallback reasons of a serving lookup (Lookup.fallbackReason()) ----

  /** The key is not in the published run. */
  public static final String NOT_FOUND = "not_found";
  /** No run has been published for the namespace yet. */
  public static final String NO_PUBLISHED_RUN = "no_published_run";

  /**
   * The fallback reason of a key whose records all became dead letters: the first dead letter's
   * {@code step:reason}, with {@code :field} when it names one, e.g. {@code features:out_of_range:age}.
   */
  public static String failure(String step, String reason, @Nullable String field) {
    return step + ":" + reason + (field == null ? "" : ":" + field);
  }

  /** The reason of a previous run's prediction served in place of a fallback for {@code reason}. */
  public static String previousRun(String reason) {
    return PREVIOUS_RUN_PREFIX + reason;
  }
}
