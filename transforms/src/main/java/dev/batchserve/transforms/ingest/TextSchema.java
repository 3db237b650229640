package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.schemas.Schema;

/**
 * The row schema of a text source (CSV, JSON lines, BigQuery's text values): one nullable string
 * per column, typed later by the feature spec.
 *
 * <pre>{@code
 * Schema s = TextSchema.keptColumns(keys, List.of("amount", "region"), "the query's columns");
 * }</pre>
 */
public final class TextSchema {
  private TextSchema() {}

  /**
   * Nullable strings named by {@code header} (trimmed); {@code file} names the input in the message
   * when a name is empty or repeated.
   */
  public static Schema of(List<String> header, String file) {
    Schema.Builder b = Schema.builder();
    Set<String> seen = new HashSet<>();
    for (String col : header) {
      String name = col.trim();
      checkArgument(!name.isEmpty(), "CSV file %s has an empty column name in its header", file);
      checkArgument(seen.add(name), "CSV file %s has the column '%s' twice in its header", file, name);
      b.addNullableField(name, Schema.FieldType.STRING);
    }
    return b.build();
  }

  /**
   * For a source that keeps only the columns it is told to (JSON lines, BigQuery): the key columns,
   * then {@code columns} not already among them.
   */
  public static Schema keptColumns(RecordKeys keys, List<String> columns, String where) {
    Set<String> names = new LinkedHashSet<>(keys.columns());
    names.addAll(columns);
    return of(new ArrayList<>(names), where);
  }

  /** {@code names} as the columns a source keeps ({@code withColumns}): each non-empty, or the message names them. */
  public static List<String> checkedColumns(List<String> names) {
    for (String c : names) {
      checkArgument(c != null && !c.isEmpty(), "column names must be non-empty, but were %s", names);
    }
    return List.copyOf(names);
  }
}
