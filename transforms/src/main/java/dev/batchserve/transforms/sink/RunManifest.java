package dev.batchserve.transforms.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The run-level part of an attempt's {@code _MANIFEST.json}: the run, its counts per model and its schema. */
final class RunManifest {
  /** Indented, so that a manifest reads well and is byte-identical across re-runs. */
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RunManifest() {}

  /** {@code "predictions_by_model": {"<name>:<version>": rows}}, fallbacks under their own model name. */
  static void putPerModel(ObjectNode manifest, Map<String, Long> perModel) {
    ObjectNode counts = manifest.putObject("predictions_by_model");
    new TreeMap<>(perModel).forEach(counts::put);
  }

  /** The manifest's run-level fields and schema; the caller adds counts and files. */
  static ObjectNode manifestHeader(RunInfo run, long records, java.util.Collection<String> models) {
    return manifestHeader(run, records, models, Prediction.SCHEMA);
  }

  /** As above, listing the fields of {@code rowSchema} (with a {@code pass_through} record, its fields too). */
  static ObjectNode manifestHeader(RunInfo run, long records, java.util.Collection<String> models,
      org.apache.beam.sdk.schemas.Schema rowSchema) {
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("run_id", run.runId());
    manifest.put("pipeline", run.pipeline());
    manifest.put("run_date", run.runDate().toString());
    manifest.put("interval", run.interval().name().toLowerCase(java.util.Locale.ROOT));
    manifest.put("prediction_timestamp", run.predictionTimestamp().toString());
    manifest.put("records", records);
    ArrayNode modelList = manifest.putArray("models");
    new TreeSet<>(models).forEach(modelList::add);
    ArrayNode schema = manifest.putArray("schema");
    for (org.apache.beam.sdk.schemas.Schema.Field f : rowSchema.getFields()) {
      ObjectNode field = schema.addObject();
      field.put("name", f.getName());
      field.put("type", f.getType().getTypeName().toString());
      field.put("nullable", f.getType().getNullable());
      org.apache.beam.sdk.schemas.Schema nested = f.getType().getRowSchema();
      if (nested != null) {
        ArrayNode inner = field.putArray("fields");
        for (org.apache.beam.sdk.schemas.Schema.Field g : nested.getFields()) {
          inner.addObject().put("name", g.getName()).put("type", g.getType().getTypeName().toString())
              .put("nullable", g.getType().getNullable());
        }
      }
    }
    return manifest;
  }
}
