package dev.batchserve.pipelines.config;

import dev.batchserve.models.ModelOptions;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Sets a checked {@link JobConfig}'s values on {@link BatchScoringOptions} through their setters:
 * numbers as numbers, thresholds as {@link QualityThresholds} read them, column lists as lists, the
 * input and file formats, fallback, duplicate-key policy and interval as the transforms' own values
 * ({@code ReadRecords.Format}, {@code FileFormat}, {@code Fallback}, {@code DuplicateKeyPolicy},
 * {@code RunInfo.Interval}); those are not written as argument strings to be parsed again. An option named in
 * {@code keep} (given on the command line) is left as it is, so it wins over the file.
 *
 * <pre>{@code
 * BatchScoringOptions o = BatchScoringPipeline.options("--runner=DirectRunner", "--batchSize=512");
 * List<String> set = JobOptions.applyTo(job, run, o, Set.of("batchSize"));
 * BatchScoringPipeline.run(o);
 * }</pre>
 */
public final class JobOptions {
  private final BatchScoringOptions o;
  private final Set<String> keep;
  private final List<String> set = new ArrayList<>();

  private JobOptions(BatchScoringOptions o, Set<String> keep) {
    this.o = o;
    this.keep = keep;
  }

  /** New options: the pipeline's defaults, then the job's values. */
  public static BatchScoringOptions of(JobConfig job, @Nullable RunInfo run) {
    BatchScoringOptions o = PipelineOptionsFactory.as(BatchScoringOptions.class);
    applyTo(job, run, o, Set.of());
    return o;
  }

  /** See {@link JobConfig#applyTo}; returns the names of the options set, in order. */
  public static List<String> applyTo(JobConfig job, @Nullable RunInfo run, BatchScoringOptions o, Set<String> keep) {
    Map<String, JobSink> sinks = sinksByType(job);
    JobOptions w = new JobOptions(o, keep);
    w.set("pipelineName", () -> o.setPipelineName(job.name()));
    w.source(job.source(), run);
    w.set("keyColumns", () -> o.setKeyColumns(job.keyColumnNames()));
    if (job.passThroughColumns() != null && !job.passThroughColumns().isEmpty()) {
      w.set("passThroughColumns", () -> o.setPassThroughColumns(List.copyOf(job.passThroughColumns())));
    }
    w.set("model", () -> o.setModel(job.model()));
    w.segments(job.segments());
    if (job.featureSpec() != null) {
      w.set("featureSpec", () -> o.setFeatureSpec(job.featureSpec()));
    }
    w.set("batchSize", () -> o.setBatchSize(job.maxBatchSize()));
    if (job.modelRuntime() != null) {
      w.modelRuntime(job.modelOptions());
    }
    w.sinks(sinks);
    if (job.fallback() != null) {
      w.set("fallback", () -> o.setFallback(job.fallback().toFallback()));
    }
    w.set("duplicateKeys", () -> o.setDuplicateKeys(job.duplicateKeyPolicy()));
    w.set("interval", () -> o.setInterval(job.runInterval()));
    JobSchedule schedule = job.schedule();
    if (schedule != null && schedule.waitForMarker() != null) {
      // Placeholders are filled by the pipeline from the same run (runDate, interval, runHour).
      w.set("waitForMarker", () -> o.setWaitForMarker(schedule.waitForMarker()));
      w.set("markerTimeout", () -> o.setMarkerTimeout(schedule.markerTimeoutDuration()));
      w.set("markerPoll", () -> o.setMarkerPoll(schedule.markerPollDuration()));
    }
    if (run != null) {
      w.set("runDate", () -> o.setRunDate(run.runDate()));
      long hour = Duration.between(run.runDate().atStartOfDay(ZoneOffset.UTC).toInstant(), run.windowStart()).toHours();
      if (hour != 0) {
        w.set("runHour", () -> o.setRunHour((int) hour));
      }
    }
    if (job.alerts() != null) {
      w.alerts(job.alerts());
    }
    return List.copyOf(w.set);
  }

  /** Sets {@code option} unless the command line gave it. */
  private void set(String option, Runnable setter) {
    if (!keep.contains(option)) {
      setter.run();
      set.add(option);
    }
  }

  /** The job's sinks by type; fails, naming the sink, for two of one type or no files sink. */
  private static Map<String, JobSink> sinksByType(JobConfig job) {
    List<String> unsupported = new ArrayList<>();
    Map<String, JobSink> byType = new HashMap<>();
    for (int i = 0; i < job.sinks().size(); i++) {
      JobSink s = job.sinks().get(i);
      if (byType.put(s.kind(), s) != null) {
        unsupported.add("sinks[" + i + "]: BatchScoringPipeline writes one " + s.kind() + " sink, this is the second");
      }
    }
    if (!byType.containsKey("files") && unsupported.isEmpty()) {
      unsupported.add("sinks: BatchScoringPipeline needs a files sink (the run's report and manifest live there)");
    }
    if (!unsupported.isEmpty()) {
      throw new UnsupportedOperationException("job '" + job.name() + "' uses what BatchScoringPipeline cannot run yet: "
          + String.join("; ", unsupported));
    }
    return byType;
  }

