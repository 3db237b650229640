package dev.batchserve.transforms.keys;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What a key gets when the model gave it no prediction: invalid input, failed inference, or a new
 * entity with no features (cold start). The reason always ends up in the envelope's
 * {@code fallback_reason}, so a consumer can tell a model score from a fallback.
 *
 * <pre>{@code
 * KeyedPrediction.of(spec, modelUri).withFallback(Fallback.constant(0.02f));
 * KeyedPrediction.of(spec, modelUri).withFallback(Fallback.popularity(items, scores));
 * KeyedPrediction.of(spec, modelUri).withFallback(Fallback.previousRun(Fallback.abstain()));
 * }</pre>
 */
public abstract class Fallback implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Short policy name, recorded in the envelope's model name ({@code fallback-<name>}). */
  public abstract String name();

  /**
   * The fallback for one key.
   *
   * @param previous this key's prediction from the previous run, when the pipeline supplied one
   */
  public abstract Prediction fallback(
      String key, String reason, RunInfo run, String modelVersion, @Nullable Prediction previous);

  /** Prediction envelope of a fallback of this policy. */
  protected Prediction.Builder envelope(String reason, RunInfo run, String modelVersion) {
    return Prediction.builder()
        .model("fallback-" + name(), modelVersion)
        .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
        .runId(run.runId())
        .fallbackReason(reason);
  }

  /** A constant default score (e.g. the base rate of the positive class). */
  public static Fallback constant(float score) {
    checkArgument(Float.isFinite(score), "fallback score must be finite, but was %s", score);
    return new Fallback() {
      private static final long serialVersionUID = 1L;

      @Override
      public String name() {
        return "constant";
      }

      @Override
      public Prediction fallback(
          String key, String reason, RunInfo run, String modelVersion, @Nullable Prediction previous) {
        return envelope(reason, run, modelVersion).scores(new float[] {score}).build();
      }
    };
  }

  /** A global prior or popularity list: the same items and scores for every key (cold-start users). */
  public static Fallback popularity(List<String> items, float[] scores) {
    checkArgument(items.size() == scores.length,
        "popularity items and scores must have the same length, but were %s and %s", items.size(), scores.length);
    List<String> copy = new ArrayList<>(items);
    float[] scoreCopy = scores.clone();
    return new Fallback() {
      private static final long serialVersionUID = 1L;

      @Override
      public String name() {
        return "popularity";
      }

      @Override
      public Prediction fallback(
          String key, String reason, RunInfo run, String modelVersion, @Nullable Prediction previous) {
        return envelope(reason, run, modelVersion).scores(scoreCopy).items(copy).build();
      }
    };
  }

  /** No score at all: the store holds the key with an empty prediction and the reason. */
  public static Fallback abstain() {
    return new Fallback() {
      private static final long serialVersionUID = 1L;

      @Override
      public String name() {
        return "abstain";
      }

      @Override
      public Prediction fallback(
          String key, String reason, RunInfo run, String modelVersion, @Nullable Prediction previous) {
        return envelope(reason, run, modelVersion).build();
      }
    };
  }

  /**
   * The key's prediction from the previous run (its scores, model and original timestamp, so its age
   * stays honest), re-stamped with this run's id; {@code otherwise} when the key has none.
   */
  public static Fallback previousRun(Fallback otherwise) {
    Objects.requireNonNull(otherwise, "otherwise");
    return new Fallback() {
      private static final long serialVersionUID = 1L;

      @Override
      public String name() {
        return "previous-run";
      }

      @Override
      public Prediction fallback(
          String key, String reason, RunInfo run, String modelVersion, @Nullable Prediction previous) {
        if (previous == null) {
          return otherwise.fallback(key, reason, run, modelVersion, null);
        }
        return previous.toBuilder().runId(run.runId()).fallbackReason(Reasons.previousRun(reason)).build();
      }
    };
  }
}
