package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.features.Feature;
import dev.batchserve.transforms.features.FeatureType;
import dev.batchserve.transforms.sink.JdbcEndpoint;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.InstantText;
import dev.batchserve.transforms.values.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.commons.csv.CSVRecord;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * Reads input records from files as {@code KV<key, Row>}: the key is attached once, at the source.
 *
 * <p>CSV files (with a header line) give rows of nullable strings, typed later by the feature spec;
 * Parquet files give rows typed by the file's own schema; JDBC queries rows typed by the result set;
 * JSON lines and BigQuery tables or queries text values of the named columns. Parquet logical types
 * arrive as exact Java values: every {@code TIMESTAMP} (millis, micros or
 * nanos; a local timestamp, without UTC adjustment, read as UTC) as a {@link java.time.Instant} with
 * all its digits, {@code DATE} as a {@link java.time.LocalDate}, {@code TIME} as a
 * {@link java.time.LocalTime}, {@code DECIMAL} as a {@link java.math.BigDecimal}; JDBC dates and times
 * likewise, and its timestamps as {@link java.time.Instant}s with all their digits. The key is one column's value,
 * byte for byte (never trimmed), or several columns' values made one key by {@link CompositeKey#of}
 * (escaped, so distinct tuples never share a key); a timestamp, typed or declared with
 * {@link #withKeyTimestamp}, is keyed by its canonical text ({@link InstantText#canonical},
 * {@code 2001-01-01T00:01:00Z}) whatever its source encoding. A record that cannot be
 * parsed, has the wrong number of columns, bytes that are not UTF-8, or no key goes to the dead
 * letters (step {@code read}) with its reason and, for CSV, {@code file:line} at the start of the
 * detail; when the key columns of such a record can still be read, the dead letter carries the key,
 * so the key gets its fallback with that reason ({@code KeyedPrediction.withReadFailures}).
 * Whole-file problems (no file matches, no header, a key column or another column of the first file
 * missing from any file, a Parquet file whose schema differs from the first) fail at construction
 * with a message naming the file and column.
 *
 * <p>CSV is read per file with an RFC 4180 parser over the whole file (so quoted fields may hold
 * delimiters, quotes and newlines), streamed, decompressed by the file's extension ({@code .gz},
 * {@code .bz2}, {@code .zst}, {@code .zip}, {@code .deflate}) and decoded strictly as UTF-8. Each file's
 * own header maps its columns to the schema by name (the first file's header, in sorted path order),
 * so files may order their columns differently or have extra ones. Each record is stamped with its
 * position as its element timestamp, ordered by file (sorted path order) and then line, which is what
 * {@code DuplicateKeyPolicy.LAST_WINS} compares. A file is read by one worker from start to end: a
 * file with quoted newlines cannot be split, so split very large inputs into several files.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(ReadRecords.csv("/data/accounts-*.csv").withKeyColumns("account_id"));
 * PCollection<KV<String, Row>> records = in.records();
 * PCollection<DeadLetter> unreadable = in.deadLetters();
 * }</pre>
 */
