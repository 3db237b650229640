package dev.batchserve.transforms.keys;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
 * KeyedPrediction.of(spec, modelUri).withFallback(Fallback.parse("previous_run:constant:0.02"));
 * }</pre>
 *
 * <p>Every fallback but {@link #popularity} has a text form, {@link #spec()}, which {@link #parse}
 * reads back: the form options ({@code --fallback=constant:0.02}) and JSON use. Two fallbacks are
 * equal when their specs are.
 */
public abstract class Fallback implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final String PREVIOUS_RUN = "previous_run";

  /** Short policy name, recorded in the envelope's model name ({@code fallback-<name>}). */
  public abstract String name();

  /**
   * The text form {@link #parse} reads: {@code abstain}, {@code constant:<score>} or
   * {@code previous_run:<otherwise>}; also the fallback's JSON form. A {@link #popularity} fallback
   * has none that parses: its spec lists its items and scores.
   */
  @JsonValue
  public abstract String spec();

  /** Whether this fallback reads the key's prediction of the previous run ({@link #previousRun}). */
  public boolean needsPreviousPredictions() {
    return false;
  }

  /**
   * The fallback {@code spec} names, any case: {@code abstain}, {@code constant:<score>}, or
   * {@code previous_run[:<abstain|constant:score>]} (the key's previous prediction, else the given
   * fallback, {@code abstain} when none is given). Also how Jackson and pipeline options read one.
   *
   * @throws IllegalArgumentException saying what the text must be, for any other text
   */
  @JsonCreator
  public static Fallback parse(String spec) {
    checkArgument(spec != null, "fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]', but was null");
    String f = spec.trim().toLowerCase(Locale.ROOT);
    if (f.startsWith(PREVIOUS_RUN)) {
      String rest = f.substring(PREVIOUS_RUN.length());
      if (rest.isEmpty()) {
        return previousRun(abstain());
      }
      checkArgument(rest.startsWith(":") && !rest.substring(1).trim().startsWith(PREVIOUS_RUN),
          "fallback previous_run takes an optional ':<abstain|constant:score>', but was '%s'", spec);
      return previousRun(parse(rest.substring(1)));
    }
    if (f.equals("abstain")) {
      return abstain();
    }
    if (f.startsWith("constant:")) {
      float score;
      try {
        score = Float.parseFloat(f.substring("constant:".length()));
      } catch (NumberFormatException e) {
        // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
        throw new IllegalArgumentException("fallback constant needs a number, e.g. constant:0.02, but was '" + spec + "'");
      }
      return constant(score);
    }
    throw new IllegalArgumentException(
        "fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]', but was '" + spec + "'");
  }

  @Override
  public final boolean equals(@Nullable Object o) {
    return o instanceof Fallback && spec().equals(((Fallback) o).spec());
  }

  @Override
  public final int hashCode() {
    return spec().hashCode();
  }

  @Override
  public String toString() {
    return spec();
  }

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
      public String spec() {
        return "constant:" + score;
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
      public String spec() {
        return "popularity" + copy + Arrays.toString(scoreCopy);
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
      public String spec() {
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
      public String spec() {
        return PREVIOUS_RUN + ":" + otherwise.spec();
      }

      @Override
      public boolean needsPreviousPredictions() {
        return true;
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
