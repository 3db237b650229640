package dev.batchserve.pipelines.config;

import static dev.batchserve.pipelines.config.Problems.isBlank;
import static dev.batchserve.pipelines.config.Problems.lower;

import dev.batchserve.pipelines.schedule.UpstreamMarker;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.jdbc.JdbcEndpoint;
import dev.batchserve.transforms.values.RunInfo;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code source}: where the records come from, as written. {@code type} is
 * {@code files} ({@code path}, optional {@code format}: csv, jsonl or parquet), {@code jdbc}
 * ({@code url} and one of {@code query}, {@code table}) or {@code bigquery} (one of {@code query},
 * {@code table}).
 *
 * <pre>
 * source: {type: files, path: data/accounts-{run_date}.jsonl, format: jsonl}
 * </pre>
 */
public record JobSource(
    @Nullable String type,
    @Nullable String path,
    @Nullable String format,
    @Nullable String url,
    @Nullable String query,
    @Nullable String table) {

  /** The source type, trimmed and lower case; null when unset. */
  public @Nullable String kind() {
    return lower(type);
  }

  /**
   * The records' format: {@code format} as {@link ReadRecords.Format#parseFile} reads it, else the
   * path's extension ({@link ReadRecords.Format#fromPattern}); {@code JDBC} and {@code BIGQUERY} for
   * those sources.
   *
   * @throws IllegalArgumentException with that code's message, for a format it does not read
   */
  public ReadRecords.Format readFormat() {
    String k = kind();
    if ("jdbc".equals(k)) {
      return ReadRecords.Format.JDBC;
    }
    if ("bigquery".equals(k)) {
      return ReadRecords.Format.BIGQUERY;
    }
    return format != null ? ReadRecords.Format.parseFile(format) : fileFormatOf(path);
  }

  /** The text a query or path means for {@code run}: its placeholders filled; as written without a run. */
  static @Nullable String resolve(@Nullable String text, @Nullable RunInfo run) {
    return text == null || run == null ? text : UpstreamMarker.resolve(text, run);
  }

  /** The query of a JDBC source: {@code query}, else all of {@code table}. */
  String jdbcQuery() {
    return query != null ? query : "SELECT * FROM " + table;
  }

  void validate(Problems p) {
    String k = kind();
    if (k == null) {
      p.add("source.type is required: files, jdbc or bigquery");
      return;
    }
    switch (k) {
      case "files":
        if (isBlank(path)) {
          p.add("source.path is required for a files source");
        }
        if (format != null) {
          p.check("source.format", () -> ReadRecords.Format.parseFile(format));
        } else if (!isBlank(path) && fileFormatOrNull(path) == null) {
          p.add("source.format is required: cannot tell it from the extension of '" + path + "'");
        }
        p.notUsed("source", "a files source", "url", url, "query", query, "table", table);
        break;
      case "jdbc":
        p.check("source.url", () -> JdbcEndpoint.of(url));
        if (isBlank(query) == isBlank(table)) {
          p.add("source needs exactly one of query, table for a jdbc source");
        }
        p.notUsed("source", "a jdbc source", "path", path, "format", format);
        break;
      case "bigquery":
        if (isBlank(query) == isBlank(table)) {
          p.add("source needs exactly one of query, table for a bigquery source");
        } else if (table != null && !isBigQueryTable(table)) {
          p.add("source.table must be [project:]dataset.table, but was '" + table + "'");
        }
        p.notUsed("source", "a bigquery source", "path", path, "format", format, "url", url);
        break;
      default:
        p.add("source.type must be one of files, jdbc, bigquery, but was '" + type + "'");
    }
  }

  /** The file format of a path's extension, as the pipeline tells it. */
  private static ReadRecords.Format fileFormatOf(@Nullable String path) {
    ReadRecords.Format f = fileFormatOrNull(path);
    if (f == null) {
      throw new IllegalArgumentException("cannot tell the file format of '" + path + "' from its extension");
    }
    return f;
  }

  private static ReadRecords.@Nullable Format fileFormatOrNull(@Nullable String path) {
    try {
      ReadRecords.Format f = ReadRecords.Format.fromPattern(String.valueOf(path));
      return f.isFile() ? f : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Whether Beam's own parser takes {@code spec} as a table ([project:]dataset.table), as the job will. */
  static boolean isBigQueryTable(String spec) {
    try {
      org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers.parseTableSpec(spec);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
