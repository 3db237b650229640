package dev.batchserve.transforms.serving;

import dev.batchserve.transforms.values.Prediction;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The answer to one lookup: the prediction and where it came from, or why there is none.
 *
 * <ul>
 *   <li>{@link Source#STORE}: the served batch run had the key; {@link #age()} is how long ago that
 *       run was published ({@link #publishedAt()}), never negative.
 *   <li>{@link Source#COMPUTED}: predicted on demand from the features given, with the batch job's
 *       feature spec and model; {@link #computedBecause()} says why: {@code not_found},
 *       {@code no_published_run}, or the stored row's fallback reason ({@code cold_start}, ...).
 *   <li>{@link Source#FALLBACK}: no prediction; {@link #fallbackReason()} says why
 *       ({@code not_found}, {@code no_published_run}, or the feature step's reason).
 * </ul>
 *
 * <pre>{@code
 * Lookup l = store.get("acct-7");
 * if (l.isPresent()) { double score = l.prediction().get().getScore(); }
 * }</pre>
 */
public final class Lookup {
  /** Where the prediction came from. */
  public enum Source {
    STORE,
    COMPUTED,
    FALLBACK
  }

  private final String key;
  private final Source source;
  private final @Nullable Prediction prediction;
  private final @Nullable String servedRunId;
  private final @Nullable Duration age;
  private final @Nullable Instant publishedAt;
  private final @Nullable String fallbackReason;
  private final @Nullable String computedBecause;

  private Lookup(String key, Source source, @Nullable Prediction prediction, @Nullable String servedRunId,
      @Nullable Duration age, @Nullable Instant publishedAt, @Nullable String fallbackReason,
      @Nullable String computedBecause) {
    this.key = Objects.requireNonNull(key, "key");
    this.source = source;
    this.prediction = prediction;
    this.servedRunId = servedRunId;
    this.age = age;
    this.publishedAt = publishedAt;
    this.fallbackReason = fallbackReason;
    this.computedBecause = computedBecause;
  }

  /**
   * A stored prediction of the run {@code servedRunId}, published at {@code publishedAt} (null when the
   * store does not know: then there is no age, rather than one counted from the prediction timestamp).
   * Public for the store connectors in their own artifacts.
   */
  public static Lookup stored(String key, Prediction p, String servedRunId, @Nullable Instant publishedAt, Instant now) {
    return new Lookup(key, Source.STORE, p, servedRunId,
        publishedAt == null ? null : Age.since(publishedAt, now).duration(), publishedAt, null, null);
  }

  static Lookup computed(String key, Prediction p, @Nullable String servedRunId, String because) {
    return new Lookup(key, Source.COMPUTED, p, servedRunId, Duration.ZERO, null, null,
        Objects.requireNonNull(because, "because"));
  }

  /**
   * No prediction for {@code key}, for {@code reason} ({@link PredictionStore#NOT_FOUND}, ...);
   * {@code servedRunId} is null when no run is served. Public for the store connectors.
   */
  public static Lookup fallback(String key, @Nullable String servedRunId, String reason) {
    return new Lookup(key, Source.FALLBACK, null, servedRunId, null, null, Objects.requireNonNull(reason, "reason"),
        null);
  }

  public String key() {
    return key;
  }

  public Source source() {
    return source;
  }

  public boolean isPresent() {
    return prediction != null;
  }

  /** The prediction envelope with its metadata (model, version, timestamp, run id, confidence). */
  public Optional<Prediction> prediction() {
    return Optional.ofNullable(prediction);
  }

  /** The run the store served at lookup time, when there was one. */
  public Optional<String> servedRunId() {
    return Optional.ofNullable(servedRunId);
  }

  /**
   * How old the prediction is: how long ago its run was published ({@link Age}: never negative, never
   * counted from the prediction timestamp, the end of the run's input window); zero for a prediction
   * computed on demand; empty for a fallback, or when the store does not record when the run was
   * published (a run published by a release before {@code published_at} was recorded).
   */
  public Optional<Duration> age() {
    return Optional.ofNullable(age);
  }

  /** When the served run was published ({@link Source#STORE} only, when the store recorded it). */
  public Optional<Instant> publishedAt() {
    return Optional.ofNullable(publishedAt);
  }

  /** Why there is no prediction; empty when there is one. */
  public Optional<String> fallbackReason() {
    return Optional.ofNullable(fallbackReason);
  }

  /**
   * Why the prediction was computed on demand ({@link Source#COMPUTED} only): {@code not_found},
   * {@code no_published_run}, or the fallback reason of the row the store held for the key.
   */
  public Optional<String> computedBecause() {
    return Optional.ofNullable(computedBecause);
  }

  @Override
  public String toString() {
    return "Lookup{key=" + key + ", source=" + source
        + (prediction == null ? "" : ", prediction=" + prediction)
        + (servedRunId == null ? "" : ", servedRun=" + servedRunId)
        + (age == null ? "" : ", age=" + Age.human(age))
        + (fallbackReason == null ? "" : ", fallbackReason=" + fallbackReason)
        + (computedBecause == null ? "" : ", computedBecause=" + computedBecause) + "}";
  }
}
