package dev.batchserve.transforms.sink;

/**
 * The entry point of the prediction sinks of this artifact: one factory per store, each writing every prediction
 * with its metadata (model name and version, prediction timestamp, run id, confidence, fallback
 * reason) and publishing a run all-or-nothing, so the previous run stays served until the new one
 * is complete.
 *
 * <pre>{@code
 * PublishedRun written = predictions.apply(
 *     SinkWithMetadata.<String>files("/data/predictions")
 *         .withRunInfo(run)
 *         .withFormats(FileFormat.PARQUET, FileFormat.JSONL)
 *         .withDeadLetters(deadLetters)
 *         .publishAfter(keyed.counts()));
 * }</pre>
 */
public final class SinkWithMetadata {
  private SinkWithMetadata() {}

  /**
   * Parquet and/or JSON-lines files under {@code root}, partitioned by run date and run id, published
   * with a manifest, a {@code _SUCCESS} marker and a {@code _LATEST} pointer, in that order.
   */
  public static <K> FileSink<K> files(String root) {
    return FileSink.to(root);
  }

  /**
   * A BigQuery table ({@code [project:]dataset.table}), partitioned on {@code prediction_timestamp}:
   * every prediction as a row, each run replacing its own partition in one load job; see
   * {@link BigQuerySink}.
   */
  public static <K> BigQuerySink<K> bigQuery(String tableSpec) {
    return BigQuerySink.to(tableSpec);
  }
}
