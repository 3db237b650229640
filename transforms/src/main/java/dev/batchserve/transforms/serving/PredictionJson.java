package dev.batchserve.transforms.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Reads back the JSON layout of {@link Prediction#toJson(String)}: the inverse the stores need. */
final class PredictionJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PredictionJson() {}

  static Prediction parse(String json) {
    JsonNode n;
    try {
      n = JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException("stored prediction is not JSON", e);
    }
    JsonNode s = n.get("scores");
    float[] scores = new float[s == null ? 0 : s.size()];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = (float) s.get(i).asDouble();
    }
    List<String> items = new ArrayList<>();
    JsonNode it = n.get("items");
    if (it != null) {
      it.forEach(x -> items.add(x.asText()));
    }
    JsonNode conf = n.get("confidence");
    return Prediction.builder()
        .scores(scores)
        .items(items)
        .label(text(n, "label"))
        .confidence(conf == null || conf.isNull() ? null : conf.asDouble())
        .model(n.get("model_name").asText(), n.get("model_version").asText())
        .predictionTimestampMillis(Instant.parse(n.get("prediction_timestamp").asText()).toEpochMilli())
        .runId(n.get("run_id").asText())
        .fallbackReason(text(n, "fallback_reason"))
        .build();
  }

  private static @Nullable String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
