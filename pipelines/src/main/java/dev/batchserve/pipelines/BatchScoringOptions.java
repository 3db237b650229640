package dev.batchserve.pipelines;

import dev.batchserve.models.ModelOptions;
import dev.batchserve.pipelines.schedule.ScheduleOptions;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.keys.DuplicateKeyPolicy;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.monitoring.MeasureRunQuality;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.sink.FileFormat;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Options of {@link BatchScoringPipeline}. Every option has a description and a default that runs
 * the fraud example on the sample data and the demo model that {@code make run} prepares. Parse
 * them with {@link BatchScoringPipeline#options}, which also reads {@code off} for the circuit
 * breaker's limits ({@code --maxPsi=off}).
 *
 * <p>Options that are lists, choices or specs are typed ({@code List<String>}, {@link FileFormat},
 * {@link ReadRecords.Format}, {@link Fallback}, {@link DuplicateKeyPolicy}): a job file sets them
 * with its typed values ({@code JobOptions}) and the pipeline uses them as they are. On the command
 * line they keep their text forms ({@code --keyColumns=a,b}, {@code --formats=parquet,jsonl},
 * {@code --fallback=constant:0.02}), which Beam reads with the value types' own {@code parse}.
 *
 * <pre>{@code
 * BatchScoringOptions o = BatchScoringPipeline.options("--keyColumns=region,account_id", "--fallback=constant:0.02");
 * o.getKeyColumns();  // [region, account_id]
 * o.getFallback();    // Fallback.constant(0.02f)
 * }</pre>
 */
public interface BatchScoringOptions extends StoreSinkOptions, ScheduleOptions {
  @Description("Input file pattern (CSV with a header line, JSON lines, or Parquet), local or any Beam FileSystems URI;"
      + " or a JDBC URL; or a BigQuery table as bigquery:[project:]dataset.table.")
  @Default.String("work/sample/fraud/accounts.csv")
  String getInput();

  void setInput(String value);

  @Description("Input format: csv, jsonl, parquet, jdbc or bigquery; unset = from the input (its extension, a jdbc:"
      + " URL, or bigquery:).")
  ReadRecords.@Nullable Format getInputFormat();

  void setInputFormat(ReadRecords.@Nullable Format value);

  @Description("SQL query of a JDBC source (then --input is the JDBC URL, e.g. jdbc:postgresql://db/x), or the"
      + " standard-SQL query of a BigQuery source (--inputFormat=bigquery; then --input is not read).")
  @Default.String("")
  String getInputQuery();

  void setInputQuery(String value);

  @Description("User of a JDBC source.")
  @Default.String("")
  String getInputUser();

  void setInputUser(String value);

  @Description("Name of the environment variable holding a JDBC source's password (never the password itself).")
  @Default.String("")
  String getInputPasswordEnv();

  void setInputPasswordEnv(String value);

  @Description("File holding a JDBC source's password (one line).")
  @Default.String("")
  String getInputPasswordFile();

  void setInputPasswordFile(String value);

  @Description("Key column(s) of the input, comma-separated; several make one composite key: each value with '\\' and '|' escaped by '\\', joined by '|'.")
  @Default.InstanceFactory(DefaultKeyColumns.class)
  List<String> getKeyColumns();

  void setKeyColumns(List<String> value);

  @Description("Model directory (with model-manifest.json), local or any Beam FileSystems URI.")
  @Default.String("work/models/fraud-mlp/1")
  String getModel();

  void setModel(String value);

  @Description("A model per segment in one pass: <segment>=<model dir>,... (e.g. eu=/models/churn-eu/3,"
      + "us=/models/churn-us/5), each model with the feature-spec.json saved in its directory; --model (with"
      + " --featureSpec) scores the segments not listed. Needs --segmentColumn or --segmentKeySeparator.")
  @JsonDeserialize(using = MapText.SegmentModelsReader.class)
  @JsonSerialize(using = MapText.Writer.class)
  @Default.InstanceFactory(MapText.NoEntries.class)
  Map<String, String> getSegmentModels();

  void setSegmentModels(Map<String, String> value);

  @Description("The record column whose value is a record's segment, for --segmentModels.")
  @Default.String("")
  String getSegmentColumn();

  void setSegmentColumn(String value);

  @Description("For --segmentModels: a record's segment is its key's text before the first occurrence of this"
      + " separator (e.g. ':' makes 'eu:acct-7' segment eu); a key without it goes to --model.")
  @Default.String("")
  String getSegmentKeySeparator();

  void setSegmentKeySeparator(String value);

  @Description("Feature spec JSON saved at training; empty = feature-spec.json inside the model directory.")
  @Default.String("")
  String getFeatureSpec();

  void setFeatureSpec(String value);

  @Description("Root directory of the prediction files; each run writes run_date=<date>/run_id=<id>/ under it.")
  @Default.String("work/predictions/fraud")
  String getOutput();

  void setOutput(String value);

  @Description("Output file formats, comma-separated: parquet, jsonl.")
  @Default.InstanceFactory(DefaultFormats.class)
  List<FileFormat> getFormats();

  void setFormats(List<FileFormat> value);

  @Description("Shards per output format, also the join back's buckets; 0 = auto: one per 4 MiB of CSV/JSON lines or"
      + " 512 KiB of Parquet input, at least 4 (4 for JDBC and BigQuery sources).")
  @Default.Integer(0)
  int getNumShards();

  void setNumShards(int value);

  @Description("Split the run into this many partitions by key hash, processed one after another, each"
      + " committed on its own; re-running a crashed run id processes only the partitions not yet committed"
      + " and publishes once all are present. 1 = one pass, no checkpoints.")
  @Default.Integer(1)
  int getPartitions();

  void setPartitions(int value);

  @Description("Internal: the one partition this pipeline processes (-1 = all records). Set by --partitions.")
  @Default.Integer(-1)
  int getPartition();

  void setPartition(int value);

  @Description("Wait for the job to finish, then write the run report; false = return right after"
      + " submission (a Flex Template launcher, or creating a classic template with --templateLocation).")
  @Default.Boolean(true)
  boolean getWaitUntilFinish();

  void setWaitUntilFinish(boolean value);

  @Description("Pipeline name, the first part of the run id.")
  @Default.String("fraud")
  String getPipelineName();

  void setPipelineName(String value);

  @Description("Largest number of records per model call (1 to 100000).")
  @Default.Integer(256)
  int getBatchSize();

  void setBatchSize(int value);

  @Description("Threads inside one model operation on each worker: TensorFlow intra_op_parallelism_threads,"
      + " ONNX Runtime intra-op threads, XGBoost nthread; 0 = the engine's default (XGBoost: 1).")
  @Default.Integer(0)
  int getModelIntraOpThreads();

  void setModelIntraOpThreads(int value);

  @Description("Threads running independent model operations at once (TensorFlow inter_op_parallelism_threads,"
      + " ONNX Runtime inter-op threads); 0 = the engine's default.")
  @Default.Integer(0)
  int getModelInterOpThreads();

  void setModelInterOpThreads(int value);

  @Description("Device the model runs on, /CPU:0 or /GPU:n; unset = the engine's default. A GPU needs a"
      + " GPU build of the engine (ONNX: --onnxExecutionProvider=cuda and onnxruntime_gpu).")
  String getModelDevice();

  void setModelDevice(String value);

  @Description("ONNX Runtime graph optimisation level: none, basic, extended, layout or all (its default).")
  ModelOptions.@Nullable OptimizationLevel getOnnxOptimizationLevel();

  void setOnnxOptimizationLevel(ModelOptions.@Nullable OptimizationLevel value);

  @Description("ONNX Runtime execution provider: cpu (default) or cuda (needs onnxruntime_gpu, CUDA and a"
      + " GPU on the workers; the model load fails saying so otherwise).")
  ModelOptions.@Nullable ExecutionProvider getOnnxExecutionProvider();

  void setOnnxExecutionProvider(ModelOptions.@Nullable ExecutionProvider value);

  @Description("Adaptive batch sizes '<min>..<max>' (e.g. 16..4096): batches grow while the time per record falls"
      + " (see BatchInfer.withAdaptiveBatchSize); empty = fixed batches of --batchSize.")
  @Default.String("")
  String getAdaptiveBatchSize();

  void setAdaptiveBatchSize(String value);

  @Description("Fallback for keys without a model prediction: 'abstain', 'constant:<score>', or"
      + " 'previous_run[:abstain|constant:<score>]' (the key's prediction from the previous published run).")
  @Default.InstanceFactory(DefaultFallback.class)
  Fallback getFallback();

  void setFallback(Fallback value);

  @Description("Input columns copied, as text, into each key's prediction (JSON lines: the nested object"
      + " 'pass_through'), e.g. 'row_id,label'; they need not be model features. Dead letters keep the whole"
      + " record. Parquet, BigQuery and JDBC outputs do not get them yet.")
  @Default.InstanceFactory(NoNames.class)
  List<String> getPassThroughColumns();

  void setPassThroughColumns(List<String> value);

  @Description("Duplicate input keys: 'error' (dead letter + fallback) or 'last_wins'.")
  @Default.Enum("ERROR")
  DuplicateKeyPolicy getDuplicateKeys();

  void setDuplicateKeys(DuplicateKeyPolicy value);

  @Description("Abort the run when more than this share of records fails inference (0 to 1).")
  @Default.Double(0.5)
  double getFailureThreshold();

  void setFailureThreshold(double value);

  @Description("Circuit breaker: fail the run, publishing nothing, when more than this share of the records read"
      + " became dead letters (0 to 1, or off).")
  @Default.Double(QualityThresholds.DEFAULT_MAX_DEAD_LETTER_RATE)
  double getMaxDeadLetterRate();

  void setMaxDeadLetterRate(double value);

  @Description("Circuit breaker: largest PSI of a numeric feature against its training histogram"
      + " (off turns the check off).")
  @Default.Double(QualityThresholds.DEFAULT_MAX_PSI)
  double getMaxPsi();

  void setMaxPsi(double value);

  @Description("Circuit breaker: largest Jensen-Shannon divergence (base 2) of a numeric feature against training"
      + " (off turns the check off).")
  @Default.Double(QualityThresholds.DEFAULT_MAX_JS_DIVERGENCE)
  double getMaxJsDivergence();

  void setMaxJsDivergence(double value);

  @Description("Circuit breaker: largest L-infinity distance of a categorical feature's shares against training"
      + " (off turns the check off).")
  @Default.Double(QualityThresholds.DEFAULT_MAX_CATEGORY_SHIFT)
  double getMaxCategoryShift();

  void setMaxCategoryShift(double value);

  @Description("Circuit breaker: largest absolute change of the mean score against the previous published run"
      + " (off turns the check off).")
  @Default.Double(QualityThresholds.DEFAULT_MAX_PREDICTION_MEAN_SHIFT)
  double getMaxPredictionMeanShift();

  void setMaxPredictionMeanShift(double value);

  @Description("Circuit breaker: drift limits are judged only on at least this many values of a feature"
      + " (or scored predictions, for the mean shift); smaller samples are reported but not judged.")
  @Default.Long(QualityThresholds.DEFAULT_MIN_DRIFT_SAMPLE)
  long getMinDriftSample();

  void setMinDriftSample(long value);

  @Description("Circuit breaker: fail the run, publishing nothing, when fewer than this many records reached"
      + " scoring; the default 1 stops an empty input (e.g. a header-only CSV) from replacing the served"
      + " predictions with none. off (or 0) turns the check off.")
  @Default.Long(QualityThresholds.DEFAULT_MIN_RECORDS)
  long getMinRecords();

  void setMinRecords(long value);

  @Description("Circuit breaker: fail the run, publishing nothing, when its record count fell by more than this"
      + " share (0 to 1) below the previous published run's (its _MANIFEST.json records), e.g. 0.5: 2000"
      + " yesterday, fewer than 1000 today fails. Not judged without a previous run. off (or 1) turns the check off.")
  @Default.Double(QualityThresholds.DEFAULT_MAX_RECORD_DROP)
  double getMaxRecordDrop();

  void setMaxRecordDrop(double value);

  @Description("Features (comma-separated input names) that are profiled but never compared with training:"
      + " no drift figures, skipped by the drift limits (as \"drift\": false in the feature spec).")
  @Default.InstanceFactory(NoNames.class)
  List<String> getNoDriftFeatures();

  void setNoDriftFeatures(List<String> value);

  @Description("A key's score counts as changed against the previous run when it moved by more than this.")
  @Default.Double(MeasureRunQuality.DEFAULT_CHANGE_EPSILON)
  double getPredictionChangeEpsilon();

  void setPredictionChangeEpsilon(double value);

  @Description("URL that gets an HTTP POST with a JSON alert when the run fails or its circuit breaker trips;"
      + " empty = no alerts. Delivery is best effort and never fails the run.")
  @Default.String("")
  String getAlertWebhook();

  void setAlertWebhook(String value);

  @Description("Log progress (records done, records/s) every this many input records per worker; 0 = never.")
  @Default.Long(100_000)
  long getProgressEvery();

  void setProgressEvery(long value);

  /** {@code --keyColumns}' default: {@code account_id}, the fraud example's key. */
  final class DefaultKeyColumns implements DefaultValueFactory<List<String>> {
    @Override
    public List<String> create(PipelineOptions options) {
      return List.of("account_id");
    }
  }

  /** {@code --formats}' default: Parquet and JSON lines. */
  final class DefaultFormats implements DefaultValueFactory<List<FileFormat>> {
    @Override
    public List<FileFormat> create(PipelineOptions options) {
      return List.of(FileFormat.PARQUET, FileFormat.JSONL);
    }
  }

  /** {@code --fallback}'s default: {@link Fallback#abstain()}. */
  final class DefaultFallback implements DefaultValueFactory<Fallback> {
    @Override
    public Fallback create(PipelineOptions options) {
      return Fallback.abstain();
    }
  }

  /** The default of a list of names that may be empty: none. */
  final class NoNames implements DefaultValueFactory<List<String>> {
    @Override
    public List<String> create(PipelineOptions options) {
      return List.of();
    }
  }
}