  private void source(JobSource source, @Nullable RunInfo run) {
    ReadRecords.Format format = source.readFormat();
    if (format == ReadRecords.Format.JDBC) {
      set("input", () -> o.setInput(source.url()));
      set("inputFormat", () -> o.setInputFormat(format));
      set("inputQuery", () -> o.setInputQuery(JobSource.resolve(source.jdbcQuery(), run)));
    } else if (format == ReadRecords.Format.BIGQUERY) {
      set("inputFormat", () -> o.setInputFormat(format));
      if (source.query() != null) {
        set("inputQuery", () -> o.setInputQuery(JobSource.resolve(source.query(), run)));
      } else {
        set("input", () -> o.setInput(JobSource.resolve(source.table(), run)));
      }
    } else {
      set("input", () -> o.setInput(JobSource.resolve(source.path(), run)));
      set("inputFormat", () -> o.setInputFormat(format));
    }
  }

  private void segments(@Nullable JobSegments segments) {
    if (segments == null) {
      return;
    }
    if (segments.column() != null && !segments.column().isBlank()) {
      set("segmentColumn", () -> o.setSegmentColumn(segments.column().trim()));
    } else {
      set("segmentKeySeparator", () -> o.setSegmentKeySeparator(segments.keySeparator()));
    }
    Map<String, String> models = new LinkedHashMap<>();
    segments.models().forEach((segment, model) -> models.put(segment.trim(), model.trim()));
    set("segmentModels", () -> o.setSegmentModels(models));
  }

  private void modelRuntime(ModelOptions m) {
    set("modelIntraOpThreads", () -> o.setModelIntraOpThreads(m.getIntraOpThreads()));
    set("modelInterOpThreads", () -> o.setModelInterOpThreads(m.getInterOpThreads()));
    if (m.getDevice() != null) {
      set("modelDevice", () -> o.setModelDevice(m.getDevice()));
    }
    if (m.getOptimizationLevel() != null) {
      set("onnxOptimizationLevel", () -> o.setOnnxOptimizationLevel(m.getOptimizationLevel()));
    }
    if (m.getExecutionProvider() != null) {
      set("onnxExecutionProvider", () -> o.setOnnxExecutionProvider(m.getExecutionProvider()));
    }
  }

  private void sinks(Map<String, JobSink> byType) {
    JobSink files = byType.get("files");
    set("output", () -> o.setOutput(files.root()));
    set("formats", () -> o.setFormats(List.copyOf(files.fileFormats())));
    if (files.numShards() != null) {
      set("numShards", () -> o.setNumShards(files.numShards()));
    }
    JobSink redis = byType.get("redis");
    if (redis != null) {
      set("redisHost", () -> o.setRedisHost(redis.host()));
      set("redisPort", () -> o.setRedisPort(redis.redisPort()));
      if (redis.prefix() != null) {
        set("redisPrefix", () -> o.setRedisPrefix(redis.prefix()));
      }
      if (redis.ttl() != null) {
        set("redisTtl", () -> o.setRedisTtl(redis.ttlDuration()));
      }
    }
    JobSink jdbc = byType.get("jdbc");
    if (jdbc != null) {
      set("jdbcUrl", () -> o.setJdbcUrl(jdbc.url()));
      if (jdbc.table() != null) {
        set("jdbcTable", () -> o.setJdbcTable(jdbc.table()));
      }
      if (jdbc.view() != null) {
        set("jdbcView", () -> o.setJdbcView(jdbc.view()));
        set("jdbcViewColumns", () -> o.setJdbcViewColumns(new LinkedHashMap<>(jdbc.viewColumnsOrEmpty())));
      }
    }
    JobSink bigQuery = byType.get("bigquery");
    if (bigQuery != null) {
      set("bigQueryTable", () -> o.setBigQueryTable(bigQuery.table()));
      if (bigQuery.tempLocation() != null) {
        set("bigQueryTempLocation", () -> o.setBigQueryTempLocation(bigQuery.tempLocation()));
      }
    }
  }

  private void alerts(JobAlerts alerts) {
    JobThresholds t = alerts.thresholds();
    if (t != null) {
      // The limits as QualityThresholds reads them (off -> Infinity, 0 for minRecords), set as numbers.
      QualityThresholds q = t.applyTo(QualityThresholds.defaults());
      for (String limit : t.limits().keySet()) {
        set(limit, () -> setLimit(limit, q));
      }
    }
    if (alerts.webhook() != null) {
      set("alertWebhook", () -> o.setAlertWebhook(alerts.webhook()));
    }
    if (alerts.noDriftFeatures() != null && !alerts.noDriftFeatures().isEmpty()) {
      set("noDriftFeatures", () -> o.setNoDriftFeatures(List.copyOf(alerts.noDriftFeatures())));
    }
  }

  private void setLimit(String limit, QualityThresholds q) {
    switch (limit) {
      case "maxDeadLetterRate":
        o.setMaxDeadLetterRate(q.maxDeadLetterRate());
        break;
      case "maxPsi":
        o.setMaxPsi(q.maxPsi());
        break;
      case "maxJsDivergence":
        o.setMaxJsDivergence(q.maxJsDivergence());
        break;
      case "maxCategoryShift":
        o.setMaxCategoryShift(q.maxCategoryShift());
        break;
      case "maxPredictionMeanShift":
        o.setMaxPredictionMeanShift(q.maxPredictionMeanShift());
        break;
      case "minDriftSample":
        o.setMinDriftSample(q.minDriftSample());
        break;
      case "minRecords":
        o.setMinRecords(q.minRecords());
        break;
      case "maxRecordDrop":
        o.setMaxRecordDrop(q.maxRecordDrop());
        break;
      default:
        throw new IllegalStateException("no option for the limit " + limit);
    }
  }
}
