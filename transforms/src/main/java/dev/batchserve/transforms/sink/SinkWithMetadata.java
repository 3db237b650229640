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
 *
 * <p>The store connectors with a client of their own are in their own artifacts, each with its own
 * factory: {@code RedisSink.to} ({@code batchserve-io-redis}), {@code DynamoDbSink.to}
 * ({@code batchserve-io-aws}), {@code BigQuerySink.to} ({@code batchserve-io-gcp}).
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
   * A PostgreSQL, MySQL/MariaDB or Snowflake table ({@code jdbc:postgresql:}, {@code jdbc:mysql:},
   * {@code jdbc:mariadb:}, {@code jdbc:snowflake:} URL): every prediction as a row, written into the
   * run's staging table and swapped in atomically (one transaction on PostgreSQL, one
   * {@code RENAME TABLE} on MySQL/MariaDB, {@code ALTER TABLE ... SWAP WITH} on Snowflake); see
   * {@link JdbcSink}.
   */
  public static <K> JdbcSink<K> jdbc(String url) {
    return JdbcSink.to(url);
  }
}
