package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.features.InstantText;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How a source makes the key of a record: the key column(s), and those of them whose text is a
 * timestamp. Every source ({@link RecordSource}) gets one, checked and resolved, in
 * {@link RecordSource#read}.
 *
 * <p>The key is one column's value, byte for byte (never trimmed), or several columns' values made
 * one key by {@link CompositeKey#of}; an instant (a Parquet or JDBC timestamp, or the text of a key
 * timestamp column) is keyed by its canonical text ({@link InstantText#canonical},
 * {@code 2001-01-01T00:01:00Z}) whatever its source encoding.
 *
 * <pre>{@code
 * String key = keys.keyOf(row); // null when a key column is empty; UnreadableKey for a bad timestamp
 * }</pre>
 */
public final class RecordKeys implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final java.util.regex.Pattern EPOCH_MILLIS = java.util.regex.Pattern.compile("-?\\d{1,18}");

  private final List<String> columns;
  /** Key columns whose text is a timestamp: its format, or "" for {@link InstantText}'s default forms. */
  private final Map<String, String> timestamps;

  RecordKeys(List<String> columns, Map<String, String> timestamps) {
    this.columns = List.copyOf(columns);
    this.timestamps = Map.copyOf(timestamps);
  }

  /** The key columns, in key order. */
  public List<String> columns() {
    return columns;
  }

  /** The key columns read as timestamps from text: column to format ("" for the default forms). */
  public Map<String, String> timestamps() {
    return timestamps;
  }

  /**
   * Checks that every key column is in {@code schema}; {@code where} names the input in the message
   * ({@code key column 'id' is not in /data/a.csv (columns: [...])}).
   */
  public void checkIn(Schema schema, String where) {
    for (String k : columns) {
      checkArgument(schema.hasField(k), "key column '%s' is not in %s (columns: %s)", k, where, schema.getFieldNames());
    }
  }

  /**
   * The key of a row ({@link CompositeKey#of} of the key columns' text, see {@link #keyText}), or null
   * when a key column is null, empty or only white space.
   *
   * @throws UnreadableKey when a key timestamp column's text is not a timestamp
   */
  public @Nullable String keyOf(Row row) {
    List<String> parts = new ArrayList<>(columns.size());
    for (String column : columns) {
      Object v = row.getValue(column);
      if (v == null || v.toString().isBlank()) {
        return null;
      }
      parts.add(keyText(column, v));
    }
    return CompositeKey.of(parts);
  }

  /**
   * The text of one key column's value, the same whatever the source encoding: an instant (Parquet
   * and JDBC timestamps, and the text of a key timestamp column) as {@link InstantText#canonical}
   * ({@code 2001-01-01T00:01:00Z}); a date as ISO {@code 2001-01-01}; a time of day as ISO
   * {@code 10:15:30} (fraction digits as needed); anything else as its text, unchanged.
   *
   * @throws UnreadableKey when {@code column} is a key timestamp column and its text is not a timestamp
   */
  public String keyText(String column, Object v) {
    String format = timestamps.get(column);
    if (format != null && v instanceof CharSequence) {
      String text = v.toString().trim();
      try {
        if (format.isEmpty() && EPOCH_MILLIS.matcher(text).matches()) {
          // As a timestamp feature reads digits without a format: epoch milliseconds.
          return InstantText.canonical(java.time.Instant.ofEpochMilli(Long.parseLong(text)));
        }
        return InstantText.canonical(InstantText.parse(text, format.isEmpty() ? null : format));
      } catch (NumberFormatException | java.time.DateTimeException e) {
        throw new UnreadableKey(column, "the key column '" + column + "' is not a timestamp"
            + (format.isEmpty() ? " (ISO-8601, BigQuery's text, yyyy-MM-dd[ HH:mm:ss] or epoch milliseconds)"
                : " in format '" + format + "'") + ": '" + v + "'");
      }
    }
    if (v instanceof java.time.LocalDate && format == null) {
      return v.toString();
    }
    if (v instanceof java.time.LocalTime) {
      return java.time.format.DateTimeFormatter.ISO_LOCAL_TIME.format((java.time.LocalTime) v);
    }
    java.time.Instant t = InstantText.of(v);
    return t != null ? InstantText.canonical(t) : v.toString();
  }

  /** A key column whose text is declared a timestamp but does not parse as one. */
  public static final class UnreadableKey extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String column;

    UnreadableKey(String column, String message) {
      super(message);
      this.column = column;
    }

    /** The key column whose text is not a timestamp. */
    public String column() {
      return column;
    }
  }
}
