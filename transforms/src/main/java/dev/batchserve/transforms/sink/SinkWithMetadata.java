package dev.batchserve.transforms.sink;

/**
 * The entry point of the prediction sinks: one factory per store, each writing every prediction
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
 *
 * <p>The store connectors with a client of their own are in their own artifacts, each with its own
 * factory: {@code RedisSink.to} ({@code batchserve-io-redis}), {@code DynamoDbSink.to}
 * ({@code batchserve-io-aws}), {@code JdbcSink.to} ({@code batchserve-io-jdbc}), {@code BigQuerySink.to}
 * ({@code batchserve-io-gcp}).
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
}
