package dev.batchserve.pipelines.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code alerts.thresholds}: the circuit breaker's limits, each a number or
 * {@code off} as {@link QualityThresholds#withLimit} reads it (also its checks and messages); unset
 * ones keep their defaults.
 *
 * <pre>
 * thresholds: {maxDeadLetterRate: 0.05, maxPsi: off, minRecords: 1000}
 * </pre>
 */
public record JobThresholds(
    @JsonDeserialize(using = LimitText.class) @Nullable String maxDeadLetterRate,
    @JsonDeserialize(using = LimitText.class) @Nullable String maxPsi,
    @JsonDeserialize(using = LimitText.class) @Nullable String maxJsDivergence,
    @JsonDeserialize(using = LimitText.class) @Nullable String maxCategoryShift,
    @JsonDeserialize(using = LimitText.class) @Nullable String maxPredictionMeanShift,
    @JsonDeserialize(using = LimitText.class) @Nullable String minDriftSample,
    @JsonDeserialize(using = LimitText.class) @Nullable String minRecords,
    @JsonDeserialize(using = LimitText.class) @Nullable String maxRecordDrop) {

  /** Limit name -> its text, for the limits set, in {@link QualityThresholds#LIMITS} order. */
  public Map<String, String> limits() {
    Map<String, String> m = new LinkedHashMap<>();
    String[] values = {maxDeadLetterRate, maxPsi, maxJsDivergence, maxCategoryShift, maxPredictionMeanShift,
        minDriftSample, minRecords, maxRecordDrop};
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        m.put(QualityThresholds.LIMITS.get(i), values[i]);
      }
    }
    return m;
  }

  /** {@code q} with the limits set here. */
  public QualityThresholds applyTo(QualityThresholds q) {
    for (Map.Entry<String, String> limit : limits().entrySet()) {
      q = q.withLimit(limit.getKey(), limit.getValue());
    }
    return q;
  }

  void validate(Problems p) {
    // QualityThresholds' own checks, as for the options; its messages start with the limit's name.
    QualityThresholds q = QualityThresholds.defaults();
    for (Map.Entry<String, String> limit : limits().entrySet()) {
      try {
        q = q.withLimit(limit.getKey(), limit.getValue());
      } catch (IllegalArgumentException e) {
        p.add("alerts.thresholds." + e.getMessage());
      }
    }
  }

  /**
   * A limit's text as written: a number as is, {@code off} as {@code off} although YAML 1.1 (and so
   * the tree of the document) reads an unquoted {@code off} as the boolean false.
   */
  static final class LimitText extends JsonDeserializer<String> {
    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_FALSE) {
        return QualityThresholds.OFF;
      }
      if (t != null && t.isScalarValue() && t != JsonToken.VALUE_TRUE) {
        return p.getText();
      }
      throw JsonMappingException.from(p, "must be a number or " + QualityThresholds.OFF + ", but was " + t);
    }
  }
}
