package dev.batchserve.transforms.monitoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Data quality, drift and prediction distribution of one run: what {@link MeasureRunQuality}
 * produces (one per run) and what {@link CircuitBreaker} judges.
 *
 * <p>The dead-letter rate is {@code dead letters / (input records + unreadable records)}, where the
 * dead letters include the unreadable ones (step {@code read}). It is written as JSON (snake_case,
 * sorted keys) by {@link #toJson()}; its coder encodes that JSON, which is deterministic.
 *
 * <pre>{@code
 * PCollection<RunQuality> quality = rows.apply(MeasureRunQuality.<String>of(spec)
 *     .withPredictions(predictions).withDeadLetters(deadLetters));
 * }</pre>
 */
@DefaultCoder(RunQuality.RunQualityCoder.class)
public final class RunQuality implements Serializable {
  private static final long serialVersionUID = 1L;

  String runId = "";
  long inputRecords;
  long unreadable;
  long deadLetters;
  double deadLetterRate;
  /** {@code step:reason} to count. */
  Map<String, Long> deadLettersByReason = new TreeMap<>();
  List<FeatureQuality> features = new ArrayList<>();
  PredictionDistribution predictions = new PredictionDistribution();
  @Nullable String previousRunId;
  /** Records of the previous published run (its manifest's count); null without one. */
  @Nullable Long previousRecords;
  @Nullable PredictionDistribution previousPredictions;
  /** This run's mean score minus the previous run's; null without a previous run. */
  @Nullable Double predictionMeanShift;
  /** PSI of this run's score histogram against the previous run's. */
  @Nullable Double predictionPsi;
  @Nullable PredictionChange change;

  RunQuality() {}

  public String getRunId() {
    return runId;
  }

  /** Records that reached scoring (readable rows). */
  public long getInputRecords() {
    return inputRecords;
  }

  /** Lines or records that could not be read at all. */
  public long getUnreadable() {
    return unreadable;
  }

  /** All dead letters, unreadable records included. */
  public long getDeadLetters() {
    return deadLetters;
  }

  public double getDeadLetterRate() {
    return deadLetterRate;
  }

  public Map<String, Long> getDeadLettersByReason() {
    return Collections.unmodifiableMap(deadLettersByReason);
  }

  public List<FeatureQuality> getFeatures() {
    return Collections.unmodifiableList(features);
  }

  /** The named feature's quality. */
  public FeatureQuality feature(String name) {
    for (FeatureQuality f : features) {
      if (f.name.equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException("no feature '" + name + "' in the run quality of " + runId);
  }

  public PredictionDistribution getPredictions() {
    return predictions;
  }

  public @Nullable String getPreviousRunId() {
    return previousRunId;
  }

  /**
   * The previous published run's record count, which {@link QualityThresholds#maxRecordDrop()} judges
   * this run's {@link #getInputRecords()} against; null when there is no previous run or it had no count.
   */
  public @Nullable Long getPreviousRecords() {
    return previousRecords;
  }

  public @Nullable PredictionDistribution getPreviousPredictions() {
    return previousPredictions;
  }

  public @Nullable Double getPredictionMeanShift() {
    return predictionMeanShift;
  }

  public @Nullable Double getPredictionPsi() {
    return predictionPsi;
  }

  /** Key-level change against the previous run, when its predictions were readable. */
  public @Nullable PredictionChange getChange() {
    return change;
  }

  /** Deterministic JSON: snake_case field names, sorted keys. */
  public String toJson() {
    try {
      return QualityJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write run quality as JSON", e);
    }
  }

  /** Parses what {@link #toJson()} wrote. */
  public static RunQuality fromJson(String json) {
    try {
      return QualityJson.MAPPER.readValue(json, RunQuality.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a run quality JSON: " + e.getMessage(), e);
    }
  }

  /** Parses a prediction distribution as {@link #toJson()} writes it (e.g. from an earlier report). */
  public static PredictionDistribution distributionFromJson(String json) {
    try {
      return QualityJson.MAPPER.readValue(json, PredictionDistribution.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a prediction distribution JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof RunQuality && toJson().equals(((RunQuality) o).toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return "RunQuality{" + runId + ", records=" + inputRecords + ", deadLetters=" + deadLetters
        + ", features=" + features + "}";
  }

  /** Encodes the JSON text: deterministic, since the JSON has a fixed field and key order. */
  public static final class RunQualityCoder extends AtomicCoder<RunQuality> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(RunQuality.class), of());
    }

    private static final RunQualityCoder INSTANCE = new RunQualityCoder();

    public static RunQualityCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(RunQuality value, OutputStream out) throws IOException {
      StringUtf8Coder.of().encode(value.toJson(), out);
    }

    @Override
    public RunQuality decode(InputStream in) throws IOException {
      return fromJson(StringUtf8Coder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
