package dev.batchserve.transforms.inference;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where {@link ScoreBySegment} reads a record's segment: a column, or the key's prefix. Exactly one
 * is set.
 */
final class SegmentOf implements Serializable {
  private static final long serialVersionUID = 1L;
  final @Nullable String column;
  final @Nullable String separator;

  private SegmentOf(@Nullable String column, @Nullable String separator) {
    this.column = column;
    this.separator = separator;
  }

  static SegmentOf column(String column) {
    return new SegmentOf(column, null);
  }

  static SegmentOf keyPrefix(String separator) {
    return new SegmentOf(null, separator);
  }

  /** The record's segment, or null when it has none. */
  @Nullable String of(Object key, Row row) {
    if (column != null) {
      checkArgument(row.getSchema().hasField(column),
          "the segment column '%s' is not in the input row, whose columns are %s", column,
          row.getSchema().getFieldNames());
      Object v = row.getValue(column);
      return v == null ? null : String.valueOf(v);
    }
    String k = String.valueOf(key);
    int at = k.indexOf(Objects.requireNonNull(separator));
    return at < 0 ? null : k.substring(0, at);
  }

  /** What a dead letter names as its field when the segment is missing. */
  @Nullable String field() {
    return column;
  }

  @Override
  public String toString() {
    return column != null ? "column " + column : "key prefix before '" + separator + "'";
  }
}
