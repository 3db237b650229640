package dev.batchserve.transforms.ingest;

import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Reasons;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What the keying steps of every source share: the {@code records_read} and {@code records_rejected}
 * counters ({@link ReadRecords#METRICS_NAMESPACE}), and emitting a row under its key to
 * {@link #RECORDS}, or as a dead letter (step {@code read}) to {@link #DEAD_LETTERS} when its key is
 * empty ({@code missing_key}) or a key timestamp does not parse ({@code unparsable_key}).
 *
 * <pre>{@code
 * ReadRecords.Result in = ReadRecords.Result.of(rows.apply("KeyRows", new KeyRowsFn(keys).parDo()), schema);
 * }</pre>
 *
 * @param <T> what the source gives: a file, a line, a row
 */
public abstract class KeyingFn<T> extends DoFn<T, KV<String, Row>> {
  private static final long serialVersionUID = 1L;
  /** The keyed records; the same tag for every keying step. */
  public static final TupleTag<KV<String, Row>> RECORDS = new TupleTag<>("records") {};
  /** The records that could not be read or keyed. */
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<>("deadLetters") {};

  /** The key columns and key timestamps. */
  protected final RecordKeys keys;
  /** Records seen (each line or row, read or not). */
  protected final Counter read = Metrics.counter(ReadRecords.METRICS_NAMESPACE, "records_read");
  /** Records sent to the dead letters. */
  protected final Counter rejected = Metrics.counter(ReadRecords.METRICS_NAMESPACE, "records_rejected");

  /** A keying step with {@code keys}. */
  protected KeyingFn(RecordKeys keys) {
    this.keys = keys;
  }

  /** This step as a {@code ParDo} with the outputs {@link #RECORDS} and {@link #DEAD_LETTERS} ({@link ReadRecords.Result#of}). */
  public final ParDo.MultiOutput<T, KV<String, Row>> parDo() {
    return ParDo.of(this).withOutputTags(RECORDS, TupleTagList.of(DEAD_LETTERS));
  }

  /** Counts and outputs a dead letter without a key. */
  protected final void reject(MultiOutputReceiver out, String record, @Nullable String field, String reason,
      String message) {
    reject(out, null, record, field, reason, message);
  }

  /**
   * Counts and outputs a dead letter of step {@code read}: {@code key} when the record's key could be
   * read (so the key gets its fallback), the record's text, the field at fault, the reason and message.
   */
  protected final void reject(MultiOutputReceiver out, @Nullable String key, String record, @Nullable String field,
      String reason, String message) {
    rejected.inc();
    out.get(DEAD_LETTERS).output(DeadLetter.of("read", key, record, field, reason, message));
  }

  /**
   * Outputs {@code row} under its key, or a dead letter when the key cannot be made; {@code record}
   * renders the record for a dead letter (it is only called for one).
   */
  protected final void emit(Row row, MultiOutputReceiver out, SerializableFunction<Row, String> record,
      String noKeyMessage) {
    String key;
    try {
      key = keys.keyOf(row);
    } catch (RecordKeys.UnreadableKey e) {
      reject(out, record.apply(row), e.column(), Reasons.UNPARSABLE_KEY, e.getMessage());
      return;
    }
    if (key == null) {
      reject(out, record.apply(row), String.join(ReadRecords.KEY_SEPARATOR, keys.columns()), Reasons.MISSING_KEY,
          noKeyMessage);
      return;
    }
    out.get(RECORDS).output(KV.of(key, row));
  }
}
