package dev.batchserve.pipelines;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Options of {@link BatchScoringPipeline}. Every option has a description and a default that runs
 * the fraud example on the sample data and the demo model that {@code make run} prepares.
 */
public interface BatchScoringOptions extends PipelineOptions {
  @Description("Input file pattern (CSV with a header line, or Parquet), local or any Beam FileSystems URI.")
  @Default.String("work/sample/fraud/accounts.csv")
  String getInput();

  void setInput(String value);

  @Description("Input format: csv or parquet; empty = from the input's extension.")
  @Default.String("")
  String getInputFormat();

  void setInputFormat(String value);

  @Description("Key column(s) of the input, comma-separated; several make a composite key joined by '|'.")
  @Default.String("account_id")
  String getKeyColumns();

  void setKeyColumns(String value);

  @Description("Model directory (with model-manifest.json), local or any Beam FileSystems URI.")
  @Default.String("work/models/fraud-mlp/1")
  String getModel();

  void setModel(String value);

  @Description("Feature spec JSON saved at training; empty = feature-spec.json inside the model directory.")
  @Default.String("")
  String getFeatureSpec();

  void setFeatureSpec(String value);

  @Description("Root directory of the prediction files; each run writes run_date=<date>/run_id=<id>/ under it.")
  @Default.String("work/predictions/fraud")
  String getOutput();

  void setOutput(String value);

  @Description("Output file formats, comma-separated: parquet, jsonl.")
  @Default.String("parquet,jsonl")
  String getFormats();

  void setFormats(String value);

  @Description("Shards per output format.")
  @Default.Integer(4)
  int getNumShards();

  void setNumShards(int value);

  @Description("Pipeline name, the first part of the run id.")
  @Default.String("fraud")
  String getPipelineName();

  void setPipelineName(String value);

  @Description("Logical date of the run (yyyy-mm-dd, UTC); empty = today.")
  @Default.String("")
  String getRunDate();

  void setRunDate(String value);

  @Description("Schedule interval: hourly, daily or weekly.")
  @Default.String("daily")
  String getInterval();

  void setInterval(String value);

  @Description("Hour of the run date, for hourly runs (0-23).")
  @Default.Integer(0)
  int getRunHour();

  void setRunHour(int value);

  @Description("Largest number of records per model call (1 to 100000).")
  @Default.Integer(256)
  int getBatchSize();

  void setBatchSize(int value);

  @Description("Fallback for keys without a model prediction: 'abstain' or 'constant:<score>'.")
  @Default.String("abstain")
  String getFallback();

  void setFallback(String value);

  @Description("Duplicate input keys: 'error' (dead letter + fallback) or 'last_wins'.")
  @Default.String("error")
  String getDuplicateKeys();

  void setDuplicateKeys(String value);

  @Description("Abort the run when more than this share of records fails inference (0 to 1).")
  @Default.Double(0.5)
  double getFailureThreshold();

  void setFailureThreshold(double value);
}
