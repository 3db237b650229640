package dev.batchserve.transforms.values;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * The prediction envelope for one entity: what the model said (or the fallback used instead), and
 * the metadata a store needs to serve it: model name and version, prediction timestamp, run id.
 *
 * <p>The entity key travels beside it as the key of a {@code KV}; {@link #toRow(String)} joins the two
 * into a row of {@link #SCHEMA}, which maps one to one onto Parquet, BigQuery and SQL columns.
 *
 * <p>It may also carry pass-through values ({@link #getPassThrough()}): input columns copied as text,
 * in the order they were asked for (a row id, a region), which are no model features. They are
 * written by {@link #toJson(String)} as the nested object {@code "pass_through"} (absent when there
 * are none) and are not part of {@link #SCHEMA}.
 *
 * <pre>{@code
 * Prediction p = Prediction.builder()
 *     .scores(new float[] {0.93f}).confidence(0.93)
 *     .model("fraud-mlp", "3").predictionTimestampMillis(ts).runId("fraud-daily-20261128")
 *     .build();
 * }</pre>
 */
@DefaultCoder(Prediction.PredictionCoder.class)
public final class Prediction implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Row layout of a keyed prediction: the documented output schema of every sink. */
  public static final Schema SCHEMA =
      Schema.builder()
          .addStringField("key")
          .addNullableField("score", FieldType.DOUBLE)
          .addArrayField("scores", FieldType.FLOAT)
          .addArrayField("items", FieldType.STRING)
          .addNullableField("label", FieldType.STRING)
          .addNullableField("confidence", FieldType.DOUBLE)
          .addStringField("model_name")
          .addStringField("model_version")
          .addDateTimeField("prediction_timestamp")
          .addStringField("run_id")
          .addNullableField("fallback_reason", FieldType.STRING)
          .build();

  private final float[] scores;
  private final List<String> items;
  private final @Nullable String label;
  private final @Nullable Double confidence;
  private final String modelName;
  private final String modelVersion;
  private final long predictionTimestampMillis;
  private final String runId;
  private final @Nullable String fallbackReason;
  private final Map<String, @Nullable String> passThrough;

  private Prediction(Builder b) {
    this.scores = b.scores.clone();
    this.items = Collections.unmodifiableList(new ArrayList<>(b.items));
    this.label = b.label;
    this.confidence = b.confidence;
    this.modelName = Objects.requireNonNull(b.modelName, "modelName");
    this.modelVersion = Objects.requireNonNull(b.modelVersion, "modelVersion");
    this.predictionTimestampMillis = b.predictionTimestampMillis;
    this.runId = Objects.requireNonNull(b.runId, "runId");
    this.fallbackReason = b.fallbackReason;
    this.passThrough = Collections.unmodifiableMap(new LinkedHashMap<>(b.passThrough));
    if (!items.isEmpty() && items.size() != scores.length) {
      throw new IllegalArgumentException(
          "items and scores must have the same length, but were " + items.size() + " and " + scores.length);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.scores = scores.clone();
    b.items = new ArrayList<>(items);
    b.label = label;
    b.confidence = confidence;
    b.modelName = modelName;
    b.modelVersion = modelVersion;
    b.predictionTimestampMillis = predictionTimestampMillis;
    b.runId = runId;
    b.fallbackReason = fallbackReason;
    b.passThrough = new LinkedHashMap<>(passThrough);
    return b;
  }

  /** The model outputs (one score, class probabilities, an embedding, or top-k item scores). */
  public float[] getScores() {
    return scores.clone();
  }

  /** The primary score: the first output, or null when there is none (an abstaining fallback). */
  public @Nullable Double getScore() {
    return scores.length == 0 ? null : (double) scores[0];
  }

  /** Item ids, parallel to {@link #getScores()}, for top-k outputs (recommendations); else empty. */
  public List<String> getItems() {
    return items;
  }

  public @Nullable String getLabel() {
    return label;
  }

  public @Nullable Double getConfidence() {
    return confidence;
  }

  public String getModelName() {
    return modelName;
  }

  public String getModelVersion() {
    return modelVersion;
  }

  public long getPredictionTimestampMillis() {
    return predictionTimestampMillis;
  }

  public String getRunId() {
    return runId;
  }

  /** Why a fallback was served instead of a model prediction; null when the model predicted. */
  public @Nullable String getFallbackReason() {
    return fallbackReason;
  }

  public boolean isFallback() {
    return fallbackReason != null;
  }

  /**
   * Input columns carried beside the prediction, column name to its value as text (null for a null
   * value), in the order they were configured; empty when none were asked for.
   */
  public Map<String, @Nullable String> getPassThrough() {
    return passThrough;
  }

  /**
   * The keyed row in {@link #SCHEMA} layout. Values are attached in field order, already of the
   * schema's types: building by field name ({@code withFieldValue}) parses each name with Beam's
   * field-access grammar and verifies every value again, which was the largest cost of writing
   * files (a profile of the fraud job at 1M rows).
   */
  public Row toRow(String key) {
    List<Float> scoreList = new ArrayList<>(scores.length);
    for (float s : scores) {
      scoreList.add(s);
    }
    return Row.withSchema(SCHEMA).attachValues(java.util.Arrays.asList(key, getScore(), scoreList, items, label,
        confidence, modelName, modelVersion, new Instant(predictionTimestampMillis), runId, fallbackReason));
  }

  /** One JSON object (the JSON-lines and Redis value layout), fields named as in {@link #SCHEMA}. */
  public String toJson(String key) {
    ObjectNode n = JSON.createObjectNode();
    n.put("key", key);
    Double score = getScore();
    if (score == null) {
      n.putNull("score");
    } else {
      n.put("score", scores[0]);
    }
    ArrayNode s = n.putArray("scores");
    for (float f : scores) {
      s.add(f);
    }
    ArrayNode it = n.putArray("items");
    items.forEach(it::add);
    n.put("label", label);
    n.put("confidence", confidence);
    n.put("model_name", modelName);
    n.put("model_version", modelVersion);
    n.put("prediction_timestamp", java.time.Instant.ofEpochMilli(predictionTimestampMillis).toString());
    n.put("run_id", runId);
    n.put("fallback_reason", fallbackReason);
    // Only when configured, so that the output of a job without pass-through columns is unchanged.
    if (!passThrough.isEmpty()) {
      ObjectNode pt = n.putObject("pass_through");
      passThrough.forEach(pt::put);
    }
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render prediction as JSON", e);
    }
  }

  /**
   * Parses one line written by {@link #toJson(String)} back into its key and prediction (e.g. the
   * previous run's predictions, for {@code Fallback.previousRun}).
   *
   * @throws IllegalArgumentException naming what is missing or malformed
   */
  public static org.apache.beam.sdk.values.KV<String, Prediction> fromJson(String line) {
    com.fasterxml.jackson.databind.JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a prediction JSON line: " + e.getOriginalMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("not a prediction JSON object: " + line);
    }
    for (String required : List.of("key", "scores", "model_name", "model_version", "prediction_timestamp", "run_id")) {
      if (!n.hasNonNull(required)) {
        throw new IllegalArgumentException("prediction JSON line has no '" + required + "': " + line);
      }
    }
    float[] scores = new float[n.get("scores").size()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = (float) n.get("scores").get(i).asDouble();
    }
    List<String> items = new ArrayList<>();
    if (n.hasNonNull("items")) {
      n.get("items").forEach(it -> items.add(it.asText()));
    }
    Prediction p = builder()
        .scores(scores)
        .items(items)
        .label(n.hasNonNull("label") ? n.get("label").asText() : null)
        .confidence(n.hasNonNull("confidence") ? n.get("confidence").asDouble() : null)
        .model(n.get("model_name").asText(), n.get("model_version").asText())
        .predictionTimestampMillis(java.time.Instant.parse(n.get("prediction_timestamp").asText()).toEpochMilli())
        .runId(n.get("run_id").asText())
        .fallbackReason(n.hasNonNull("fallback_reason") ? n.get("fallback_reason").asText() : null)
        .passThrough(passThroughOf(n.get("pass_through"), line))
        .build();
    return org.apache.beam.sdk.values.KV.of(n.get("key").asText(), p);
  }

  private static Map<String, @Nullable String> passThroughOf(
      com.fasterxml.jackson.databind.@Nullable JsonNode node, String line) {
    Map<String, @Nullable String> values = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return values;
    }
    if (!node.isObject()) {
      throw new IllegalArgumentException("prediction JSON line has a 'pass_through' that is not an object: " + line);
    }
    node.fields().forEachRemaining(e -> values.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
    return values;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof Prediction)) {
      return false;
    }
    Prediction p = (Prediction) o;
    return Arrays.equals(scores, p.scores)
        && items.equals(p.items)
        && Objects.equals(label, p.label)
        && Objects.equals(confidence, p.confidence)
        && modelName.equals(p.modelName)
        && modelVersion.equals(p.modelVersion)
        && predictionTimestampMillis == p.predictionTimestampMillis
        && runId.equals(p.runId)
        && Objects.equals(fallbackReason, p.fallbackReason)
        // In order: the coder writes the columns in order, and consistentWithEquals says so.
        && new ArrayList<>(passThrough.entrySet()).equals(new ArrayList<>(p.passThrough.entrySet()));
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        Arrays.hashCode(scores), items, label, confidence, modelName, modelVersion,
        predictionTimestampMillis, runId, fallbackReason, passThrough);
  }

  @Override
  public String toString() {
    return "Prediction{scores=" + Arrays.toString(scores)
        + (items.isEmpty() ? "" : ", items=" + items)
        + ", label=" + label + ", confidence=" + confidence
        + ", model=" + modelName + ":" + modelVersion
        + ", ts=" + java.time.Instant.ofEpochMilli(predictionTimestampMillis)
        + ", runId=" + runId
        + (fallbackReason == null ? "" : ", fallbackReason=" + fallbackReason)
        + (passThrough.isEmpty() ? "" : ", passThrough=" + passThrough) + "}";
  }

  /** Builder for {@link Prediction}. */
  public static final class Builder {
    private float[] scores = new float[0];
    private List<String> items = new ArrayList<>();
    private @Nullable String label;
    private @Nullable Double confidence;
    private @Nullable String modelName;
    private @Nullable String modelVersion;
    private long predictionTimestampMillis;
    private @Nullable String runId;
    private @Nullable String fallbackReason;
    private Map<String, @Nullable String> passThrough = new LinkedHashMap<>();

    private Builder() {}

    public Builder scores(float[] scores) {
      this.scores = Objects.requireNonNull(scores, "scores").clone();
      return this;
    }

    public Builder items(List<String> items) {
      this.items = new ArrayList<>(Objects.requireNonNull(items, "items"));
      return this;
    }

    public Builder label(@Nullable String label) {
      this.label = label;
      return this;
    }

    public Builder confidence(@Nullable Double confidence) {
      this.confidence = confidence;
      return this;
    }

    public Builder model(String name, String version) {
      this.modelName = name;
      this.modelVersion = version;
      return this;
    }

    public Builder predictionTimestampMillis(long millis) {
      this.predictionTimestampMillis = millis;
      return this;
    }

    public Builder runId(String runId) {
      this.runId = runId;
      return this;
    }

    public Builder fallbackReason(@Nullable String reason) {
      this.fallbackReason = reason;
      return this;
    }

    /**
     * Input columns to carry beside the prediction, in iteration order (use a {@code LinkedHashMap});
     * values may be null. Replaces any set before.
     */
    public Builder passThrough(Map<String, @Nullable String> values) {
      Objects.requireNonNull(values, "values");
      for (String column : values.keySet()) {
        if (column == null || column.isEmpty()) {
          throw new IllegalArgumentException("pass-through column names must be non-empty, but were " + values.keySet());
        }
      }
      this.passThrough = new LinkedHashMap<>(values);
      return this;
    }

    public Prediction build() {
      return new Prediction(this);
    }
  }

  /** Deterministic coder for {@link Prediction}. */
  public static final class PredictionCoder extends AtomicCoder<Prediction> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(Prediction.class), of());
    }

    private static final PredictionCoder INSTANCE = new PredictionCoder();
    private static final Coder<String> STRING = StringUtf8Coder.of();
    private static final Coder<String> NULLABLE_STRING = NullableCoder.of(StringUtf8Coder.of());
    private static final Coder<Double> NULLABLE_DOUBLE = NullableCoder.of(DoubleCoder.of());
    private static final Coder<List<String>> ITEMS = ListCoder.of(StringUtf8Coder.of());

    public static PredictionCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Prediction p, OutputStream out) throws IOException {
      VarIntCoder.of().encode(p.scores.length, out);
      DataOutputStream data = new DataOutputStream(out);
      for (float f : p.scores) {
        data.writeFloat(f);
      }
      data.flush();
      ITEMS.encode(p.items, out);
      NULLABLE_STRING.encode(p.label, out);
      NULLABLE_DOUBLE.encode(p.confidence, out);
      STRING.encode(p.modelName, out);
      STRING.encode(p.modelVersion, out);
      VarLongCoder.of().encode(p.predictionTimestampMillis, out);
      STRING.encode(p.runId, out);
      NULLABLE_STRING.encode(p.fallbackReason, out);
      VarIntCoder.of().encode(p.passThrough.size(), out);
      for (Map.Entry<String, @Nullable String> e : p.passThrough.entrySet()) {
        STRING.encode(e.getKey(), out);
        NULLABLE_STRING.encode(e.getValue(), out);
      }
    }

    @Override
    public Prediction decode(InputStream in) throws IOException {
      int n = VarIntCoder.of().decode(in);
      DataInputStream data = new DataInputStream(in);
      float[] scores = new float[n];
      for (int i = 0; i < n; i++) {
        scores[i] = data.readFloat();
      }
      Builder b = new Builder();
      b.scores = scores;
      b.items = new ArrayList<>(ITEMS.decode(in));
      b.label = NULLABLE_STRING.decode(in);
      b.confidence = NULLABLE_DOUBLE.decode(in);
      b.modelName = STRING.decode(in);
      b.modelVersion = STRING.decode(in);
      b.predictionTimestampMillis = VarLongCoder.of().decode(in);
      b.runId = STRING.decode(in);
      b.fallbackReason = NULLABLE_STRING.decode(in);
      int columns = VarIntCoder.of().decode(in);
      for (int i = 0; i < columns; i++) {
        String column = STRING.decode(in);
        b.passThrough.put(column, NULLABLE_STRING.decode(in));
      }
      return new Prediction(b);
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
