package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.inference.ScoreBySegment;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.monitoring.PredictionDistribution;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The report of one run, written by the driver into the run directory after the run:
 * {@code _REPORT.json} (everything), {@code _REPORT.html} (self-contained, inline SVG charts) and
 * {@code metrics.prom} (Prometheus text exposition format, every sample labelled with the run id).
 *
 * <p>It holds: status and error, duration and throughput; per-stage counts from the Beam metrics
 * (records read, unreadable, predictions, fallbacks, dead letters) with dead letters and fallbacks by
 * reason; the completeness invariant; model load time and batch latency (Beam distributions give
 * count, min, max and mean, not percentiles); the run's {@link RunQuality} (quality and drift per
 * feature, prediction distribution, its shift and key-level change rate against the previous run);
 * the thresholds and whether the circuit breaker tripped.
 *
 * <pre>{@code
 * RunReport report = RunReport.builder(run, runDir).status("published").timing(start, end)
 *     .metrics(result.metrics().allMetrics()).quality(QualityFile.read(runDir)).thresholds(t).build();
 * report.writeTo(runDir);
 * }</pre>
 */
public final class RunReport {
  public static final String JSON_FILE = "_REPORT.json";
  public static final String HTML_FILE = "_REPORT.html";
  public static final String PROMETHEUS_FILE = "metrics.prom";
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final ObjectNode json;
  private final @Nullable RunQuality quality;
  private final QualityThresholds thresholds;

  private RunReport(ObjectNode json, @Nullable RunQuality quality, QualityThresholds thresholds) {
    this.json = json;
    this.quality = quality;
    this.thresholds = thresholds;
  }

  public static Builder builder(RunInfo run, String runDirectory) {
    return new Builder(run, runDirectory);
  }

