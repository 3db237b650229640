package dev.batchserve.pipelines.config;

import static dev.batchserve.pipelines.config.Problems.isBlank;

import com.fasterxml.jackson.annotation.JsonFormat;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.keys.DuplicateKeyPolicy;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A batch-scoring job described in one YAML or JSON file: where the records come from, how they are
 * keyed, which feature spec and model score them, where the predictions go, what a key without a
 * prediction gets, how the job is scheduled and when it alerts. Each section is a record of its own
 * ({@link JobSource}, {@link JobSink}, {@link JobSegments}, {@link JobModelRuntime},
 * {@link JobFallback}, {@link JobSchedule}, {@link JobAlerts}, {@link JobThresholds}) holding the
 * values as written; the record components are the file's fields.
 *
 * <p>{@link #parse} and {@link #read} reject unknown fields and invalid values with messages that
 * name the field path ({@code sinks[1].port: port must be in [1, 65535], but was 0}); every problem of
 * a file is reported at once. A value is checked by the code that uses it (source formats by
 * {@code ReadRecords.Format}, file formats by {@code FileFormat}, the batch size by
 * {@code BatchInfer.checkMaxBatchSize}, Redis, JDBC and files sinks by their sink's checks, thresholds
 * by {@code QualityThresholds.withLimit}): the error is the field's path, then that code's message.
 * {@code --set key.path=value} overrides ({@link #withOverrides}) are applied to the document before
 * it is checked, so they are checked like the file itself.
 *
 * <p>{@link #applyTo} sets the job's values on {@link BatchScoringOptions} through their setters
 * ({@link JobOptions}); {@code BatchScoringPipeline.run(options)} then runs it. Every source type
 * (files, JDBC, BigQuery table or query) and sink type (files, Redis, PostgreSQL with an optional
 * serving view, BigQuery) runs; a job without a files sink (the run's manifest and report live there)
 * or with two sinks of one type fails there, naming the sink.
 *
 * <pre>{@code
 * JobConfig job = JobConfig.read("jobs/fraud-daily.yaml", List.of("batchSize=512"));
 * BatchScoringOptions o = job.toOptions(job.runInfo(LocalDate.parse("2026-11-28"), 0));
 * BatchScoringPipeline.run(o);
 * }</pre>
 *
 * <p>The format (every field but {@code name}, {@code source}, {@code keyColumns}, {@code model}
 * and {@code sinks} is optional):
 *
 * <pre>
 * name: fraud                       # the run id's first part: [a-z0-9][a-z0-9_-]{0,62}
 * source: {type: files, path: data/accounts-*.parquet, format: parquet}   # csv, jsonl or parquet
 *         # or {type: jdbc, url: jdbc:postgresql://..., query: SELECT ...} / {type: bigquery, table: p:d.t}
 *         # or {type: bigquery, query: "SELECT ... WHERE day = '{run_date}'"} (standard SQL)
 * keyColumns: [account_id]          # or one string
 * passThroughColumns: [row_id]      # copied into each prediction (JSON lines: "pass_through")
 * featureSpec: models/fraud/1/feature-spec.json   # default: inside the model directory
 * model: models/fraud/1
 * segments: {column: region, models: {eu: models/churn-eu/3, us: models/churn-us/5}}
 *         # a model per segment (or keySeparator: ":" for the key's prefix); model scores the others
 * batchSize: 256                    # 1 to 100000
 * modelRuntime: {intraOpThreads: 2, interOpThreads: 1, device: /CPU:0,   # as --modelIntraOpThreads ...
 *                onnxOptimizationLevel: extended, onnxExecutionProvider: cpu}
 * sinks:
 *   - {type: files, root: predictions/fraud, formats: [parquet, jsonl], numShards: 4}
 *   - {type: redis, host: localhost, port: 6379, prefix: fraud, ttl: 36h}
 *   - {type: jdbc, url: jdbc:postgresql://db/scores, table: fraud_predictions,
 *      view: fraud_risk, viewColumns: {account_id: key, risk_score: score, score_date: run_date}}
 *   - {type: bigquery, table: project:dataset.fraud_predictions, tempLocation: gs://bucket/tmp}
 * fallback: {policy: constant, value: 0.02}       # or {policy: abstain}
 * duplicateKeys: error              # or last_wins
 * schedule: {interval: daily, waitForMarker: lake/tx/dt={run_date}, markerTimeout: 2h, markerPoll: 1m}
 * alerts:
 *   thresholds: {maxDeadLetterRate: 0.05, maxPsi: 0.25, maxJsDivergence: 0.1, maxCategoryShift: 0.2,
 *                maxPredictionMeanShift: 0.1, minDriftSample: 100,
 *                minRecords: 1, maxRecordDrop: 0.5}   # off turns any of these checks off: maxPsi: off
 *   noDriftFeatures: [signup_ts]      # profiled, never compared with training
 *   webhook: https://hooks.example.com/batchserve
 * </pre>
 *
 * <p>A threshold is a number or {@code off} (the one spelling, also for {@code --maxPsi=off}; YAML
 * reads an unquoted {@code off} as false, which a threshold takes as off too; {@code Infinity} and
 * {@code .inf} also turn a max limit off). Options given on {@code ConfigJob}'s command line win over
 * the file's values.
 */
public record JobConfig(
    @Nullable String name,
    @Nullable JobSource source,
    @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> keyColumns,
    // Input columns copied, as text, into each key's prediction (as --passThroughColumns).
    @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> passThroughColumns,
    @Nullable String featureSpec,
    @Nullable String model,
    @Nullable JobSegments segments,
    @Nullable Integer batchSize,
    @Nullable JobModelRuntime modelRuntime,
    @Nullable List<JobSink> sinks,
    @Nullable JobFallback fallback,
    @Nullable String duplicateKeys,
    @Nullable JobSchedule schedule,
    @Nullable JobAlerts alerts) {
  /** The batch size of a job without {@code batchSize}: {@code --batchSize}'s default. */
  static final int DEFAULT_BATCH_SIZE = 256;

  /**
   * Reads a job file (local path, any Beam FileSystems URI, or {@code classpath:jobs/x.yaml}); YAML
   * unless the name ends in {@code .json}. {@code overrides} are {@code key.path=value} strings.
   *
   * @throws InvalidConfig naming every problem of the file
   */
  public static JobConfig read(String uri, List<String> overrides) {
    return JobFile.read(uri, overrides);
  }

  /** Parses YAML (or JSON, when {@code json}), applies the overrides, binds and checks. */
  public static JobConfig parse(String text, boolean json, String origin, List<String> overrides) {
    return JobFile.parse(text, json, origin, overrides);
  }

  /** This config with more {@code key.path=value} overrides applied (checked again). */
  public JobConfig withOverrides(List<String> overrides) {
    return parse(toJson(), true, "(with overrides)", overrides);
  }

  /** The config as JSON (unset fields left out). */
  public String toJson() {
    return JobFile.toJson(this);
  }

  /** {@code 500ms}, {@code 90s}, {@code 15m}, {@code 36h}, {@code 2d}, or ISO-8601 ({@code PT36H}). */
  public static Duration parseDuration(String s) {
    return dev.batchserve.pipelines.schedule.Schedule.parseDuration(s);
  }

  /** The key columns, trimmed. */
  public List<String> keyColumnNames() {
    return keyColumns.stream().map(String::trim).collect(Collectors.toList());
  }

  /** {@code batchSize}, {@value #DEFAULT_BATCH_SIZE} unless set. */
  public int maxBatchSize() {
    return batchSize == null ? DEFAULT_BATCH_SIZE : batchSize;
  }

  /** The model's engine settings; engine defaults when the job has no {@code modelRuntime}. */
  public ModelOptions modelOptions() {
    return modelRuntime == null ? ModelOptions.defaults() : modelRuntime.toModelOptions();
  }

  /** {@code duplicateKeys}, {@link DuplicateKeyPolicy#ERROR} unless set. */
  public DuplicateKeyPolicy duplicateKeyPolicy() {
    return duplicateKeys == null ? DuplicateKeyPolicy.ERROR : DuplicateKeyPolicy.parse(duplicateKeys);
  }

  /** The schedule's interval (daily unless set). */
  public RunInfo.Interval runInterval() {
    return schedule == null ? RunInfo.Interval.DAILY : schedule.runInterval();
  }

  /** The run of this job for a date (and hour, for hourly jobs). */
  public RunInfo runInfo(LocalDate runDate, int hour) {
    RunInfo.Interval interval = runInterval();
    return interval == RunInfo.Interval.HOURLY
        ? RunInfo.hourly(name, runDate, hour) : RunInfo.of(name, runDate, interval);
  }

  /**
   * New {@link BatchScoringOptions} (defaults, then this job's values; see {@link #applyTo}).
   *
   * @throws UnsupportedOperationException naming the sink, for a job without a files sink or with
   *     two sinks of one type
   */
  public BatchScoringOptions toOptions(@Nullable RunInfo run) {
    return JobOptions.of(this, run);
  }

  /**
   * Sets this job's values on {@code o}, except the options named in {@code keep} (those the command
   * line gave); placeholders in the source's path or query are filled from {@code run}, and
   * {@code runDate}/{@code runHour} set from it, when it is given. Returns the names of the options
   * set, in order.
   *
   * @throws UnsupportedOperationException naming the sink, for a job without a files sink or with
   *     two sinks of one type
   */
  public List<String> applyTo(BatchScoringOptions o, @Nullable RunInfo run, Set<String> keep) {
    return JobOptions.applyTo(this, run, o, keep);
  }

  /** Every problem of the config, each naming its field path; empty when valid. */
  List<String> validate() {
    Problems p = new Problems();
    if (isBlank(name)) {
      p.add("name is required");
    } else {
      p.check("name", () -> RunInfo.checkPipelineName(name));
    }
    if (source == null) {
      p.add("source is required");
    } else {
      source.validate(p);
    }
    if (passThroughColumns != null) {
      for (int i = 0; i < passThroughColumns.size(); i++) {
        String c = passThroughColumns.get(i);
        if (c == null || c.isBlank() || c.contains(",")) {
          p.add("passThroughColumns[" + i + "] must be a column name, but was '" + c + "'");
        }
      }
    }
    if (segments != null) {
      segments.validate(p);
    }
    validateKeyColumns(p);
    if (isBlank(model)) {
      p.add("model is required");
    }
    if (featureSpec != null && featureSpec.isBlank()) {
      p.add("featureSpec must be a path when set, but was empty");
    }
    if (batchSize != null) {
      p.check("batchSize", () -> BatchInfer.checkMaxBatchSize(batchSize));
    }
    if (modelRuntime != null) {
      p.check("modelRuntime", modelRuntime::toModelOptions);
    }
    if (sinks == null || sinks.isEmpty()) {
      p.add("sinks must list at least one sink");
    } else {
      for (int i = 0; i < sinks.size(); i++) {
        if (sinks.get(i) == null) {
          p.add("sinks[" + i + "] is empty");
        } else {
          sinks.get(i).validate("sinks[" + i + "]", p);
        }
      }
    }
    if (fallback != null) {
      fallback.validate(p);
    }
    if (duplicateKeys != null) {
      try {
        DuplicateKeyPolicy.parse(duplicateKeys); // the message --duplicateKeys gets too
      } catch (IllegalArgumentException e) {
        p.add(e.getMessage());
      }
    }
    if (schedule != null) {
      schedule.validate(p);
    }
    if (alerts != null) {
      alerts.validate(p);
    }
    return p.list();
  }

  private void validateKeyColumns(Problems p) {
    if (keyColumns == null || keyColumns.isEmpty()) {
      p.add("keyColumns must name at least one column");
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < keyColumns.size(); i++) {
      String k = keyColumns.get(i);
      if (isBlank(k)) {
        p.add("keyColumns[" + i + "] must be a non-empty column name");
      } else if (!seen.add(k.trim())) {
        p.add("keyColumns[" + i + "] repeats the column '" + k + "'");
      }
    }
  }

  /** A config that failed its checks; {@link #errors()} has one message per problem, each naming its field. */
  public static final class InvalidConfig extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> errors;

    InvalidConfig(String origin, List<String> errors) {
      super("invalid job config " + origin + ": " + String.join("; ", errors));
      this.errors = List.copyOf(errors);
    }

    public List<String> errors() {
      return errors;
    }
  }
}
