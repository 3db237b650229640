package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.features.InstantText;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.TransformResult;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Reads input records from files as {@code KV<key, Row>}: the key is attached once, at the source.
 * The factories here give one source per file format, each with its own options:
 * {@link #csv} ({@link CsvRecords}), {@link #jsonLines} ({@link JsonLinesRecords}) and
 * {@link #parquet} ({@link ParquetRecords}); JDBC queries and BigQuery tables have sources of their
 * own ({@code JdbcRecords.read}, {@code BigQueryRecords.fromTable}/{@code fromQuery}).
 *
 * <p>CSV files (with a header line) give rows of nullable strings, typed later by the feature spec;
 * Parquet files give rows typed by the file's own schema; JSON lines text values of the named columns.
 * The key is one column's value, byte for byte (never trimmed), or several columns' values made one
 * key by {@link CompositeKey#of} (escaped, so distinct tuples never share a key); a timestamp, typed
 * or declared with {@link RecordSource#withKeyTimestamp}, is keyed by its canonical text
 * ({@link InstantText#canonical}, {@code 2001-01-01T00:01:00Z}) whatever its source encoding
 * ({@link RecordKeys}). A record that cannot be parsed, has the wrong number of columns, bytes that
 * are not UTF-8, or no key goes to the dead letters (step {@code read}) with its reason and, for CSV,
 * {@code file:line} at the start of the detail; when the key columns of such a record can still be
 * read, the dead letter carries the key, so the key gets its fallback with that reason
 * ({@code KeyedPrediction.withReadFailures}). Whole-file problems (no file matches, no header, a key
 * column or another column of the first file missing from any file, a Parquet file whose schema
 * differs from the first) fail at construction with a message naming the file and column.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(ReadRecords.csv("/data/accounts-*.csv").withKeyColumns("account_id"));
 * PCollection<KV<String, Row>> records = in.records();
 * PCollection<DeadLetter> unreadable = in.deadLetters();
 * }</pre>
 */
public final class ReadRecords {
  /** The namespace of the read counters ({@code records_read}, {@code records_rejected}). */
  public static final String METRICS_NAMESPACE = "batchserve.read";
  /** Joins the parts of a composite key; see {@link CompositeKey} for how parts are escaped. */
  public static final String KEY_SEPARATOR = String.valueOf(CompositeKey.SEPARATOR);

  private ReadRecords() {}

  /** CSV files with a header line: see {@link CsvRecords}. */
  public static CsvRecords csv(String filePattern) {
    return new CsvRecords(checkedPattern(filePattern));
  }

  /**
   * JSON lines: one object per line. JSON has no header, so the columns to keep are named with
   * {@link JsonLinesRecords#withColumns} (typically the feature spec's inputs); see {@link JsonLinesRecords}.
   */
  public static JsonLinesRecords jsonLines(String filePattern) {
    return new JsonLinesRecords(checkedPattern(filePattern));
  }

  /** Parquet files (schema from the first file's footer): see {@link ParquetRecords}. */
  public static ParquetRecords parquet(String filePattern) {
    return new ParquetRecords(checkedPattern(filePattern));
  }

  /**
   * Files of a format named at run time ({@code --inputFormat}, {@link Format#fromPattern}); JSON
   * lines keep only their key columns (see {@link #of(String, Format, List)}).
   *
   * <pre>{@code
   * p.apply(ReadRecords.of(path, ReadRecords.Format.fromPattern(path)).withKeyColumns("id"));
   * }</pre>
   */
  public static RecordSource<?> of(String filePattern, Format format) {
    return of(filePattern, format, List.of());
  }

  /**
   * Files of a format named at run time; {@code columns} are the columns kept from a format without
   * a header (JSON lines, see {@link JsonLinesRecords#withColumns}), while CSV and Parquet files keep
   * the columns they name.
   *
   * <pre>{@code
   * p.apply(ReadRecords.of(path, format, spec.inputNames()).withKeyColumns("id").withKeyTimestampsOf(spec));
   * }</pre>
   */
  public static RecordSource<?> of(String filePattern, Format format, List<String> columns) {
    checkedPattern(filePattern);
    Objects.requireNonNull(format, "format");
    checkArgument(format.isFile(),
        "%s is not a file format: use JdbcRecords.read or BigQueryRecords.fromTable/fromQuery", format);
    switch (format) {
      case CSV:
        return csv(filePattern);
      case JSONL:
        return jsonLines(filePattern).withColumns(columns);
      default:
        return parquet(filePattern);
    }
  }

  private static String checkedPattern(String filePattern) {
    checkArgument(filePattern != null && !filePattern.isEmpty(), "filePattern must be set, but was '%s'", filePattern);
    return filePattern;
  }

  /** Input formats: the file formats this class reads, and the JDBC and BigQuery sources. */
  public enum Format {
    CSV,
    PARQUET,
    JSONL,
    JDBC,
    /** A BigQuery table ({@code [project:]dataset.table}) or a standard-SQL query. */
    BIGQUERY;

    /** The prefix that names a BigQuery table as an input: {@code bigquery:project:dataset.table}. */
    public static final String BIGQUERY_PREFIX = "bigquery:";

    /** The formats {@link ReadRecords#of(String, Format)} reads from files, as options and job files name them. */
    public static final List<String> FILE_FORMATS = List.of("csv", "jsonl", "parquet");

    /** {@code csv}, {@code jsonl}, {@code parquet}, {@code jdbc} or {@code bigquery}: the name options and job files use, and the JSON form. */
    @com.fasterxml.jackson.annotation.JsonValue
    public String optionName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether records of this format come from files ({@link ReadRecords#of(String, Format)}), not JDBC or BigQuery. */
    public boolean isFile() {
      return this == CSV || this == PARQUET || this == JSONL;
    }

    /**
     * The format {@code name} names, any case: {@code csv}, {@code jsonl}, {@code parquet},
     * {@code jdbc} or {@code bigquery}.
     */
    @com.fasterxml.jackson.annotation.JsonCreator
    public static Format parse(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
        throw new IllegalArgumentException(
            "format must be one of csv, jsonl, parquet, jdbc, bigquery, but was '" + name + "'");
      }
    }

    /** The file format {@code name} names, any case: one of {@link #FILE_FORMATS}. */
    public static Format parseFile(String name) {
      Format f = null;
      try {
        f = parse(name);
      } catch (IllegalArgumentException e) {
        // reported below, naming the file formats only
      }
      checkArgument(f != null && f.isFile(), "format must be one of %s, but was '%s'",
          String.join(", ", FILE_FORMATS), name);
      return f;
    }

    /** The format named by a file pattern's extension ({@code .csv}, {@code .parquet}). */
    public static Format fromPattern(String pattern) {
      String p = pattern.toLowerCase(Locale.ROOT);
      if (p.startsWith("jdbc:")) {
        return JDBC;
      }
      if (p.startsWith(BIGQUERY_PREFIX)) {
        return BIGQUERY;
      }
      if (p.endsWith(".csv") || p.endsWith(".csv.gz") || p.endsWith(".csv.bz2") || p.endsWith(".csv.zst")
          || p.endsWith(".csv.zip") || p.endsWith(".csv.deflate")) {
        return CSV;
      }
      if (p.endsWith(".parquet")) {
        return PARQUET;
      }
      if (p.endsWith(".jsonl") || p.endsWith(".json") || p.endsWith(".ndjson")) {
        return JSONL;
      }
      throw new IllegalArgumentException(
          "cannot tell the input format of '" + pattern + "' from its extension: use .csv, .parquet or"
              + " .jsonl, a jdbc: URL, bigquery:project:dataset.table, or set the format explicitly");
    }
  }

  /**
   * The records and the unreadable lines of a source. It is also an input: a step that keeps some
   * records and their dead letters is a {@code PTransform<ReadRecords.Result, ReadRecords.Result>},
   * applied with {@link #apply}.
   *
   * <pre>{@code
   * ReadRecords.Result in = p.apply(ReadRecords.csv(path).withKeyColumns("id"));
   * in.records().apply(KeyedPrediction.of(spec, model).withReadFailures(in.deadLetters()));
   * }</pre>
   */
  public static final class Result extends TransformResult implements PInput {
    /** The tag of {@link #records()} in {@link #expand()}: the same for every result. */
    public static final TupleTag<KV<String, Row>> RECORDS = KeyingFn.RECORDS;
    /** The tag of {@link #deadLetters()} in {@link #expand()}. */
    public static final TupleTag<DeadLetter> DEAD_LETTERS = KeyingFn.DEAD_LETTERS;

    private final PCollection<KV<String, Row>> records;
    private final PCollection<DeadLetter> deadLetters;
    private final Schema schema;

    private Result(PCollection<KV<String, Row>> records, PCollection<DeadLetter> deadLetters, Schema schema) {
      super(records.getPipeline());
      this.records = output(RECORDS, records);
      this.deadLetters = output(DEAD_LETTERS, deadLetters);
      this.schema = schema;
    }

    /**
     * The outputs of a keying step ({@link KeyingFn#parDo}), their coders set: records of rows of
     * {@code schema}, dead letters.
     */
    public static Result of(PCollectionTuple keyed, Schema schema) {
      return of(keyed.get(RECORDS), keyed.get(DEAD_LETTERS), schema);
    }

    /**
     * {@code records} (rows of {@code schema}) and {@code deadLetters} as a result, their coders set,
     * e.g. the share of a result that a step keeps.
     */
    public static Result of(PCollection<KV<String, Row>> records, PCollection<DeadLetter> deadLetters, Schema schema) {
      records.setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema)));
      deadLetters.setCoder(DeadLetter.DeadLetterCoder.of());
      return new Result(records, deadLetters, schema);
    }

    /** The records under their keys. */
    public PCollection<KV<String, Row>> records() {
      return records;
    }

    /** The records that could not be read or keyed (step {@code read}). */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    /**
     * The row schema: the CSV header as nullable strings, or the Parquet file's schema with its logical
     * types as Beam's {@code NanosInstant}, {@code SqlTypes.DATE}/{@code TIME} and {@code DECIMAL}.
     */
    public Schema schema() {
      return schema;
    }

    /** Applies {@code transform} to this result, as step {@code name}. */
    public <OutputT extends POutput> OutputT apply(String name, PTransform<? super Result, OutputT> transform) {
      return Pipeline.applyTransform(name, this, transform);
    }
  }
}
