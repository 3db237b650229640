package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.pipelines.monitoring.AlertWebhook;
import dev.batchserve.pipelines.monitoring.PreviousRun;
import dev.batchserve.pipelines.monitoring.QualityFile;
import dev.batchserve.pipelines.monitoring.RunReport;
import dev.batchserve.pipelines.schedule.Schedule;
import dev.batchserve.transforms.aws.DynamoDbSink;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.inference.ScoreBySegment;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.ingest.RecordSource;
import dev.batchserve.transforms.gcp.BigQueryRecords;
import dev.batchserve.transforms.jdbc.JdbcEndpoint;
import dev.batchserve.transforms.jdbc.JdbcRecords;
import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.monitoring.CircuitBreaker;
import dev.batchserve.transforms.monitoring.LogProgress;
import dev.batchserve.transforms.monitoring.MeasureRunQuality;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.gcp.BigQuerySink;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config-driven batch-scoring job: read -> key -> features -> batched inference -> keyed
 * predictions with fallbacks -> files with metadata, published all-or-nothing.
 *
 * <p>Monitoring: the run's data quality, drift against the training statistics and prediction
 * distribution (against the previous published run too) are measured in the pipeline
 * ({@code MeasureRunQuality}) and judged by a {@code CircuitBreaker} whose limits are options; the
 * sink publishes only after the breaker passed, so a tripped run fails and publishes nothing. After
 * the run, {@link #run} writes {@code _REPORT.json}, {@code _REPORT.html} and {@code metrics.prom}
 * into the attempt's directory (see {@code FileSink}: every attempt writes into a directory of its own
 * and is served only once published) and, on failure, posts an alert to {@code --alertWebhook}.
 *
 * <pre>
 * mvn -pl pipelines exec:java -Dexec.args="--runner=DirectRunner --runDate=2026-11-28"
 * </pre>
 *
 * <p>{@link #main} parses the options and calls {@link #run}; tests call {@link #build} and
 * {@link #run} directly.
 */
public final class BatchScoringPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(BatchScoringPipeline.class);

  private BatchScoringPipeline() {}

  public static void main(String[] args) {
    RunSummary summary = run(options(args));
    System.out.println(summary.render());
  }

  /**
   * Parses and validates command-line arguments as Beam does, after reading each quality limit
   * ({@code --maxPsi=off}, {@code --minRecords=off}, {@code --maxRecordDrop=0.3}) as
   * {@link QualityThresholds#withLimit} reads it: {@value QualityThresholds#OFF} turns its check off.
   * A value its option's type refuses fails naming the option ({@link OptionArgs#parse}).
   *
   * <pre>{@code
   * BatchScoringOptions o = BatchScoringPipeline.options("--input=in.csv", "--maxPsi=off");
   * }</pre>
   */
  public static BatchScoringOptions options(String... args) {
    return OptionArgs.parse(BatchScoringOptions.class, args);
  }

  /** The run this configuration describes: {@code --pipelineName}, {@code --runDate}, {@code --interval} (default daily). */
  public static RunInfo runInfo(BatchScoringOptions o) {
    return Schedule.runInfo(o.getPipelineName(), o, RunInfo.Interval.DAILY);
  }

  /** Builds the pipeline into {@code p} as a new attempt; returns the attempt's directory, published when the run succeeds. */
  public static String build(Pipeline p, BatchScoringOptions o) {
    return build(p, o, FileSink.newAttemptId());
  }

  /** Builds attempt {@code attemptId} of the run into {@code p}; returns the attempt's directory. */
  static String build(Pipeline p, BatchScoringOptions o, String attemptId) {
    RunInfo run = runInfo(o);
    String specUri = o.getFeatureSpec().isEmpty()
        ? stripSlash(o.getModel()) + "/feature-spec.json" : o.getFeatureSpec();
    FeatureSpec spec = FeatureSpec.read(specUri);

    String[] keys = o.getKeyColumns().stream().map(String::trim).toArray(String[]::new);
    ReadRecords.Format format = o.getInputFormat() == null
        ? ReadRecords.Format.fromPattern(o.getInput()) : o.getInputFormat();
    // Checked at once, by the step that carries them, before the read looks for them.
    KeyedPrediction<String> scoring = KeyedPrediction.<String>of(spec, o.getModel());
    try {
      scoring = scoring.withPassThroughColumns(o.getPassThroughColumns().toArray(new String[0]));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--passThroughColumns: " + e.getMessage(), e);
    }
    String[] passThrough = o.getPassThroughColumns().stream().map(String::trim).toArray(String[]::new);
    // Sources that keep only the columns they are told to (JSON lines, BigQuery) keep the pass-through ones too.
    List<String> columns = new ArrayList<>(spec.inputNames());
    ScoreBySegment<String> segments = SegmentModels.of(o);
    Map<String, FeatureSpec> segmentSpecs = segments == null ? Map.of() : segments.segmentSpecs();
    for (FeatureSpec s : segmentSpecs.values()) {
      columns.addAll(s.inputNames());
    }
    if (segments != null && segments.getSegmentColumn() != null) {
      columns.add(segments.getSegmentColumn());
    }
    columns = new ArrayList<>(new java.util.LinkedHashSet<>(columns));
    for (String c : passThrough) {
      if (!columns.contains(c)) {
        columns.add(c);
      }
    }
    // JSON lines have no header: keep the columns the feature spec reads.
    RecordSource<?> source;
    if (format == ReadRecords.Format.JDBC) {
      source = JdbcRecords.read(jdbcSource(o), o.getInputQuery());
    } else if (format == ReadRecords.Format.BIGQUERY) {
      source = bigQuerySource(o).withColumns(columns);
    } else {
      source = ReadRecords.of(o.getInput(), format, columns);
    }
    // A key column the spec reads as a timestamp keys by its instant, as the same instant from Parquet does.
    ReadRecords.Result read = p.apply("Read", source.withKeyColumns(keys).withKeyTimestampsOf(spec));
    FeatureTransform.checkRequiredColumns(spec, read.schema(), o.getInput());
    segmentSpecs.values().forEach(s -> FeatureTransform.checkRequiredColumns(s, read.schema(), o.getInput()));
    for (String c : passThrough) {
      checkArgument(read.schema().hasField(c), "--passThroughColumns names '%s', which %s does not have (its"
          + " columns are %s)", c, o.getInput(), read.schema().getFieldNames());
    }
    ReadRecords.Result input = o.getPartition() < 0 ? read
        : PartitionedRun.select(read, o.getPartition(), o.getPartitions());

    if (o.getProgressEvery() > 0) {
      input.records().apply("Progress", LogProgress.of(run.runId(), o.getProgressEvery()));
    }
    List<FileFormat> formats = o.getFormats();
    checkArgument(!formats.isEmpty(), "--formats must name at least one format");
    // The join back writes the files' shards as it resolves the keys: one shuffle for both.
    FileSink<String> files = SinkWithMetadata.<String>files(o.getOutput())
        .withRunInfo(run)
        .withForceLatest(o.getForceLatest())
        .withAttempt(attemptId)
        .withFormats(formats.get(0), formats.subList(1, formats.size()).toArray(new FileFormat[0]))
        .withNumShards(OptionValues.numShards(o, format));
    if (passThrough.length > 0 && formats.contains(FileFormat.PARQUET)) {
      // JSON lines carry them anyway; Parquet's schema must name them (and refuses names it cannot hold).
      files = files.withPassThroughColumns(List.of(passThrough));
    }
    PreviousRun previous = PreviousRun.latest(o.getOutput(), run);
    scoring = scoring
        .writingShards(files.shardWriter())
        .withRunInfo(run)
        .withMaxBatchSize(o.getBatchSize())
        .withModelOptions(OptionValues.modelOptions(o))
        .withFailureThreshold(o.getFailureThreshold())
        .withFallback(o.getFallback())
        .withDuplicateKeyPolicy(o.getDuplicateKeys())
        .withReadFailures(input.deadLetters());
    int[] adaptive = OptionValues.adaptiveBatchSize(o.getAdaptiveBatchSize());
    if (adaptive != null) {
      scoring = scoring.withAdaptiveBatchSize(adaptive[0], adaptive[1]);
    }
    if (segments != null) {
      scoring = scoring.withSegmentModels(segments);
    }
    if (o.getFallback().needsPreviousPredictions() && previous != null && previous.hasScores()) {
      scoring = scoring.withPreviousPredictions(previous.readPredictions(p));
    }
    KeyedPrediction.Result<String> keyed = input.records().apply("KeyedPrediction", scoring);

    PCollection<DeadLetter> deadLetters = PCollectionList.of(input.deadLetters()).and(keyed.deadLetters())
        .apply("AllDeadLetters", Flatten.pCollections());

    // Quality and drift are judged before anything is published: the sink waits for the breaker.
    // Everything this attempt writes goes into its own directory; readers see it once it is published.
    String runDir = FileSink.attemptDirectory(o.getOutput(), run, attemptId);
    MeasureRunQuality<String> measure = MeasureRunQuality.<String>of(spec)
        .withRunInfo(run)
        .withPredictions(keyed.predictions())
        .withDeadLetters(deadLetters)
        .withoutDrift(o.getNoDriftFeatures())
        .withChangeEpsilon(o.getPredictionChangeEpsilon());
    if (segments == null) {
      // With segment models the records are encoded by several specs: quality profiles them with --model's.
      measure = measure.withFeatureProfiles(keyed.featureProfiles());
    }
    if (previous != null) {
      measure = measure.withPreviousRun(previous.runId(), previous.distribution(),
          previous.hasScores() ? previous.readScores(p) : null);
      if (previous.records() != null) {
        measure = measure.withPreviousRecords(previous.records());
      }
    }
    PCollection<RunQuality> passed = input.records()
        .apply("Quality", measure)
        .apply("WriteQuality", ParDo.of(new QualityFile.WriteFn(runDir)))
        .setCoder(RunQuality.RunQualityCoder.of())
        .apply("CircuitBreaker", CircuitBreaker.of(thresholds(o)));

    keyed.predictions().apply("WriteFiles", files
        .withWrittenFiles(keyed.writtenFiles())
        .withInputCount(keyed.resolvedCount())
        .withDeadLetters(deadLetters)
        .publishAfter(keyed.counts(), passed));
    StoreSinks.of(o, run).withPassThroughColumns(List.of(passThrough)).publishAfter(keyed.counts(), passed)
        .write(keyed.predictions());
    return runDir;
  }

  /** A BigQuery source: the query {@code --inputQuery}, else the table {@code --input}. */
  static BigQueryRecords bigQuerySource(BatchScoringOptions o) {
    BigQueryRecords r = o.getInputQuery().isBlank()
        ? BigQueryRecords.fromTable(o.getInput()) : BigQueryRecords.fromQuery(o.getInputQuery());
    return o.getBigQueryServices() == null ? r : r.withBigQueryServices(o.getBigQueryServices());
  }

  /** The connection of a JDBC source: --input is its URL. */
  static JdbcEndpoint jdbcSource(BatchScoringOptions o) {
    checkArgument(!o.getInputQuery().isBlank(), "a JDBC source (--input=%s) needs --inputQuery", o.getInput());
    JdbcEndpoint e = JdbcEndpoint.of(o.getInput())
        .withPassword(StoreSinks.secret("JDBC source", o.getInputPasswordEnv(), o.getInputPasswordFile()));
    return o.getInputUser().isEmpty() ? e : e.withUser(o.getInputUser());
  }

  /** The circuit breaker's limits from the options. */
  public static QualityThresholds thresholds(BatchScoringOptions o) {
    return QualityThresholds.defaults()
        .withMaxDeadLetterRate(o.getMaxDeadLetterRate())
        .withMaxPsi(o.getMaxPsi())
        .withMaxJsDivergence(o.getMaxJsDivergence())
        .withMaxCategoryShift(o.getMaxCategoryShift())
        .withMaxPredictionMeanShift(o.getMaxPredictionMeanShift())
        .withMinDriftSample(o.getMinDriftSample())
        .withMinRecords(o.getMinRecords())
        .withMaxRecordDrop(o.getMaxRecordDrop());
  }

  /**
   * Takes the run's lock ({@link RunLock}: a second concurrent run of the same run id under the same
   * {@code --output} fails at once), builds a new attempt, runs it to completion, writes the run report
   * ({@code _REPORT.json}, {@code _REPORT.html}, {@code metrics.prom}) into the attempt's directory, and
   * summarises the run. A failed or tripped run gets a report too (status {@code failed} /
   * {@code tripped}), an alert when {@code --alertWebhook} is set, its staged files are removed (its
   * report and {@code _QUALITY.json} stay), and its exception is rethrown; the attempt served before
   * stays served, also when it is of the same run id. Attempts left by killed runs lose their staged
   * files when the next run of the run id starts. With {@code --waitUntilFinish=false} the lock is
   * held only until the job is submitted.
   */
  public static RunSummary run(BatchScoringOptions o) {
    return run(o, FileSink.newAttemptId());
  }

  /** {@link #run(BatchScoringOptions)} as attempt {@code attemptId} (the tests choose it). */
  static RunSummary run(BatchScoringOptions o, String attemptId) {
    try (RunLock lock = RunLock.acquire(o.getOutput(), runInfo(o))) {
      return runLocked(o, attemptId);
    }
  }

  private static RunSummary runLocked(BatchScoringOptions o, String attemptId) {
    if (o.getPartition() < 0) {
      // A partitioned run waits once, before its first partition.
      Schedule.awaitUpstream(o, runInfo(o));
    }
    if (o.getPartitions() > 1 && o.getPartition() < 0) {
      return PartitionedRun.run(o, runInfo(o), BatchScoringPipeline::run);
    }
    if (!o.getAlertWebhook().isEmpty()) {
      AlertWebhook.to(o.getAlertWebhook()); // a malformed URL fails before the run, not at alert time
    }
    RunInfo run = runInfo(o);
    discardDeadAttempts(o.getOutput(), run);
    Pipeline p = Pipeline.create(o);
    String runDir = build(p, o, attemptId);
    Instant started = Instant.now();
    long start = System.nanoTime();
    PipelineResult result;
    if (!o.getWaitUntilFinish()) {
      // Submitted, not run here: the runner (Dataflow) runs it; its report is the runner's to show.
      p.run();
      LOG.info("Run {} submitted; not waiting for it (--waitUntilFinish=false)", run.runId());
      return new RunSummary(run.runId(), runDir, 0, 0, 0, 0, 0, 0);
    }
    try {
      result = p.run();
      PipelineResult.State state = result.waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        throw new IllegalStateException("run " + run.runId() + " ended in state " + state);
      }
    } catch (RuntimeException e) {
      discard(o.getOutput(), run, attemptId);
      onFailure(o, run, runDir, started, e);
      throw e;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    MetricQueryResults m = result.metrics().queryMetrics(MetricsFilter.builder().build());
    RunReport.builder(run, runDir)
        .status("published")
        .timing(started, Instant.now())
        .metrics(m)
        .quality(QualityFile.read(runDir))
        .thresholds(thresholds(o))
        .build()
        .writeTo(runDir);
    // A partition's pipeline reads the whole input and keeps its share: count what it kept.
    boolean partition = o.getPartition() >= 0;
    long unreadable = counter(m, ReadRecords.METRICS_NAMESPACE, partition ? "partition_rejected" : "records_rejected");
    long read = partition
        ? counter(m, ReadRecords.METRICS_NAMESPACE, "partition_records") + unreadable
        : counter(m, ReadRecords.METRICS_NAMESPACE, "records_read");
    RunSummary summary = new RunSummary(run.runId(), runDir, seconds, read, unreadable,
        counter(m, KeyedPrediction.RUN_METRICS_NAMESPACE, "predictions"),
        counter(m, KeyedPrediction.RUN_METRICS_NAMESPACE, "fallbacks"),
        counter(m, KeyedPrediction.RUN_METRICS_NAMESPACE, "dead_letters"),
        partition ? null : RunSummary.servedInstead(o.getOutput(), run), backfilledStores(m));
    if (summary.isBackfill()) {
      LOG.warn(summary.backfillLine());
    }
    return summary;
  }

  /** The stores whose sink counted {@code runs_backfilled}: files, redis, jdbc, dynamodb, bigquery. */
  static List<String> backfilledStores(MetricQueryResults m) {
    List<String> stores = new ArrayList<>();
    String[][] namespaces = {{FileSink.METRICS_NAMESPACE, "files"}, {RedisSink.METRICS_NAMESPACE, "redis"},
        {JdbcSink.METRICS_NAMESPACE, "jdbc"}, {DynamoDbSink.METRICS_NAMESPACE, "dynamodb"},
        {BigQuerySink.METRICS_NAMESPACE, "bigquery"}};
    for (String[] n : namespaces) {
      if (counter(m, n[0], Backfill.RUNS_BACKFILLED) > 0) {
        stores.add(n[1]);
      }
    }
    return stores;
  }

  /** Removes the staged files of attempts that killed runs of this run id left (under the run's lock). */
  private static void discardDeadAttempts(String root, RunInfo run) {
    try {
      List<String> dead = FileSink.discardUnpublishedAttempts(root, run);
      if (!dead.isEmpty()) {
        LOG.info("Run {}: removed the staged files of earlier attempts that never published: {}", run.runId(), dead);
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("Run {}: cannot remove the staged files of earlier attempts under {}", run.runId(),
          FileSink.runDirectory(root, run), e);
    }
  }

  /** Removes a failed attempt's staged and written files; keeps what says why it failed. */
  private static void discard(String root, RunInfo run, String attemptId) {
    try {
      if (!FileSink.discardAttempt(root, run, attemptId)) {
        LOG.warn("Run {}: attempt {} failed after it was published; it stays served", run.runId(), attemptId);
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("Run {}: cannot remove the staged files of failed attempt {}", run.runId(),
          FileSink.attemptDirectory(root, run, attemptId), e);
    }
  }

  /** Reports and alerts on a failed run; never hides the run's own exception. */
  private static void onFailure(BatchScoringOptions o, RunInfo run, String runDir, Instant started, RuntimeException e) {
    CircuitBreaker.Tripped tripped = null;
    for (Throwable t = e; t != null && tripped == null; t = t.getCause()) {
      if (t instanceof CircuitBreaker.Tripped) {
        tripped = (CircuitBreaker.Tripped) t;
      }
    }
    String message = tripped != null ? tripped.getMessage() : String.valueOf(e);
    try {
      RunReport.builder(run, runDir)
          .status(tripped != null ? "tripped" : "failed")
          .error(message)
          .timing(started, Instant.now())
          .quality(QualityFile.read(runDir))
          .thresholds(thresholds(o))
          .build()
          .writeTo(runDir);
    } catch (RuntimeException reportFailure) {
      LOG.warn("cannot write the failure report of run {} into {}", run.runId(), runDir, reportFailure);
    }
    ObjectNode alert =
        AlertWebhook.alert(tripped != null ? "breaker_tripped" : "run_failed", run.runId(), message);
    alert.put("run_directory", runDir);
    if (tripped != null) {
      tripped.violations().forEach(alert.putArray("violations")::add);
    }
    AlertWebhook.sendIfConfigured(o.getAlertWebhook(), alert);
  }

  static long counter(MetricQueryResults m, String namespace, String name) {
    long total = 0;
    for (MetricResult<Long> r : m.getCounters()) {
      if (r.getName().getNamespace().equals(namespace) && r.getName().getName().equals(name)) {
        Long v = r.getAttempted();
        total += v == null ? 0 : v;
      }
    }
    return total;
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