  /** The report as a JSON tree (read-only by convention). */
  public ObjectNode json() {
    return json;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the run report", e);
    }
  }

  public String toHtml() {
    return ReportHtml.render(json, quality, thresholds);
  }

  public String toPrometheus() {
    return PrometheusText.render(json, quality);
  }

  /** Writes {@value #JSON_FILE}, {@value #HTML_FILE} and {@value #PROMETHEUS_FILE} into {@code runDir}. */
  public void writeTo(String runDir) {
    RunFiles.write(RunFiles.join(runDir, JSON_FILE), toJson());
    RunFiles.write(RunFiles.join(runDir, HTML_FILE), toHtml());
    RunFiles.write(RunFiles.join(runDir, PROMETHEUS_FILE), toPrometheus());
  }

  /** Collects what a report is made of; every part but the run is optional. */
  public static final class Builder {
    private final RunInfo run;
    private final String runDirectory;
    private String status = "published";
    private @Nullable String error;
    private @Nullable Instant started;
    private @Nullable Instant finished;
    private @Nullable MetricQueryResults metrics;
    private @Nullable RunQuality quality;
    private QualityThresholds thresholds = QualityThresholds.defaults();

    private Builder(RunInfo run, String runDirectory) {
      this.run = run;
      this.runDirectory = runDirectory;
    }

    /** {@code published}, {@code tripped} (circuit breaker) or {@code failed}. */
    public Builder status(String s) {
      this.status = s;
      return this;
    }

    public Builder error(@Nullable String e) {
      this.error = e;
      return this;
    }

    public Builder timing(Instant start, Instant end) {
      this.started = start;
      this.finished = end;
      return this;
    }

    public Builder metrics(@Nullable MetricQueryResults m) {
      this.metrics = m;
      return this;
    }

    public Builder quality(@Nullable RunQuality q) {
      this.quality = q;
      return this;
    }

    public Builder thresholds(QualityThresholds t) {
      this.thresholds = t;
      return this;
    }

    public RunReport build() {
      ObjectNode r = JSON.createObjectNode();
      r.put("run_id", run.runId());
      r.put("pipeline", run.pipeline());
      r.put("run_date", run.runDate().toString());
      r.put("interval", run.interval().name().toLowerCase(Locale.ROOT));
      r.put("prediction_timestamp", run.predictionTimestamp().toString());
      r.put("run_directory", runDirectory);
      JsonNode models = manifestModels(runDirectory);
      if (models != null) {
        r.set("models", models);
      }
      r.put("status", status);
      r.put("error", error);
      double seconds = 0;
      if (started != null && finished != null) {
        r.put("started_at", started.toString());
        r.put("finished_at", finished.toString());
        seconds = Duration.between(started, finished).toNanos() / 1e9;
      }
      r.put("duration_seconds", seconds);

      ObjectNode counts = r.putObject("counts");
      Long read = counter(ReadRecords.METRICS_NAMESPACE, "records_read");
      Long unreadable = counter(ReadRecords.METRICS_NAMESPACE, "records_rejected");
      if (read == null && quality != null) {
        read = quality.getInputRecords();
        unreadable = quality.getUnreadable();
      }
      counts.put("records_read", read);
      counts.put("unreadable", unreadable);
      Long input = counter(KeyedPrediction.RUN_METRICS_NAMESPACE, "input_records");
      Long expected = counter(KeyedPrediction.RUN_METRICS_NAMESPACE, "expected_keys");
      Long predictions = counter(KeyedPrediction.RUN_METRICS_NAMESPACE, "predictions");
      Long fallbacks = counter(KeyedPrediction.RUN_METRICS_NAMESPACE, "fallbacks");
      Long dead = counter(KeyedPrediction.RUN_METRICS_NAMESPACE, "dead_letters");
      counts.put("features_valid", counter(FeatureTransform.NAMESPACE, "records_valid"));
      counts.put("features_skipped", counter(FeatureTransform.NAMESPACE, "records_skipped"));
      counts.put("input_records", input);
      counts.put("expected_keys", expected);
      counts.put("predictions", predictions);
      counts.put("fallbacks", fallbacks);
      counts.put("dead_letters", dead);
      java.util.Map<String, Long> byModel = countersByName(ScoreBySegment.METRICS_NAMESPACE, ScoreBySegment.PREDICTIONS_COUNTER_PREFIX);
      if (!byModel.isEmpty()) {
        // Only with segment models: each model's predictions before the join back ("name:version").
        counts.set("predictions_by_model", JSON.valueToTree(byModel));
      }
      if (quality != null) {
        counts.put("dead_letters_all", quality.getDeadLetters());
        counts.put("dead_letter_rate", quality.getDeadLetterRate());
        counts.set("dead_letters_by_reason", JSON.valueToTree(quality.getDeadLettersByReason()));
        counts.set("fallbacks_by_reason", JSON.valueToTree(quality.getPredictions().getFallbacksByReason()));
      }
      r.put("throughput_records_per_second", seconds > 0 && read != null ? read / seconds : 0.0);

      ObjectNode completeness = r.putObject("completeness");
      if (input != null && expected != null && predictions != null && fallbacks != null && dead != null) {
        boolean records = input == predictions + dead;
        boolean keys = expected == predictions + fallbacks;
        completeness.put("holds", records && keys);
        completeness.put("input_records = predictions + dead_letters",
            input + " = " + predictions + " + " + dead);
        completeness.put("expected_keys = predictions + fallbacks",
            expected + " = " + predictions + " + " + fallbacks);
      } else {
        completeness.putNull("holds");
        completeness.put("note", "not checked: the run did not reach the completeness check");
      }

      ObjectNode inference = r.putObject("inference");
      inference.put("num_inferences", counter(BatchInfer.METRICS_NAMESPACE, "num_inferences"));
      inference.put("failed_records", counter(BatchInfer.METRICS_NAMESPACE, "failed_records"));
      inference.set("model_load_ms", distribution(BatchInfer.METRICS_NAMESPACE, "model_load_ms"));
      inference.set("batch_latency_us", distribution(BatchInfer.METRICS_NAMESPACE, "batch_latency_us"));
      inference.set("batch_size", distribution(BatchInfer.METRICS_NAMESPACE, "batch_size"));
      inference.put("note", "Beam distributions carry count, sum, min, max and mean; no percentiles");

      ObjectNode t = r.putObject("thresholds");
      t.put("max_dead_letter_rate", thresholds.maxDeadLetterRate());
      t.put("max_psi", thresholds.maxPsi());
      t.put("max_js_divergence", thresholds.maxJsDivergence());
      t.put("max_category_shift", thresholds.maxCategoryShift());
      t.put("max_prediction_mean_shift", thresholds.maxPredictionMeanShift());
      t.put("min_drift_sample", thresholds.minDriftSample());
      t.put("min_records", thresholds.minRecords());
      t.put("max_record_drop", thresholds.maxRecordDrop());
      ObjectNode breaker = r.putObject("circuit_breaker");
      if (quality != null) {
        var violations = thresholds.violations(quality);
        breaker.put("tripped", !violations.isEmpty());
        violations.forEach(breaker.putArray("violations")::add);
      } else {
        breaker.putNull("tripped");
      }

      if (quality != null) {
        ObjectNode shift = r.putObject("predictions_vs_previous");
        shift.put("previous_run_id", quality.getPreviousRunId());
        shift.put("mean", quality.getPredictions().getMean());
        PredictionDistribution prev = quality.getPreviousPredictions();
        shift.put("previous_mean", prev == null ? null : prev.getMean());
        shift.put("mean_shift", quality.getPredictionMeanShift());
        shift.put("histogram_psi", quality.getPredictionPsi());
        if (quality.getChange() != null) {
          shift.put("change_epsilon", quality.getChange().getEpsilon());
          shift.put("keys_compared", quality.getChange().getCompared());
          shift.put("keys_changed", quality.getChange().getChanged());
          shift.put("change_rate", quality.getChange().getChangeRate());
          shift.put("keys_added", quality.getChange().getAdded());
          shift.put("keys_removed", quality.getChange().getRemoved());
        }
        try {
          r.set("quality", JSON.readTree(quality.toJson()));
        } catch (JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      } else {
        r.putNull("quality");
      }
      return new RunReport(r, quality, thresholds);
    }

    private @Nullable Long counter(String namespace, String name) {
      if (metrics == null) {
        return null;
      }
      long total = 0; // a counter never incremented is not reported at all: it counted 0
      for (MetricResult<Long> m : metrics.getCounters()) {
        if (m.getName().getNamespace().equals(namespace) && m.getName().getName().equals(name)) {
          Long v = m.getAttempted();
          total += v == null ? 0 : v;
        }
      }
      return total;
    }

    /** Counters of {@code namespace} whose name starts with {@code prefix}, by the rest of the name. */
    private java.util.Map<String, Long> countersByName(String namespace, String prefix) {
      java.util.Map<String, Long> byName = new java.util.TreeMap<>();
      if (metrics == null) {
        return byName;
      }
      for (MetricResult<Long> m : metrics.getCounters()) {
        String name = m.getName().getName();
        if (m.getName().getNamespace().equals(namespace) && name.startsWith(prefix) && m.getAttempted() != null) {
          byName.merge(name.substring(prefix.length()), m.getAttempted(), Long::sum);
        }
      }
      return byName;
    }

    /** The {@code models} ("name:version") of the run's {@code _MANIFEST.json}, when it was published. */
    private static @Nullable JsonNode manifestModels(String dir) {
      String manifest = RunFiles.readIfExists(RunFiles.join(dir, dev.batchserve.transforms.sink.FileSink.MANIFEST));
      if (manifest == null) {
        return null;
      }
      try {
        JsonNode models = JSON.readTree(manifest).get("models");
        return models == null || !models.isArray() ? null : models;
      } catch (java.io.IOException e) {
        return null;
      }
    }

    private JsonNode distribution(String namespace, String name) {
      ObjectNode n = JSON.createObjectNode();
      if (metrics == null) {
        return n;
      }
      long count = 0;
      long sum = 0;
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (MetricResult<DistributionResult> m : metrics.getDistributions()) {
        if (m.getName().getNamespace().equals(namespace) && m.getName().getName().equals(name)
            && m.getAttempted() != null && m.getAttempted().getCount() > 0) {
          DistributionResult d = m.getAttempted();
          count += d.getCount();
          sum += d.getSum();
          min = Math.min(min, d.getMin());
          max = Math.max(max, d.getMax());
        }
      }
      n.put("count", count);
      if (count > 0) {
        n.put("min", min);
        n.put("max", max);
        n.put("mean", (double) sum / count);
      }
      return n;
    }
  }

  static @Nullable Double number(JsonNode n) {
    return n == null || !n.isNumber() ? null : n.asDouble();
  }
}
