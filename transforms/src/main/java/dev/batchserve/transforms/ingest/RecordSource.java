package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.features.Feature;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureType;
import dev.batchserve.transforms.features.InstantText;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;

/**
 * What every source of keyed records shares: the key column(s) and which of them hold timestamps as
 * text. Each format is a subclass holding its own options ({@link CsvRecords}, {@link JsonLinesRecords},
 * {@link ParquetRecords}, and the JDBC and BigQuery sources); {@link #expand} checks the key settings
 * and hands the resolved {@link RecordKeys} to the format's {@link #read}.
 *
 * <pre>{@code
 * RecordSource<?> source = ReadRecords.of(path, ReadRecords.Format.fromPattern(path));
 * ReadRecords.Result in = p.apply(source.withKeyColumns("user", "ts").withKeyTimestampsOf(spec));
 * }</pre>
 *
 * <p>A new source extends it with its own type as {@code S}, a copy constructor calling
 * {@link #RecordSource(RecordSource)}, {@link #copy} and {@link #read}.
 *
 * @param <S> the source's own type, which every {@code withX} returns
 */
public abstract class RecordSource<S extends RecordSource<S>> extends PTransform<PBegin, ReadRecords.Result> {
  private static final long serialVersionUID = 1L;

  private List<String> keyColumns = List.of();
  private Map<String, String> keyTimestamps = Map.of();
  /** Timestamp features of a spec ({@link #withKeyTimestampsOf}): those that are key columns are key timestamps. */
  private Map<String, String> specTimestamps = Map.of();

  /** A source without key settings. */
  protected RecordSource() {}

  /** A copy of {@code from}'s key settings, for a subclass's copy constructor. */
  protected RecordSource(RecordSource<?> from) {
    this.keyColumns = from.keyColumns;
    this.keyTimestamps = from.keyTimestamps;
    this.specTimestamps = from.specTimestamps;
  }

  /** A copy of this source (its own options and, through {@link #RecordSource(RecordSource)}, the key settings). */
  protected abstract S copy();

  /**
   * Reads the records of {@code begin}'s pipeline keyed by {@code keys} (checked and resolved); whole
   * input problems fail here, at construction, naming the input and column.
   */
  protected abstract ReadRecords.Result read(PBegin begin, RecordKeys keys);

  /** The key column(s); several make a composite key ({@link CompositeKey#of}). */
  public final S withKeyColumns(String... columns) {
    checkArgument(columns.length > 0, "at least one key column is needed");
    for (String c : columns) {
      checkArgument(c != null && !c.isEmpty(), "key column names must be non-empty, but were %s", Arrays.toString(columns));
    }
    S c = copy();
    ((RecordSource<S>) c).keyColumns = List.of(columns);
    return c;
  }

  /**
   * Declares that key column {@code column} holds timestamps as text (CSV, JSON lines, BigQuery), read
   * in {@link InstantText}'s default forms, so that its part of the key is the canonical instant text
   * ({@code 2001-01-01T00:01:00Z}), the text the same instant gives from a Parquet or JDBC timestamp.
   * A value that does not parse is a dead letter ({@code unparsable_key}). Typed timestamps are made
   * canonical without it.
   *
   * <pre>{@code
   * ReadRecords.csv("/data/events.csv").withKeyColumns("user", "ts").withKeyTimestamp("ts");
   * }</pre>
   */
  public final S withKeyTimestamp(String column) {
    return keyTimestamp(column, "");
  }

  /**
   * As {@link #withKeyTimestamp(String)}, the text read with {@code format}, a
   * {@link java.time.format.DateTimeFormatter} pattern (read in UTC when it has no zone), as a
   * timestamp feature's {@code format}:
   * {@code ReadRecords.csv(path).withKeyColumns("user", "ts").withKeyTimestamp("ts", "yyyy-MM-dd HH:mm:ss")}.
   */
  public final S withKeyTimestamp(String column, String format) {
    InstantText.formatter(format);
    return keyTimestamp(column, format);
  }

  /**
   * Declares as {@link #withKeyTimestamp} every key column that {@code spec} reads as a timestamp
   * feature, with the feature's format: what the launcher does, so that a timestamp key from text has
   * the text the model's features and a Parquet file give it. Other key columns are left alone, and an
   * explicit {@link #withKeyTimestamp} of the same column wins.
   *
   * <pre>{@code
   * ReadRecords.csv(path).withKeyColumns("user", "ts").withKeyTimestampsOf(spec);
   * }</pre>
   */
  public final S withKeyTimestampsOf(FeatureSpec spec) {
    Map<String, String> m = new TreeMap<>();
    for (Feature f : spec.features()) {
      if (f.type() == FeatureType.TIMESTAMP) {
        m.put(f.name(), f.format() == null ? "" : f.format());
      }
    }
    S c = copy();
    ((RecordSource<S>) c).specTimestamps = Collections.unmodifiableMap(m);
    return c;
  }

  private S keyTimestamp(String column, String format) {
    checkArgument(column != null && !column.isEmpty(), "the key timestamp column must be named, but was '%s'", column);
    S c = copy();
    Map<String, String> m = new TreeMap<>(keyTimestamps);
    m.put(column, format);
    ((RecordSource<S>) c).keyTimestamps = Collections.unmodifiableMap(m);
    return c;
  }

  @Override
  public final ReadRecords.Result expand(PBegin begin) {
    checkArgument(!keyColumns.isEmpty(), "ReadRecords needs withKeyColumns(...)");
    for (String column : keyTimestamps.keySet()) {
      checkArgument(keyColumns.contains(column), "withKeyTimestamp(\"%s\") names a column that is not a key"
          + " column (key columns: %s)", column, keyColumns);
    }
    Map<String, String> timestamps = new TreeMap<>(keyTimestamps);
    for (String column : keyColumns) {
      if (specTimestamps.containsKey(column)) {
        timestamps.putIfAbsent(column, specTimestamps.get(column));
      }
    }
    return read(begin, new RecordKeys(keyColumns, timestamps));
  }
}