public final class ReadRecords extends PTransform<PBegin, ReadRecords.Result> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.read";
  /** Joins the parts of a composite key; see {@link CompositeKey} for how parts are escaped. */
  public static final String KEY_SEPARATOR = String.valueOf(CompositeKey.SEPARATOR);

  /** Input file formats. */
  public enum Format {
    CSV,
    PARQUET,
    JSONL,
    JDBC,
    /** A BigQuery table ({@code [project:]dataset.table}) or a standard-SQL query. */
    BIGQUERY;

    /** The prefix that names a BigQuery table as an input: {@code bigquery:project:dataset.table}. */
    public static final String BIGQUERY_PREFIX = "bigquery:";

    /** The formats {@link #of} reads from files, as options and job files name them. */
    public static final java.util.List<String> FILE_FORMATS = java.util.List.of("csv", "jsonl", "parquet");

    /** Whether records of this format come from files ({@link #of}), not JDBC or BigQuery. */
    public boolean isFile() {
      return this == CSV || this == PARQUET || this == JSONL;
    }

    /**
     * The format {@code name} names, any case: {@code csv}, {@code jsonl}, {@code parquet},
     * {@code jdbc} or {@code bigquery}.
     */
    public static Format parse(String name) {
      try {
        return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException(
            "format must be one of csv, jsonl, parquet, jdbc, bigquery, but was '" + name + "'", e);
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
      String p = pattern.toLowerCase(java.util.Locale.ROOT);
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

  private String pattern;
  private Format format;
  private List<String> keyColumns = List.of();
  private Map<String, String> keyTimestamps = Map.of();
  /** Timestamp features of a spec ({@link #withKeyTimestampsOf}): those that are key columns are key timestamps. */
  private Map<String, String> specTimestamps = Map.of();
  private char delimiter = ',';
  private List<String> columns = List.of();
  private @Nullable JdbcEndpoint endpoint;
  private boolean bigQueryQuery;
  private @Nullable BigQueryServices bigQueryServices;

  private ReadRecords(String pattern, Format format) {
    this.pattern = pattern;
    this.format = format;
  }

  private ReadRecords copy() {
    ReadRecords c = new ReadRecords(pattern, format);
    c.keyColumns = keyColumns;
    c.keyTimestamps = keyTimestamps;
    c.specTimestamps = specTimestamps;
    c.delimiter = delimiter;
    c.columns = columns;
    c.endpoint = endpoint;
    c.bigQueryQuery = bigQueryQuery;
    c.bigQueryServices = bigQueryServices;
    return c;
  }

  /** CSV files with a header line. */
  public static ReadRecords csv(String filePattern) {
    return of(filePattern, Format.CSV);
  }

  /**
   * JSON lines: one object per line. JSON has no header, so the columns to keep are named with
   * {@link #withColumns} (typically the feature spec's inputs); other fields are ignored, absent ones
   * are null, and values are kept as text (nested values as JSON) for the feature spec to type.
   */
  public static ReadRecords jsonLines(String filePattern) {
    return of(filePattern, Format.JSONL);
  }

  /**
   * Rows of a SQL query through Beam's {@code JdbcIO}, typed by the result set (the schema is read
   * from the database at construction). The connection comes from {@code endpoint}: its password is a
   * {@code Secret} reference, never part of the pipeline.
   */
  public static ReadRecords jdbc(JdbcEndpoint endpoint, String query) {
    checkArgument(query != null && !query.isBlank(), "query must be set, but was '%s'", query);
    ReadRecords r = new ReadRecords(query, Format.JDBC);
    r.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    return r;
  }

  /**
   * Rows of a BigQuery table ({@code [project:]dataset.table}, optionally prefixed {@code bigquery:})
   * through Beam's {@code BigQueryIO} (an export job, so the pipeline needs a {@code --tempLocation}
   * the job can write to). As with JSON lines, the columns to keep are named with {@link #withColumns}
   * (typically the feature spec's inputs) and values are kept as text for the feature spec to type: a
   * column the table lacks is null in every row, and so is judged by the spec's missing-value rules.
   */
  public static ReadRecords bigQueryTable(String tableSpec) {
    checkArgument(tableSpec != null && !tableSpec.isBlank(), "tableSpec must be set, but was '%s'", tableSpec);
    String spec = tableSpec.startsWith(Format.BIGQUERY_PREFIX)
        ? tableSpec.substring(Format.BIGQUERY_PREFIX.length()) : tableSpec;
    try {
      BigQueryHelpers.parseTableSpec(spec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "a BigQuery table must be [project:]dataset.table, but was '" + tableSpec + "'", e);
    }
    return new ReadRecords(spec, Format.BIGQUERY);
  }

  /** Rows of a BigQuery standard-SQL query; columns as for {@link #bigQueryTable}. */
  public static ReadRecords bigQueryQuery(String standardSql) {
    checkArgument(standardSql != null && !standardSql.isBlank(), "query must be set, but was '%s'", standardSql);
    ReadRecords r = new ReadRecords(standardSql, Format.BIGQUERY);
    r.bigQueryQuery = true;
    return r;
  }

  /**
   * BigQuery services to use instead of the real ones (Beam's {@code FakeBigQueryServices} in
   * tests); BigQuery's checks at construction are then skipped too.
   */
  public ReadRecords withBigQueryServices(BigQueryServices services) {
    checkArgument(format == Format.BIGQUERY, "withBigQueryServices is for a BigQuery source, not %s", format);
    ReadRecords c = copy();
    c.bigQueryServices = Objects.requireNonNull(services, "services");
    return c;
  }

  /** Parquet files (schema from the first file's footer). */
  public static ReadRecords parquet(String filePattern) {
    return of(filePattern, Format.PARQUET);
  }

  public static ReadRecords of(String filePattern, Format format) {
    checkArgument(filePattern != null && !filePattern.isEmpty(), "filePattern must be set, but was '%s'", filePattern);
    Objects.requireNonNull(format, "format");
    checkArgument(format != Format.JDBC && format != Format.BIGQUERY,
        "%s is not a file format: use ReadRecords.jdbc or ReadRecords.bigQueryTable/bigQueryQuery", format);
    return new ReadRecords(filePattern, format);
  }

  /** The key column(s); several make a composite key ({@link CompositeKey#of}). */
  public ReadRecords withKeyColumns(String... columns) {
    checkArgument(columns.length > 0, "at least one key column is needed");
    for (String c : columns) {
      checkArgument(c != null && !c.isEmpty(), "key column names must be non-empty, but were %s", Arrays.toString(columns));
    }
    ReadRecords c = copy();
    c.keyColumns = List.of(columns);
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
  public ReadRecords withKeyTimestamp(String column) {
    return keyTimestamp(column, "");
  }

  /**
   * As {@link #withKeyTimestamp(String)}, the text read with {@code format}, a
   * {@link java.time.format.DateTimeFormatter} pattern (read in UTC when it has no zone), as a
   * timestamp feature's {@code format}:
   * {@code ReadRecords.csv(path).withKeyColumns("user", "ts").withKeyTimestamp("ts", "yyyy-MM-dd HH:mm:ss")}.
   */
  public ReadRecords withKeyTimestamp(String column, String format) {
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
  public ReadRecords withKeyTimestampsOf(FeatureSpec spec) {
    Map<String, String> m = new java.util.TreeMap<>();
    for (Feature f : spec.features()) {
      if (f.type() == FeatureType.TIMESTAMP) {
        m.put(f.name(), f.format() == null ? "" : f.format());
      }
    }
    ReadRecords c = copy();
    c.specTimestamps = java.util.Collections.unmodifiableMap(m);
    return c;
  }

  private ReadRecords keyTimestamp(String column, String format) {
    checkArgument(column != null && !column.isEmpty(), "the key timestamp column must be named, but was '%s'", column);
    ReadRecords c = copy();
    Map<String, String> m = new java.util.TreeMap<>(keyTimestamps);
    m.put(column, format);
    c.keyTimestamps = java.util.Collections.unmodifiableMap(m);
    return c;
  }

  private ReadRecords withKeyTimestampsResolved(Map<String, String> resolved) {
    ReadRecords c = copy();
    c.keyTimestamps = resolved;
    c.specTimestamps = Map.of();
    return c;
  }

  /** The columns kept from JSON lines (the key columns are always kept). */
  public ReadRecords withColumns(List<String> names) {
    for (String c : names) {
      checkArgument(c != null && !c.isEmpty(), "column names must be non-empty, but were %s", names);
    }
    ReadRecords c = copy();
    c.columns = List.copyOf(names);
    return c;
  }

  /** CSV delimiter (default {@code ,}): an ASCII character other than a quote, CR or LF. */
  public ReadRecords withDelimiter(char d) {
    checkArgument(d > 0 && d < 0x80 && d != '"' && d != '\r' && d != '\n',
        "the CSV delimiter must be an ASCII character other than a quote, CR or LF, but was '%s'", d);
    ReadRecords c = copy();
    c.delimiter = d;
    return c;
  }

  @Override
  public Result expand(PBegin begin) {
    checkArgument(!keyColumns.isEmpty(), "ReadRecords needs withKeyColumns(...)");
    for (String column : keyTimestamps.keySet()) {
      checkArgument(keyColumns.contains(column), "withKeyTimestamp(\"%s\") names a column that is not a key"
          + " column (key columns: %s)", column, keyColumns);
    }
    if (!specTimestamps.isEmpty()) {
      Map<String, String> m = new java.util.TreeMap<>(keyTimestamps);
      for (String column : keyColumns) {
        if (specTimestamps.containsKey(column)) {
          m.putIfAbsent(column, specTimestamps.get(column));
        }
      }
      return withKeyTimestampsResolved(java.util.Collections.unmodifiableMap(m)).expand(begin);
    }
    if (format == Format.JDBC) {
      return expandJdbc(begin);
    }
    if (format == Format.BIGQUERY) {
      return expandBigQuery(begin);
    }
    List<String> files = matchedFiles(pattern);
    String first = files.get(0);
    TupleTag<KV<String, Row>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    Schema schema;
    PCollectionTuple out;
    if (format == Format.CSV) {
      checkArgument(files.size() <= CsvFileFn.MAX_FILES,
          "'%s' matches %s files; at most %s can be read in one run", pattern, files.size(), CsvFileFn.MAX_FILES);
      CsvFile csv = new CsvFile(delimiter);
      schema = stringSchema(csv.header(first, () -> openDecompressed(first)), first);
      checkKeys(schema, first);
      // Every file's own header is checked now, so that a file lacking a column is refused before
      // the run starts rather than read with another file's column order.
      for (String file : files.subList(1, files.size())) {
        List<String> header = csv.header(file, () -> openDecompressed(file));
        for (String column : schema.getFieldNames()) {
          checkArgument(header.contains(column),
              "CSV file %s has no column '%s', which %s has (its columns: %s): every file of '%s' needs the"
                  + " columns of the first file (in any order)", file, column, first, header, pattern);
        }
      }
      out = begin
          // Matched again at run time: a file that was not checked at construction (a template run
          // later) fails the run in ParseCsv rather than being read unchecked or left out silently.
          .apply("MatchCsv", FileIO.match().filepattern(pattern).withEmptyMatchTreatment(EmptyMatchTreatment.DISALLOW))
          .apply("OpenCsv", FileIO.readMatches().withCompression(Compression.AUTO))
          .apply("ParseCsv", ParDo.of(new CsvFileFn(schema, keyColumns, keyTimestamps, delimiter, files, pattern, ok, dead))
              .withOutputTags(ok, TupleTagList.of(dead)));
    } else if (format == Format.JSONL) {
      java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(keyColumns);
      names.addAll(columns);
      schema = stringSchema(new ArrayList<>(names), first);
      out = begin
          .apply("ReadLines", TextIO.read().from(pattern))
          .apply("ParseJson", ParDo.of(new JsonFn(schema, keyColumns, keyTimestamps, ok, dead))
              .withOutputTags(ok, TupleTagList.of(dead)));
    } else {
      ParquetLayout layout = parquetLayout(first);
      schema = layout.schema;
      checkKeys(schema, first);
      for (String file : files.subList(1, files.size())) {
        checkSameSchema(layout, first, parquetLayout(file), file);
      }
      Schema s = schema;
      out = begin
          .apply("ReadParquet", ParquetIO.parseGenericRecords(new ToRow(s, layout.columns))
              .withCoder(RowCoder.of(s)).from(pattern))
          .apply("KeyRows", ParDo.of(new KeyFn(keyColumns, keyTimestamps, ok, dead)).withOutputTags(ok, TupleTagList.of(dead)));
    }
    PCollection<KV<String, Row>> records = out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema)));
    PCollection<DeadLetter> deadLetters = out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of());
    return new Result(begin.getPipeline(), records, deadLetters, schema);
  }

  private Result expandJdbc(PBegin begin) {
    TupleTag<KV<String, Row>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    // Beam's readRows maps a TIMESTAMP to a millisecond DATETIME; the rows are read with its schema
    // and row mapper, but timestamps as Instants with every digit (as Parquet's, NanosInstant).
    JdbcEndpoint source = Objects.requireNonNull(endpoint);
    Schema jdbc = org.apache.beam.sdk.io.jdbc.JdbcIO.ReadRows.inferBeamSchema(source.apply(null), pattern);
    Schema exact = JdbcTimestamps.schema(jdbc);
    PCollection<Row> rows = begin.apply("ReadJdbc",
        org.apache.beam.sdk.io.jdbc.JdbcIO.<Row>read().withDataSourceProviderFn(source)
            .withQuery(pattern)
            .withRowMapper(new JdbcTimestamps(jdbc, exact))
            .withCoder(RowCoder.of(exact)))
        .setRowSchema(exact);
    Schema schema = JdbcDates.schema(rows.getSchema());
    checkKeys(schema, "the query's result");
    if (!schema.equals(rows.getSchema())) {
      rows = rows.apply("TypeDates", ParDo.of(new JdbcDates(schema))).setRowSchema(schema);
    }
    PCollectionTuple out = rows.apply("KeyRows", ParDo.of(new KeyFn(keyColumns, keyTimestamps, ok, dead))
        .withOutputTags(ok, TupleTagList.of(dead)));
    return new Result(begin.getPipeline(), out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema))),
        out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of()), schema);
  }

  /**
   * Maps a JDBC row as Beam's {@code readRows} does, except its timestamps ({@code DATETIME} in
   * Beam's schema): those are read with {@code getTimestamp} in UTC and kept as
   * {@link java.time.Instant}s with all their digits (PostgreSQL: microseconds), typed
   * {@code NanosInstant} as Parquet timestamps are. A timestamp without a zone is read as UTC, as
   * before.
   */
  static final class JdbcTimestamps implements org.apache.beam.sdk.io.jdbc.JdbcIO.RowMapper<Row> {
    private static final long serialVersionUID = 1L;
    private final Schema jdbc;
    private final Schema exact;
    private transient org.apache.beam.sdk.io.jdbc.JdbcIO.@Nullable RowMapper<Row> beam;

    JdbcTimestamps(Schema jdbc, Schema exact) {
      this.jdbc = jdbc;
      this.exact = exact;
    }

    /** {@code jdbc} with its {@code DATETIME} columns typed {@code NanosInstant} (nullability kept). */
    static Schema schema(Schema jdbc) {
      Schema.Builder b = Schema.builder();
      for (Schema.Field f : jdbc.getFields()) {
        FieldType t = f.getType();
        if (t.getTypeName() == Schema.TypeName.DATETIME) {
          t = FieldType.logicalType(new org.apache.beam.sdk.schemas.logicaltypes.NanosInstant())
              .withNullable(t.getNullable());
        }
        b.addField(Schema.Field.of(f.getName(), t));
      }
      return b.build();
    }

    @Override
    public Row mapRow(java.sql.ResultSet rs) throws Exception {
      if (beam == null) {
        beam = org.apache.beam.sdk.io.jdbc.SchemaUtil.BeamRowMapper.of(jdbc);
      }
      Row row = beam.mapRow(rs);
      List<@Nullable Object> values = new ArrayList<>(exact.getFieldCount());
      for (int i = 0; i < exact.getFieldCount(); i++) {
        if (jdbc.getField(i).getType().getTypeName() == Schema.TypeName.DATETIME) {
          java.sql.Timestamp t = rs.getTimestamp(i + 1, java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("UTC")));
          values.add(t == null ? null : t.toInstant());
        } else {
          values.add(row.getValue(i));
        }
      }
      return Row.withSchema(exact).attachValues(values);
    }
  }

  /**
   * JDBC {@code DATE} and {@code TIME} columns as {@link java.time.LocalDate} and
   * {@link java.time.LocalTime}, as Parquet's: Beam's {@code JdbcIO} gives both as a Joda instant
   * (midnight UTC of the date; the time of day on 1970-01-01 UTC), which would make a date key
   * {@code 2001-01-01T00:00:00Z} from a database and {@code 2001-01-01} from a file.
   */
  static final class JdbcDates extends DoFn<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;

    JdbcDates(Schema schema) {
      this.schema = schema;
    }

    /** {@code jdbc} with its {@code DATE} and {@code TIME} columns typed as Beam's SQL date and time. */
    static Schema schema(Schema jdbc) {
      Schema.Builder b = Schema.builder();
      for (Schema.Field f : jdbc.getFields()) {
        FieldType t = f.getType();
        String id = t.getTypeName() == Schema.TypeName.LOGICAL_TYPE ? t.getLogicalType().getIdentifier() : "";
        if ("DATE".equals(id) || "TIME".equals(id)) {
          t = ("DATE".equals(id) ? FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE)
              : FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.TIME))
              .withNullable(t.getNullable());
        }
        b.addField(Schema.Field.of(f.getName(), t));
      }
      return b.build();
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      List<Object> values = new ArrayList<>(schema.getFieldCount());
      for (int i = 0; i < schema.getFieldCount(); i++) {
        Object v = row.getValue(i);
        FieldType t = schema.getField(i).getType();
        if (v instanceof org.joda.time.ReadableInstant && t.getTypeName() == Schema.TypeName.LOGICAL_TYPE) {
          java.time.LocalDateTime utc = java.time.LocalDateTime.ofInstant(
              java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis()), java.time.ZoneOffset.UTC);
          v = t.getLogicalType().getIdentifier().equals(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE
              .getIdentifier()) ? utc.toLocalDate() : utc.toLocalTime();
        }
        values.add(v);
      }
      out.output(Row.withSchema(schema).addValues(values).build());
    }
  }

  private Result expandBigQuery(PBegin begin) {
    TupleTag<KV<String, Row>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(keyColumns);
    names.addAll(columns);
    Schema schema = stringSchema(new ArrayList<>(names), bigQueryQuery ? "the query's columns" : pattern);
    BigQueryIO.TypedRead<TableRow> read = BigQueryIO.readTableRows();
    read = bigQueryQuery ? read.fromQuery(pattern).usingStandardSql() : read.from(pattern);
    if (bigQueryServices != null) {
      read = read.withTestServices(bigQueryServices).withoutValidation();
    }
    PCollectionTuple out = begin
        .apply("ReadBigQuery", read)
        .apply("KeyTableRows", ParDo.of(new TableRowFn(schema, keyColumns, keyTimestamps, ok, dead))
            .withOutputTags(ok, TupleTagList.of(dead)));
    return new Result(begin.getPipeline(), out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema))),
        out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of()), schema);
  }

  private void checkKeys(Schema schema, String file) {
    for (String k : keyColumns) {
      checkArgument(schema.hasField(k), "key column '%s' is not in %s (columns: %s)", k, file, schema.getFieldNames());
    }
  }

  /** The files {@code pattern} matches, in sorted path order (the order of their positions). */
  private static List<String> matchedFiles(String pattern) {
    try {
      MatchResult m = FileSystems.match(pattern, EmptyMatchTreatment.DISALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        throw new IllegalArgumentException("no input file matches '" + pattern + "'");
      }
      List<String> files = new ArrayList<>();
      for (MatchResult.Metadata md : m.metadata()) {
        files.add(md.resourceId().toString());
      }
      java.util.Collections.sort(files);
      return files;
    } catch (IOException e) {
      throw new IllegalArgumentException("no input file matches '" + pattern + "': " + e.getMessage(), e);
    }
  }

  /** A file's bytes, decompressed as its extension says (Beam's {@code Compression.AUTO}). */
  private static java.io.InputStream openDecompressed(String file) throws IOException {
    try {
      return Channels.newInputStream(Compression.detect(file)
          .readDecompressed(FileSystems.open(FileSystems.matchNewResource(file, false))));
    } catch (IOException e) {
      throw new IOException("cannot open " + file + ": " + e, e);
    }
  }

  private static void checkSameSchema(ParquetLayout expectedLayout, String first, ParquetLayout actualLayout,
      String file) {
    Schema expected = expectedLayout.schema;
    Schema actual = actualLayout.schema;
    for (Schema.Field f : expected.getFields()) {
      checkArgument(actual.hasField(f.getName()),
          "Parquet file %s has no column '%s', which %s has (its columns: %s): every file needs the first"
              + " file's columns", file, f.getName(), first, actual.getFieldNames());
      FieldType other = actual.getField(f.getName()).getType();
      checkArgument(other.equals(f.getType()),
          "Parquet file %s has column '%s' of type %s, but %s has it as %s: every file needs the first"
              + " file's column types", file, f.getName(), other, first, f.getType());
      ParquetColumn mine = expectedLayout.columns.get(expected.indexOf(f.getName()));
      ParquetColumn theirs = actualLayout.columns.get(actual.indexOf(f.getName()));
      // One unit or scale per column: the values are converted with the first file's.
      checkArgument(mine.equals(theirs),
          "Parquet file %s has column '%s' as %s, but %s has it as %s: every file needs the first file's"
              + " logical types (units and scales)", file, f.getName(), theirs, first, mine);
    }
  }

  private static Schema stringSchema(List<String> header, String file) {
    Schema.Builder b = Schema.builder();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String col : header) {
      String name = col.trim();
      checkArgument(!name.isEmpty(), "CSV file %s has an empty column name in its header", file);
      checkArgument(seen.add(name), "CSV file %s has the column '%s' twice in its header", file, name);
      b.addNullableField(name, FieldType.STRING);
    }
    return b.build();
  }

  /**
   * A Parquet file's row schema and how each top-level column's values become row values. The Avro
   * view of the file (parquet-avro) gives the schema; top-level columns with a Parquet logical type
   * are then typed from the Parquet type itself, which keeps what the Avro view loses (nanosecond
   * timestamps, decimals stored as INT32/INT64).
   */
  static ParquetLayout parquetLayout(String file) {
    try (SeekableByteChannel ch = (SeekableByteChannel) FileSystems.open(FileSystems.matchNewResource(file, false));
        ParquetFileReader reader = ParquetFileReader.open(new ChannelInputFile(ch, file))) {
      org.apache.parquet.schema.MessageType parquet = reader.getFileMetaData().getSchema();
      for (org.apache.parquet.schema.Type column : parquet.getFields()) {
        checkArgument(!column.isPrimitive() || column.asPrimitiveType().getPrimitiveTypeName()
                != org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT96,
            "column '%s' is an INT96 timestamp (a legacy Spark/Impala encoding), which is not read: write it as"
                + " TIMESTAMP(MICROS) (Spark: spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS)", column.getName());
      }
      org.apache.avro.Schema avro = new AvroSchemaConverter().convert(parquet);
      Schema fromAvro = AvroUtils.toBeamSchema(avro);
      Schema.Builder b = Schema.builder();
      List<ParquetColumn> columns = new ArrayList<>();
      org.apache.avro.Schema written = writerAvroSchema(reader.getFileMetaData().getKeyValueMetaData());
      for (Schema.Field f : fromAvro.getFields()) {
        ParquetColumn c = ParquetColumn.of(parquet.getType(f.getName()));
        if (c.kind == ParquetColumn.Kind.PLAIN && written != null && written.getField(f.getName()) != null) {
          c = ParquetColumn.ofAvro(written.getField(f.getName()).schema());
        }
        columns.add(c);
        b.addField(c.kind == ParquetColumn.Kind.PLAIN ? f
            : Schema.Field.of(f.getName(), c.fieldType().withNullable(f.getType().getNullable())));
      }
      return new ParquetLayout(b.build(), columns);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read the Parquet footer of " + file + ": " + e, e);
    }
  }

  /**
   * The Avro schema a parquet-avro writer stored in the footer, or null. parquet-avro before 1.14
   * writes {@code local-timestamp-*} columns as plain INT64: only this schema still says what they are.
   */
  private static org.apache.avro.@Nullable Schema writerAvroSchema(Map<String, String> footer) {
    String text = footer.getOrDefault("parquet.avro.schema", footer.get("avro.schema"));
    if (text == null) {
      return null;
    }
    org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().setValidateDefaults(false).parse(text);
    return schema.getType() == org.apache.avro.Schema.Type.RECORD ? schema : null;
  }

  /** See {@link #parquetLayout}. */
  static final class ParquetLayout {
    final Schema schema;
    final List<ParquetColumn> columns;

    ParquetLayout(Schema schema, List<ParquetColumn> columns) {
      this.schema = schema;
      this.columns = columns;
    }
  }

  /**
   * How one top-level Parquet column is read: {@code TIMESTAMP} of any unit, adjusted to UTC or not
   * (a local timestamp is read as UTC wall-clock time), as a {@link java.time.Instant} with all its
   * digits (Beam's {@code NanosInstant}); {@code DATE} as a {@link java.time.LocalDate}; {@code TIME}
   * as a {@link java.time.LocalTime}; {@code DECIMAL} as a {@link java.math.BigDecimal} of the
   * column's scale; anything else as Avro gives it.
   */
  static final class ParquetColumn implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    enum Kind { PLAIN, TIMESTAMP, DATE, TIME, DECIMAL }

    final Kind kind;
    /** Of a TIMESTAMP or TIME: nanoseconds per stored unit (1, 1000, 1000000). */
    final long nanosPerUnit;
    /** Of a DECIMAL. */
    final int scale;
    /** For messages: the Parquet logical type. */
    final String description;

    private ParquetColumn(Kind kind, long nanosPerUnit, int scale, String description) {
      this.kind = kind;
      this.nanosPerUnit = nanosPerUnit;
      this.scale = scale;
      this.description = description;
    }

    static final ParquetColumn PLAIN = new ParquetColumn(Kind.PLAIN, 0, 0, "its physical type");

    static ParquetColumn of(org.apache.parquet.schema.Type type) {
      if (!type.isPrimitive() || type.getLogicalTypeAnnotation() == null) {
        return PLAIN;
      }
      org.apache.parquet.schema.LogicalTypeAnnotation a = type.getLogicalTypeAnnotation();
      String description = a.toString();
      if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation) {
        return new ParquetColumn(Kind.TIMESTAMP, nanosPerUnit(
            ((org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation) a).getUnit()), 0,
            description);
      }
      if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation) {
        return new ParquetColumn(Kind.TIME, nanosPerUnit(
            ((org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation) a).getUnit()), 0,
            description);
      }
      if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DateLogicalTypeAnnotation) {
        return new ParquetColumn(Kind.DATE, 0, 0, description);
      }
      if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation) {
        return new ParquetColumn(Kind.DECIMAL, 0,
            ((org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation) a).getScale(),
            description);
      }
      return PLAIN;
    }

    /** A column from its writer's Avro type (see {@link #writerAvroSchema}); PLAIN without a logical type. */
    static ParquetColumn ofAvro(org.apache.avro.Schema type) {
      if (type.getType() == org.apache.avro.Schema.Type.UNION) {
        org.apache.avro.Schema single = null;
        for (org.apache.avro.Schema branch : type.getTypes()) {
          if (branch.getType() != org.apache.avro.Schema.Type.NULL) {
            if (single != null) {
              return PLAIN;
            }
            single = branch;
          }
        }
        return single == null ? PLAIN : ofAvro(single);
      }
      org.apache.avro.LogicalType logical = type.getLogicalType();
      if (logical == null) {
        return PLAIN;
      }
      String description = "Avro " + logical.getName();
      switch (logical.getName()) {
        case "timestamp-millis":
        case "local-timestamp-millis":
          return new ParquetColumn(Kind.TIMESTAMP, 1_000_000L, 0, description);
        case "timestamp-micros":
        case "local-timestamp-micros":
          return new ParquetColumn(Kind.TIMESTAMP, 1_000L, 0, description);
        case "timestamp-nanos":
        case "local-timestamp-nanos":
          return new ParquetColumn(Kind.TIMESTAMP, 1L, 0, description);
        case "date":
          return new ParquetColumn(Kind.DATE, 0, 0, description);
        case "time-millis":
          return new ParquetColumn(Kind.TIME, 1_000_000L, 0, description);
        case "time-micros":
          return new ParquetColumn(Kind.TIME, 1_000L, 0, description);
        case "decimal":
          return new ParquetColumn(Kind.DECIMAL, 0, ((org.apache.avro.LogicalTypes.Decimal) logical).getScale(),
              description);
        default:
          return PLAIN;
      }
    }

    private static long nanosPerUnit(org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit unit) {
      switch (unit) {
        case MILLIS:
          return 1_000_000L;
        case MICROS:
          return 1_000L;
        case NANOS:
          return 1L;
        default:
          throw new IllegalArgumentException("unknown Parquet time unit " + unit);
      }
    }

    FieldType fieldType() {
      switch (kind) {
        case TIMESTAMP:
          return FieldType.logicalType(new org.apache.beam.sdk.schemas.logicaltypes.NanosInstant());
        case DATE:
          return FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE);
        case TIME:
          return FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.TIME);
        case DECIMAL:
          return FieldType.DECIMAL;
        default:
          throw new IllegalStateException("a plain column keeps the type Avro gives it");
      }
    }

    /** The row value of a non-null stored value (raw, or already converted by the Avro data model). */
    Object convert(Object v, String field) {
      switch (kind) {
        case TIMESTAMP:
          if (v instanceof Long) {
            long units = (Long) v;
            long perSecond = 1_000_000_000L / nanosPerUnit;
            return java.time.Instant.ofEpochSecond(Math.floorDiv(units, perSecond),
                Math.floorMod(units, perSecond) * nanosPerUnit);
          }
          if (v instanceof java.time.Instant) {
            return v;
          }
          if (v instanceof java.time.LocalDateTime) {
            return ((java.time.LocalDateTime) v).toInstant(java.time.ZoneOffset.UTC);
          }
          break;
        case DATE:
          if (v instanceof Integer) {
            return java.time.LocalDate.ofEpochDay((Integer) v);
          }
          if (v instanceof java.time.LocalDate) {
            return v;
          }
          break;
        case TIME:
          if (v instanceof Integer || v instanceof Long) {
            return java.time.LocalTime.ofNanoOfDay(((Number) v).longValue() * nanosPerUnit);
          }
          if (v instanceof java.time.LocalTime) {
            return v;
          }
          break;
        case DECIMAL:
          if (v instanceof java.math.BigDecimal) {
            return v;
          }
          if (v instanceof Integer || v instanceof Long) {
            return java.math.BigDecimal.valueOf(((Number) v).longValue(), scale);
          }
          if (v instanceof java.nio.ByteBuffer) {
            java.nio.ByteBuffer buffer = ((java.nio.ByteBuffer) v).duplicate();
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return new java.math.BigDecimal(new java.math.BigInteger(bytes), scale);
          }
          if (v instanceof org.apache.avro.generic.GenericFixed) {
            return new java.math.BigDecimal(new java.math.BigInteger(((org.apache.avro.generic.GenericFixed) v).bytes()),
                scale);
          }
          break;
        default:
          return v;
      }
      throw new IllegalStateException("Parquet column '" + field + "' (" + description + ") holds a "
          + v.getClass().getName() + ", which is not a stored " + kind + " value");
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof ParquetColumn && ((ParquetColumn) o).kind == kind
          && ((ParquetColumn) o).nanosPerUnit == nanosPerUnit && ((ParquetColumn) o).scale == scale;
    }

    @Override
    public int hashCode() {
      return Objects.hash(kind, nanosPerUnit, scale);
    }

    @Override
    public String toString() {
      return description;
    }
  }

  /**
   * The key of a row ({@link CompositeKey#of} of the key columns' text, see {@link #keyText}), or null
   * when a key column is null, empty or only white space.
   */
  static @Nullable String keyOf(Row row, List<String> keyColumns) {
    return keyOf(row, keyColumns, Map.of());
  }

  static @Nullable String keyOf(Row row, List<String> keyColumns, Map<String, String> keyTimestamps) {
    List<String> parts = new ArrayList<>(keyColumns.size());
    for (String column : keyColumns) {
      Object v = row.getValue(column);
      if (v == null || v.toString().isBlank()) {
        return null;
      }
      parts.add(keyText(column, v, keyTimestamps));
    }
    return CompositeKey.of(parts);
  }

  /**
   * The text of one key column's value, the same whatever the source encoding: an instant (Parquet
   * and JDBC timestamps, and the text of a column named by {@link #withKeyTimestamp}) as
   * {@link InstantText#canonical} ({@code 2001-01-01T00:01:00Z}); a date as ISO {@code 2001-01-01};
   * a time of day as ISO {@code 10:15:30} (fraction digits as needed); anything else as its text,
   * unchanged.
   */
  static String keyText(String column, Object v, Map<String, String> keyTimestamps) {
    String format = keyTimestamps.get(column);
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

  private static final java.util.regex.Pattern EPOCH_MILLIS = java.util.regex.Pattern.compile("-?\\d{1,18}");

  /** A key column whose text is declared a timestamp but does not parse as one. */
  static final class UnreadableKey extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    final String column;

    UnreadableKey(String column, String message) {
      super(message);
      this.column = column;
    }
  }

  /** The records and the unreadable lines. */
  public static final class Result implements POutput {
    private final Pipeline pipeline;
    private final PCollection<KV<String, Row>> records;
    private final PCollection<DeadLetter> deadLetters;
    private final Schema schema;

    Result(Pipeline pipeline, PCollection<KV<String, Row>> records, PCollection<DeadLetter> deadLetters, Schema schema) {
      this.pipeline = pipeline;
      this.records = records;
      this.deadLetters = deadLetters;
      this.schema = schema;
    }

    public PCollection<KV<String, Row>> records() {
      return records;
    }

    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    /**
     * Only the records of partition {@code partition} of {@code partitions}: those whose key's string
     * hash falls in it ({@code floorMod(key.hashCode(), partitions)}, as everywhere keys are spread);
     * dead letters follow their key, and lines without a key go to partition 0, so that the partitions
     * of a run together account for every line exactly once.
     */
    public Result partition(int partition, int partitions) {
      checkArgument(partitions >= 1, "partitions must be >= 1, but was %s", partitions);
      checkArgument(partition >= 0 && partition < partitions,
          "partition must be in [0, %s), but was %s", partitions, partition);
      String name = "Partition" + partition + "of" + partitions;
      PCollection<KV<String, Row>> kept = records
          .apply(name + "Records", ParDo.of(new KeepPartition<KV<String, Row>>(
              kv -> kv.getKey(), partition, partitions, "partition_records")))
          .setCoder(records.getCoder());
      PCollection<DeadLetter> keptDead = deadLetters
          .apply(name + "DeadLetters", ParDo.of(new KeepPartition<DeadLetter>(
              DeadLetter::getKey, partition, partitions, "partition_rejected")))
          .setCoder(deadLetters.getCoder());
      return new Result(pipeline, kept, keptDead, schema);
    }

    /**
     * The row schema: the CSV header as nullable strings, or the Parquet file's schema with its logical
     * types as Beam's {@code NanosInstant}, {@code SqlTypes.DATE}/{@code TIME} and {@code DECIMAL}.
     */
    public Schema schema() {
      return schema;
    }

    @Override
    public Pipeline getPipeline() {
      return pipeline;
    }

    @Override
    public Map<TupleTag<?>, PValue> expand() {
      Map<TupleTag<?>, PValue> m = new HashMap<>();
      m.put(new TupleTag<>("records"), records);
      m.put(new TupleTag<>("deadLetters"), deadLetters);
      return m;
    }

    @Override
    public void finishSpecifyingOutput(String transformName, PInput input, PTransform<?, ?> transform) {}
  }

  /**
   * What the keying steps share: the read and rejected counters, and emitting a row under its key,
   * or as a dead letter ({@code missing_key}, with the record's text) when the key is empty.
   */
  private abstract static class KeyingFn<T> extends DoFn<T, KV<String, Row>> {
    final List<String> keyColumns;
    /** Key columns whose text is a timestamp: its format, or "" for {@link InstantText}'s default forms. */
    final Map<String, String> keyTimestamps;
    final TupleTag<KV<String, Row>> ok;
    final TupleTag<DeadLetter> dead;
    final Counter read = Metrics.counter(METRICS_NAMESPACE, "records_read");
    final Counter rejected = Metrics.counter(METRICS_NAMESPACE, "records_rejected");

    KeyingFn(List<String> keyColumns, Map<String, String> keyTimestamps, TupleTag<KV<String, Row>> ok,
        TupleTag<DeadLetter> dead) {
      this.keyColumns = keyColumns;
      this.keyTimestamps = keyTimestamps;
      this.ok = ok;
      this.dead = dead;
    }

    void reject(MultiOutputReceiver out, String record, @Nullable String field, String reason, String message) {
      reject(out, null, record, field, reason, message);
    }

    void reject(MultiOutputReceiver out, @Nullable String key, String record, @Nullable String field, String reason,
        String message) {
      rejected.inc();
      out.get(dead).output(DeadLetter.of("read", key, record, field, reason, message));
    }

    /** {@code record} renders the record for a dead letter; it is only called for one. */
    void emit(Row row, MultiOutputReceiver out, SerializableFunction<Row, String> record, String noKeyMessage) {
      String key;
      try {
        key = keyOf(row, keyColumns, keyTimestamps);
      } catch (UnreadableKey e) {
        reject(out, record.apply(row), e.column, "unparsable_key", e.getMessage());
        return;
      }
      if (key == null) {
        reject(out, record.apply(row), String.join(KEY_SEPARATOR, keyColumns), "missing_key", noKeyMessage);
        return;
      }
      out.get(ok).output(KV.of(key, row));
    }
  }

  /**
   * Parses whole CSV files: each file's header maps its columns to the schema by name; each record is
   * output with its position (file index, line) as its timestamp.
   */
  static final class CsvFileFn extends KeyingFn<FileIO.ReadableFile> {
    /** File index and line share a millisecond timestamp: 21 and 32 bits, below Beam's maximum. */
    static final int MAX_FILES = 1 << 21;
    private static final long MAX_LINE = (1L << 32) - 1;

    private final Schema schema;
    private final char delimiter;
    private final List<String> files;
    private final String pattern;
    private transient CsvFile csv;

    CsvFileFn(Schema schema, List<String> keyColumns, Map<String, String> keyTimestamps, char delimiter,
        List<String> files, String pattern, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, keyTimestamps, ok, dead);
      this.pattern = pattern;
      this.schema = schema;
      this.delimiter = delimiter;
      this.files = files;
    }

    /** The timestamp of the record starting at {@code line} of the file at {@code fileIndex}. */
    static Instant position(int fileIndex, long line) {
      checkArgument(line <= MAX_LINE, "line %s is past the %s lines a CSV file may have", line, MAX_LINE);
      return new Instant(((long) fileIndex << 32) | line);
    }

    @Setup
    public void setup() {
      csv = new CsvFile(delimiter);
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) throws IOException {
      String path = file.getMetadata().resourceId().toString();
      int fileIndex = java.util.Collections.binarySearch(files, path);
      if (fileIndex < 0) {
        throw new IllegalStateException("CSV file " + path + " matches '" + pattern + "' now but did not when the"
            + " run was built, so its header was not checked: build the run again (files matched then: "
            + files.size() + ")");
      }
      CsvFile.Opener opener = () -> {
        try {
          return Channels.newInputStream(file.open());
        } catch (IOException e) {
          throw new IOException("cannot open CSV file " + path + ": " + e, e);
        }
      };
      csv.read(opener, new CsvFile.Visitor() {
        int[] columns; // schema field -> this file's column
        int[] keys; // key column -> this file's column
        int width;

        @Override
        public void record(long line, CSVRecord record) {
          if (columns == null) {
            mapHeader(record);
            return;
          }
          if (record.size() == 1 && record.get(0).isEmpty()) {
            return; // a blank line is not a record
          }
          read.inc();
          String at = path + ":" + line + ": ";
          // The key first: a record rejected for any reason keeps its key when the key can be read.
          String key = null;
          String keyProblem = null;
          String keyField = null;
          String keyMessage = null;
          List<String> parts = new ArrayList<>(keys.length);
          for (int i = 0; i < keys.length && keyProblem == null; i++) {
            keyField = keyColumns.get(i);
            String raw = keys[i] < record.size() ? record.get(keys[i]) : null;
            String part = raw == null ? null : csv.decode(raw);
            if (raw == null || raw.isBlank()) {
              keyProblem = "missing_key";
            } else if (part == null) {
              keyProblem = "invalid_utf8";
            } else {
              try {
                parts.add(keyText(keyField, part, keyTimestamps));
              } catch (UnreadableKey e) {
                keyProblem = "unparsable_key";
                keyMessage = e.getMessage();
              }
            }
          }
          if (keyProblem == null) {
            key = CompositeKey.of(parts);
          }
          if (record.size() != width) {
            reject(out, key, csv.render(record), null, "wrong_column_count",
                at + "the header has " + width + " columns, the record has " + record.size());
            return;
          }
          if (keyProblem != null) {
            reject(out, null, csv.render(record), keyField, keyProblem, at + ("missing_key".equals(keyProblem)
                ? "the key column '" + keyField + "' is empty"
                : keyMessage != null ? keyMessage
                : "the key column '" + keyField + "' has bytes that are not valid UTF-8"));
            return;
          }
          Object[] values = new Object[columns.length];
          for (int i = 0; i < columns.length; i++) {
            String raw = record.get(columns[i]);
            if (raw.isEmpty()) {
              continue;
            }
            String v = csv.decode(raw);
            if (v == null) {
              String field = schema.getField(i).getName();
              reject(out, key, csv.render(record), field, "invalid_utf8",
                  at + "column '" + field + "' has bytes that are not valid UTF-8");
              return;
            }
            values[i] = v;
          }
          out.get(ok).outputWithTimestamp(KV.of(key, Row.withSchema(schema).attachValues(Arrays.asList(values))),
              position(fileIndex, line));
        }

        @Override
        public void malformed(long line, String text, String message) {
          if (columns == null) {
            throw new IllegalArgumentException("CSV file " + path + " has a malformed header: " + message);
          }
          read.inc();
          reject(out, null, text, null, "malformed_line", path + ":" + line + ": " + message);
        }

        private void mapHeader(CSVRecord header) {
          List<String> names = new ArrayList<>();
          for (int i = 0; i < header.size(); i++) {
            String raw = header.get(i);
            String name = csv.decode(i == 0 && raw.startsWith("\u00EF\u00BB\u00BF") ? raw.substring(3) : raw);
            names.add(name == null ? "" : name.trim());
          }
          width = names.size();
          columns = new int[schema.getFieldCount()];
          for (int i = 0; i < columns.length; i++) {
            columns[i] = indexOf(names, schema.getField(i).getName());
          }
          keys = new int[keyColumns.size()];
          for (int i = 0; i < keys.length; i++) {
            keys[i] = indexOf(names, keyColumns.get(i));
          }
        }

        private int indexOf(List<String> names, String column) {
          int i = names.indexOf(column);
          if (i < 0) {
            throw new IllegalStateException("CSV file " + path + " has no column '" + column + "' (its columns: "
                + names + "); it had when the run was built: was the file replaced during the run?");
          }
          return i;
        }
      });
    }
  }

  /**
   * Keeps the elements of one partition, counting them ({@code partition_records} and
   * {@code partition_rejected}: what this partition read, since every partition reads the whole input).
   */
  private static final class KeepPartition<T> extends DoFn<T, T> {
    private final SerializableFunction<T, String> key;
    private final int partition;
    private final int partitions;
    private final Counter kept;

    KeepPartition(SerializableFunction<T, String> key, int partition, int partitions, String counter) {
      this.key = key;
      this.partition = partition;
      this.partitions = partitions;
      this.kept = Metrics.counter(METRICS_NAMESPACE, counter);
    }

    @ProcessElement
    public void process(@Element T element, OutputReceiver<T> out) {
      String k = key.apply(element);
      // Lines without a key belong to partition 0, so that they are accounted exactly once.
      if (k == null ? partition == 0 : Math.floorMod(k.hashCode(), partitions) == partition) {
        kept.inc();
        out.output(element);
      }
    }
  }

  private static final class JsonFn extends KeyingFn<String> {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper();
    private final Schema schema;

    JsonFn(Schema schema, List<String> keyColumns, Map<String, String> keyTimestamps, TupleTag<KV<String, Row>> ok,
        TupleTag<DeadLetter> dead) {
      super(keyColumns, keyTimestamps, ok, dead);
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element String line, MultiOutputReceiver out) {
      if (line.isBlank()) {
        return;
      }
      read.inc();
      com.fasterxml.jackson.databind.JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        reject(out, line, null, "malformed_json", String.valueOf(e.getOriginalMessage()));
        return;
      }
      if (node == null || !node.isObject()) {
        reject(out, line, null, "not_an_object", "each line must be one JSON object");
        return;
      }
      Row.Builder b = Row.withSchema(schema);
      for (String field : schema.getFieldNames()) {
        com.fasterxml.jackson.databind.JsonNode v = node.get(field);
        b.addValue(v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString());
      }
      emit(b.build(), out, r -> line, "the key field is absent or empty");
    }
  }

  /** A BigQuery row as text values (nested records and arrays as JSON), keyed. */
  private static final class TableRowFn extends KeyingFn<TableRow> {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper();
    private final Schema schema;

    TableRowFn(Schema schema, List<String> keyColumns, Map<String, String> keyTimestamps,
        TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, keyTimestamps, ok, dead);
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element TableRow tableRow, MultiOutputReceiver out) {
      read.inc();
      Row.Builder b = Row.withSchema(schema);
      for (String field : schema.getFieldNames()) {
        Object v = tableRow.get(field);
        b.addValue(v == null ? null : v instanceof Map || v instanceof List ? json(v) : v.toString());
      }
      emit(b.build(), out, r -> json(tableRow), "the key column is null or empty");
    }

    private static String json(Object v) {
      try {
        return JSON.writeValueAsString(v);
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final class KeyFn extends KeyingFn<Row> {
    KeyFn(List<String> keyColumns, Map<String, String> keyTimestamps, TupleTag<KV<String, Row>> ok,
        TupleTag<DeadLetter> dead) {
      super(keyColumns, keyTimestamps, ok, dead);
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      read.inc();
      emit(row, out, Row::toString, "the key column is empty");
    }
  }

  /**
   * A Parquet record as a row. Columns of strings, numbers and booleans (the usual feature table) and
   * of logical types ({@link ParquetColumn}) are converted field by field and attached without Beam's
   * per-row verification, which was the largest cost of reading (a profile of the fraud job at 1M
   * rows); a schema with other columns (lists, records, bytes) has those converted by
   * {@code AvroUtils.convertAvroFieldStrict} and the row verified.
   */
  static final class ToRow implements SerializableFunction<GenericRecord, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;
    private final List<ParquetColumn> columns;
    private final boolean flat;

    /** A schema without logical-type columns. */
    ToRow(Schema schema) {
      this(schema, java.util.Collections.nCopies(schema.getFieldCount(), ParquetColumn.PLAIN));
    }

    ToRow(Schema schema, List<ParquetColumn> columns) {
      checkArgument(columns.size() == schema.getFieldCount(), "%s columns for a schema of %s fields",
          columns.size(), schema.getFieldCount());
      this.schema = schema;
      this.columns = List.copyOf(columns);
      boolean f = true;
      for (int i = 0; i < columns.size(); i++) {
        f &= columns.get(i).kind != ParquetColumn.Kind.PLAIN
            || FLAT.contains(schema.getField(i).getType().getTypeName());
      }
      this.flat = f;
    }

    private static final java.util.Set<Schema.TypeName> FLAT = java.util.EnumSet.of(Schema.TypeName.STRING,
        Schema.TypeName.INT32, Schema.TypeName.INT64, Schema.TypeName.FLOAT, Schema.TypeName.DOUBLE,
        Schema.TypeName.BOOLEAN);

    @Override
    public Row apply(GenericRecord record) {
      List<Object> values = new ArrayList<>(schema.getFieldCount());
      for (int i = 0; i < schema.getFieldCount(); i++) {
        Schema.Field f = schema.getField(i);
        ParquetColumn column = columns.get(i);
        Object v = record.get(f.getName());
        if (v == null) {
          if (!f.getType().getNullable()) {
            throw new IllegalArgumentException("field " + f.getName() + " is not nullable, but is null in " + record);
          }
          values.add(null);
        } else if (column.kind != ParquetColumn.Kind.PLAIN) {
          values.add(column.convert(v, f.getName()));
        } else if (f.getType().getTypeName() == Schema.TypeName.STRING) {
          values.add(v.toString()); // Avro gives Utf8
        } else if (FLAT.contains(f.getType().getTypeName())) {
          values.add(v);
        } else {
          values.add(AvroUtils.convertAvroFieldStrict(v, record.getSchema().getField(f.getName()).schema(), f.getType()));
        }
      }
      return flat ? Row.withSchema(schema).attachValues(values) : Row.withSchema(schema).addValues(values).build();
    }
  }

  /** A Parquet {@link InputFile} over a Beam seekable channel, so footers are read from any FileSystem. */
  private static final class ChannelInputFile implements InputFile {
    private final SeekableByteChannel channel;
    private final String path;

    ChannelInputFile(SeekableByteChannel channel, String path) {
      this.channel = channel;
      this.path = path;
    }

    /** The path, so that Parquet's own messages ("... is not a Parquet file") name the file. */
    @Override
    public String toString() {
      return path;
    }

    @Override
    public long getLength() throws IOException {
      return channel.size();
    }

    @Override
    public SeekableInputStream newStream() {
      return new DelegatingSeekableInputStream(Channels.newInputStream(channel)) {
        @Override
        public long getPos() throws IOException {
          return channel.position();
        }

        @Override
        public void seek(long newPos) throws IOException {
          channel.position(newPos);
        }
      };
    }
  }
}
