package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.sink.JdbcEndpoint;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.transforms.values.DeadLetter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads input records from files as {@code KV<key, Row>}: the key is attached once, at the source.
 *
 * <p>CSV files (with a header line) give rows of nullable strings, typed later by the feature spec;
 * Parquet files give rows typed by the file's own schema; JDBC queries rows typed by the result set;
 * JSON lines and BigQuery tables or queries text values of the named columns. The key is one column or several joined by
 * {@code |} (a composite key). A line that cannot be parsed, has the wrong number of columns, or has
 * no key goes to the dead letters (step {@code read}) with its reason; whole-file problems (no file
 * matches, no header, the key column is missing, an unreadable Parquet footer) fail at construction
 * with a message naming the file or column.
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
  public static final String KEY_SEPARATOR = "|";

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

    /** The format named by a file pattern's extension ({@code .csv}, {@code .parquet}). */
    public static Format fromPattern(String pattern) {
      String p = pattern.toLowerCase(java.util.Locale.ROOT);
      if (p.startsWith("jdbc:")) {
        return JDBC;
      }
      if (p.startsWith(BIGQUERY_PREFIX)) {
        return BIGQUERY;
      }
      if (p.endsWith(".csv") || p.endsWith(".csv.gz")) {
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

  /** The key column(s); several make a composite key joined by {@code |}. */
  public ReadRecords withKeyColumns(String... columns) {
    checkArgument(columns.length > 0, "at least one key column is needed");
    for (String c : columns) {
      checkArgument(c != null && !c.isEmpty(), "key column names must be non-empty, but were %s", Arrays.toString(columns));
    }
    ReadRecords c = copy();
    c.keyColumns = List.of(columns);
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

  /** CSV delimiter (default {@code ,}). */
  public ReadRecords withDelimiter(char d) {
    ReadRecords c = copy();
    c.delimiter = d;
    return c;
  }

  @Override
  public Result expand(PBegin begin) {
    checkArgument(!keyColumns.isEmpty(), "ReadRecords needs withKeyColumns(...)");
    if (format == Format.JDBC) {
      return expandJdbc(begin);
    }
    if (format == Format.BIGQUERY) {
      return expandBigQuery(begin);
    }
    String first = firstFile(pattern);
    TupleTag<KV<String, Row>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    Schema schema;
    PCollectionTuple out;
    if (format == Format.CSV) {
      List<String> header = csvHeader(first, delimiter);
      schema = stringSchema(header, first);
      checkKeys(schema, first);
      out = begin
          .apply("ReadLines", TextIO.read().from(pattern).withSkipHeaderLines(1))
          .apply("ParseCsv", ParDo.of(new CsvFn(schema, keyColumns, delimiter, ok, dead))
              .withOutputTags(ok, TupleTagList.of(dead)));
    } else if (format == Format.JSONL) {
      java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(keyColumns);
      names.addAll(columns);
      schema = stringSchema(new ArrayList<>(names), first);
      out = begin
          .apply("ReadLines", TextIO.read().from(pattern))
          .apply("ParseJson", ParDo.of(new JsonFn(schema, keyColumns, ok, dead))
              .withOutputTags(ok, TupleTagList.of(dead)));
    } else {
      schema = parquetSchema(first);
      checkKeys(schema, first);
      Schema s = schema;
      out = begin
          .apply("ReadParquet", ParquetIO.parseGenericRecords(new ToRow(s))
              .withCoder(RowCoder.of(s)).from(pattern))
          .apply("KeyRows", ParDo.of(new KeyFn(keyColumns, ok, dead)).withOutputTags(ok, TupleTagList.of(dead)));
    }
    PCollection<KV<String, Row>> records = out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema)));
    PCollection<DeadLetter> deadLetters = out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of());
    return new Result(begin.getPipeline(), records, deadLetters, schema);
  }

  private Result expandJdbc(PBegin begin) {
    TupleTag<KV<String, Row>> ok = new TupleTag<>() {};
    TupleTag<DeadLetter> dead = new TupleTag<>() {};
    PCollection<Row> rows = begin.apply("ReadJdbc",
        org.apache.beam.sdk.io.jdbc.JdbcIO.readRows().withDataSourceProviderFn(Objects.requireNonNull(endpoint))
            .withQuery(pattern));
    Schema schema = rows.getSchema();
    checkKeys(schema, "the query's result");
    PCollectionTuple out = rows.apply("KeyRows", ParDo.of(new KeyFn(keyColumns, ok, dead))
        .withOutputTags(ok, TupleTagList.of(dead)));
    return new Result(begin.getPipeline(), out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema))),
        out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of()), schema);
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
        .apply("KeyTableRows", ParDo.of(new TableRowFn(schema, keyColumns, ok, dead))
            .withOutputTags(ok, TupleTagList.of(dead)));
    return new Result(begin.getPipeline(), out.get(ok).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema))),
        out.get(dead).setCoder(DeadLetter.DeadLetterCoder.of()), schema);
  }

  private void checkKeys(Schema schema, String file) {
    for (String k : keyColumns) {
      checkArgument(schema.hasField(k), "key column '%s' is not in %s (columns: %s)", k, file, schema.getFieldNames());
    }
  }

  private static String firstFile(String pattern) {
    try {
      MatchResult m = FileSystems.match(pattern, EmptyMatchTreatment.DISALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        throw new IllegalArgumentException("no input file matches '" + pattern + "'");
      }
      return m.metadata().stream().map(md -> md.resourceId().toString()).sorted().findFirst().get();
    } catch (IOException e) {
      throw new IllegalArgumentException("no input file matches '" + pattern + "': " + e.getMessage(), e);
    }
  }

  private static List<String> csvHeader(String file, char delimiter) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        Channels.newInputStream(FileSystems.open(FileSystems.matchNewResource(file, false))), StandardCharsets.UTF_8))) {
      String line = r.readLine();
      if (line == null || line.isBlank()) {
        throw new IllegalArgumentException("CSV file " + file + " is empty: a header line is required");
      }
      return parseLine(line.startsWith("\uFEFF") ? line.substring(1) : line, delimiter);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the header of " + file, e);
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

  static List<String> parseLine(String line, char delimiter) throws IOException {
    try (CSVParser parser = CSVParser.parse(line, CSVFormat.RFC4180.builder().setDelimiter(delimiter).build())) {
      List<CSVRecord> records = parser.getRecords();
      if (records.size() != 1) {
        throw new IOException("expected one CSV record, found " + records.size());
      }
      List<String> values = new ArrayList<>();
      records.get(0).forEach(values::add);
      return values;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static Schema parquetSchema(String file) {
    try (SeekableByteChannel ch = (SeekableByteChannel) FileSystems.open(FileSystems.matchNewResource(file, false));
        ParquetFileReader reader = ParquetFileReader.open(new ChannelInputFile(ch))) {
      org.apache.avro.Schema avro = new AvroSchemaConverter().convert(reader.getFileMetaData().getSchema());
      return AvroUtils.toBeamSchema(avro);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot read the Parquet footer of " + file + ": " + e.getMessage(), e);
    }
  }

  static @Nullable String keyOf(Row row, List<String> keyColumns) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < keyColumns.size(); i++) {
      Object v = row.getValue(keyColumns.get(i));
      if (v == null || v.toString().isBlank()) {
        return null;
      }
      if (i > 0) {
        sb.append(KEY_SEPARATOR);
      }
      sb.append(v.toString().trim());
    }
    return sb.toString();
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

    /** The row schema: the CSV header as nullable strings, or the Parquet file's schema. */
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
    final TupleTag<KV<String, Row>> ok;
    final TupleTag<DeadLetter> dead;
    final Counter read = Metrics.counter(METRICS_NAMESPACE, "records_read");
    final Counter rejected = Metrics.counter(METRICS_NAMESPACE, "records_rejected");

    KeyingFn(List<String> keyColumns, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      this.keyColumns = keyColumns;
      this.ok = ok;
      this.dead = dead;
    }

    void reject(MultiOutputReceiver out, String record, @Nullable String field, String reason, String message) {
      rejected.inc();
      out.get(dead).output(DeadLetter.of("read", null, record, field, reason, message));
    }

    /** {@code record} renders the record for a dead letter; it is only called for one. */
    void emit(Row row, MultiOutputReceiver out, SerializableFunction<Row, String> record, String noKeyMessage) {
      String key = keyOf(row, keyColumns);
      if (key == null) {
        reject(out, record.apply(row), String.join(KEY_SEPARATOR, keyColumns), "missing_key", noKeyMessage);
        return;
      }
      out.get(ok).output(KV.of(key, row));
    }
  }

  private static final class CsvFn extends KeyingFn<String> {
    private final Schema schema;
    private final char delimiter;

    CsvFn(Schema schema, List<String> keyColumns, char delimiter, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, ok, dead);
      this.schema = schema;
      this.delimiter = delimiter;
    }

    @ProcessElement
    public void process(@Element String line, MultiOutputReceiver out) {
      if (line.isEmpty()) {
        return; // a blank line (e.g. the file's trailing newline) is not a record
      }
      read.inc();
      List<String> values;
      try {
        values = parseLine(line, delimiter);
      } catch (IOException | RuntimeException e) {
        reject(out, line, null, "malformed_line", String.valueOf(e.getMessage()));
        return;
      }
      if (values.size() != schema.getFieldCount()) {
        reject(out, line, null, "wrong_column_count",
            "the header has " + schema.getFieldCount() + " columns, the line has " + values.size());
        return;
      }
      Row.Builder b = Row.withSchema(schema);
      for (String v : values) {
        b.addValue(v.isEmpty() ? null : v);
      }
      emit(b.build(), out, r -> line, "the key column is empty");
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

    JsonFn(Schema schema, List<String> keyColumns, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, ok, dead);
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

    TableRowFn(Schema schema, List<String> keyColumns, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, ok, dead);
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
    KeyFn(List<String> keyColumns, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      super(keyColumns, ok, dead);
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      read.inc();
      emit(row, out, Row::toString, "the key column is empty");
    }
  }

  /**
   * A Parquet record as a row. Flat schemas of strings, numbers and booleans (the usual feature
   * table) are converted field by field and attached without Beam's per-row verification, which
   * was the largest cost of reading (a profile of the fraud job at 1M rows); anything else goes
   * through {@code AvroUtils.toBeamRowStrict}.
   */
  static final class ToRow implements SerializableFunction<GenericRecord, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;
    private final boolean flat;

    ToRow(Schema schema) {
      this.schema = schema;
      this.flat = schema.getFields().stream().allMatch(f -> FLAT.contains(f.getType().getTypeName()));
    }

    private static final java.util.Set<Schema.TypeName> FLAT = java.util.EnumSet.of(Schema.TypeName.STRING,
        Schema.TypeName.INT32, Schema.TypeName.INT64, Schema.TypeName.FLOAT, Schema.TypeName.DOUBLE,
        Schema.TypeName.BOOLEAN);

    @Override
    public Row apply(GenericRecord record) {
      if (!flat) {
        return AvroUtils.toBeamRowStrict(record, schema);
      }
      List<Object> values = new ArrayList<>(schema.getFieldCount());
      for (int i = 0; i < schema.getFieldCount(); i++) {
        Schema.Field f = schema.getField(i);
        Object v = record.get(f.getName());
        if (v == null) {
          if (!f.getType().getNullable()) {
            throw new IllegalArgumentException("field " + f.getName() + " is not nullable, but is null in " + record);
          }
          values.add(null);
        } else if (f.getType().getTypeName() == Schema.TypeName.STRING) {
          values.add(v.toString()); // Avro gives Utf8
        } else {
          values.add(v);
        }
      }
      return Row.withSchema(schema).attachValues(values);
    }
  }

  /** A Parquet {@link InputFile} over a Beam seekable channel, so footers are read from any FileSystem. */
  private static final class ChannelInputFile implements InputFile {
    private final SeekableByteChannel channel;

    ChannelInputFile(SeekableByteChannel channel) {
      this.channel = channel;
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
