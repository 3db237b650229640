package dev.batchserve.transforms.ingest;

import dev.batchserve.transforms.values.DeadLetter;
import org.apache.beam.sdk.values.Row;

/**
 * Keys typed rows (Parquet, JDBC): each row is counted and output under its key, or is a dead letter
 * ({@code missing_key}: "the key column is empty", with the row as a JSON object) when a key column is empty.
 *
 * <pre>{@code
 * ReadRecords.Result in = ReadRecords.Result.of(rows.apply("KeyRows", new KeyRowsFn(keys).parDo()), rows.getSchema());
 * }</pre>
 */
public final class KeyRowsFn extends KeyingFn<Row> {
  private static final long serialVersionUID = 1L;

  /** Keys rows by {@code keys}. */
  public KeyRowsFn(RecordKeys keys) {
    super(keys);
  }

  @ProcessElement
  public void process(@Element Row row, MultiOutputReceiver out) {
    read.inc();
    emit(row, out, DeadLetter::rowRecord, "the key column is empty");
  }
}
