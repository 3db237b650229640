package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.transforms.monitoring.FeatureQuality;
import dev.batchserve.transforms.monitoring.RunQuality;
import java.time.Instant;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A run report in the Prometheus text exposition format (version 0.0.4), for a node-exporter
 * textfile collector or a push gateway: counters and gauges named {@code batchserve_...}, each
 * sample labelled with {@code run_id} (and {@code feature} / {@code reason} where it applies).
 */
final class PrometheusText {
  private final StringBuilder out = new StringBuilder();
  private final String runId;

  private PrometheusText(String runId) {
    this.runId = runId;
  }

  static String render(JsonNode report, @Nullable RunQuality quality) {
    PrometheusText p = new PrometheusText(report.path("run_id").asText());
    JsonNode counts = report.path("counts");
    p.metric("batchserve_run_success", "gauge", "1 when the run published, else 0.",
        "published".equals(report.path("status").asText()) ? 1.0 : 0.0);
    p.metric("batchserve_run_duration_seconds", "gauge", "Wall time of the run.",
        RunReport.number(report.get("duration_seconds")));
    p.metric("batchserve_run_throughput_records_per_second", "gauge", "Records read per second.",
        RunReport.number(report.get("throughput_records_per_second")));
    if (report.hasNonNull("finished_at")) {
      p.metric("batchserve_run_finished_timestamp_seconds", "gauge", "When the run finished (Unix time).",
          Instant.parse(report.get("finished_at").asText()).toEpochMilli() / 1000.0);
    }
    p.metric("batchserve_records_read_total", "counter", "Records read from the input.",
        RunReport.number(counts.get("records_read")));
    p.metric("batchserve_records_unreadable_total", "counter", "Input lines or records that could not be read.",
        RunReport.number(counts.get("unreadable")));
    p.metric("batchserve_predictions_total", "counter", "Keys predicted by the model.",
        RunReport.number(counts.get("predictions")));
    p.metric("batchserve_fallbacks_total", "counter", "Keys served by a fallback.",
        RunReport.number(counts.get("fallbacks")));
    p.metric("batchserve_dead_letters_total", "counter", "Records of the scoring steps that became dead letters.",
        RunReport.number(counts.get("dead_letters")));
    JsonNode byReason = counts.path("dead_letters_by_reason");
    if (byReason.isObject() && byReason.size() > 0) {
      p.header("batchserve_dead_letters_by_reason_total", "counter", "All dead letters by step:reason.");
      byReason.fields().forEachRemaining(e ->
          p.sample("batchserve_dead_letters_by_reason_total", "reason", e.getKey(), e.getValue().asDouble()));
    }
    JsonNode byModel = counts.path("predictions_by_model");
    if (byModel.isObject() && byModel.size() > 0) {
      p.header("batchserve_predictions_by_model_total", "counter", "Model predictions by model (name:version).");
      byModel.fields().forEachRemaining(e ->
          p.sample("batchserve_predictions_by_model_total", "model", e.getKey(), e.getValue().asDouble()));
    }
    JsonNode inference = report.path("inference");
    p.metric("batchserve_model_load_ms_max", "gauge", "Slowest model load.",
        RunReport.number(inference.path("model_load_ms").get("max")));
    p.metric("batchserve_batch_latency_us_mean", "gauge", "Mean model call latency per batch.",
        RunReport.number(inference.path("batch_latency_us").get("mean")));
    p.metric("batchserve_batch_latency_us_max", "gauge", "Slowest model call per batch.",
        RunReport.number(inference.path("batch_latency_us").get("max")));
    if (quality != null) {
      p.metric("batchserve_dead_letter_rate", "gauge", "Dead letters over records read.", quality.getDeadLetterRate());
      p.metric("batchserve_prediction_mean", "gauge", "Mean model score.", quality.getPredictions().getMean());
      p.metric("batchserve_prediction_p50", "gauge", "Median model score.", quality.getPredictions().quantile(50));
      p.metric("batchserve_prediction_p99", "gauge", "99th percentile model score.", quality.getPredictions().quantile(99));
      p.metric("batchserve_prediction_mean_shift", "gauge", "Mean score minus the previous run's.",
          quality.getPredictionMeanShift());
      p.metric("batchserve_prediction_change_rate", "gauge", "Share of keys whose score moved by more than epsilon.",
          quality.getChange() == null ? null : quality.getChange().getChangeRate());
      p.featureMetric(quality, "batchserve_feature_null_rate", "Null rate per input feature.", "null");
      p.featureMetric(quality, "batchserve_feature_psi", "PSI against training per numeric feature.", "psi");
      p.featureMetric(quality, "batchserve_feature_js_divergence", "Jensen-Shannon divergence (base 2) against training.", "js");
      p.featureMetric(quality, "batchserve_feature_linf", "L-infinity of category shares against training.", "linf");
    }
    return p.out.toString();
  }

  private void featureMetric(RunQuality q, String name, String help, String which) {
    boolean headed = false;
    for (FeatureQuality f : q.getFeatures()) {
      Double v = switch (which) {
        case "null" -> f.getNullRate();
        case "psi" -> f.getPsi();
        case "js" -> f.getJsDivergence();
        default -> f.getLInfinity();
      };
      if (v == null) {
        continue;
      }
      if (!headed) {
        header(name, "gauge", help);
        headed = true;
      }
      sample(name, "feature", f.getName(), v);
    }
  }

  private void metric(String name, String type, String help, @Nullable Double value) {
    if (value == null) {
      return;
    }
    header(name, type, help);
    sample(name, null, null, value);
  }

  private void header(String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private void sample(String name, @Nullable String label, @Nullable String value, double v) {
    out.append(name).append("{run_id=\"").append(escape(runId)).append('"');
    if (label != null) {
      out.append(',').append(label).append("=\"").append(escape(value)).append('"');
    }
    out.append("} ").append(format(v)).append('\n');
  }

  static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.valueOf((long) v);
    }
    return Double.toString(v); // shortest exact form; Prometheus parses e.g. 1.7966E9

  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
