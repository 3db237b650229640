package dev.batchserve.transforms.gcp;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.transforms.ingest.KeyingFn;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.ingest.RecordKeys;
import dev.batchserve.transforms.ingest.RecordSource;
import dev.batchserve.transforms.ingest.TextSchema;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The rows of a BigQuery table or standard-SQL query through Beam's {@code BigQueryIO} (an export
 * job, so the pipeline needs a {@code --tempLocation} the job can write to), keyed as every source's
 * ({@link RecordSource}). As with JSON lines, the columns to keep are named with {@link #withColumns}
 * (typically the feature spec's inputs) and values are kept as text for the feature spec to type
 * (nested records and arrays as JSON): a column the table lacks is null in every row, and so is
 * judged by the spec's missing-value rules. A row whose key column is null or empty is a dead letter.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(BigQueryRecords.fromTable("my-project:features.accounts")
 *     .withKeyColumns("account_id").withColumns(spec.inputNames()));
 * }</pre>
 */
public final class BigQueryRecords extends RecordSource<BigQueryRecords> {
  private static final long serialVersionUID = 1L;
  /** A table spec ({@code [project:]dataset.table}) or a standard-SQL query. */
  private final String source;
  private final boolean query;
  private List<String> columns = List.of();
  private @Nullable BigQueryServices services;

  private BigQueryRecords(String source, boolean query) {
    this.source = source;
    this.query = query;
  }

  private BigQueryRecords(BigQueryRecords from) {
    super(from);
    this.source = from.source;
    this.query = from.query;
    this.columns = from.columns;
    this.services = from.services;
  }

  /**
   * The rows of table {@code tableSpec}: {@code [project:]dataset.table}, optionally prefixed
   * {@code bigquery:} (as {@code --input} names it).
   */
  public static BigQueryRecords fromTable(String tableSpec) {
    checkArgument(tableSpec != null && !tableSpec.isBlank(), "tableSpec must be set, but was '%s'", tableSpec);
    String spec = tableSpec.startsWith(ReadRecords.Format.BIGQUERY_PREFIX)
        ? tableSpec.substring(ReadRecords.Format.BIGQUERY_PREFIX.length()) : tableSpec;
    try {
      BigQueryHelpers.parseTableSpec(spec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "a BigQuery table must be [project:]dataset.table, but was '" + tableSpec + "'", e);
    }
    return new BigQueryRecords(spec, false);
  }

  /** The rows of a standard-SQL query; columns as for {@link #fromTable}. */
  public static BigQueryRecords fromQuery(String standardSql) {
    checkArgument(standardSql != null && !standardSql.isBlank(), "query must be set, but was '%s'", standardSql);
    return new BigQueryRecords(standardSql, true);
  }

  @Override
  protected BigQueryRecords copy() {
    return new BigQueryRecords(this);
  }

  /** The columns kept from each row (the key columns are always kept). */
  public BigQueryRecords withColumns(List<String> names) {
    BigQueryRecords c = copy();
    c.columns = TextSchema.checkedColumns(names);
    return c;
  }

  /**
   * BigQuery services to use instead of the real ones (Beam's {@code FakeBigQueryServices} in
   * tests); BigQuery's checks at construction are then skipped too.
   */
  public BigQueryRecords withBigQueryServices(BigQueryServices services) {
    BigQueryRecords c = copy();
    c.services = Objects.requireNonNull(services, "services");
    return c;
  }

  @Override
  protected ReadRecords.Result read(PBegin begin, RecordKeys keys) {
    Schema schema = TextSchema.keptColumns(keys, columns, query ? "the query's columns" : source);
    BigQueryIO.TypedRead<TableRow> read = BigQueryIO.readTableRows();
    read = query ? read.fromQuery(source).usingStandardSql() : read.from(source);
    if (services != null) {
      read = read.withTestServices(services).withoutValidation();
    }
    return ReadRecords.Result.of(begin
        .apply("ReadBigQuery", read)
        .apply("KeyTableRows", new TableRowFn(schema, keys).parDo()), schema);
  }

  /** A BigQuery row as text values (nested records and arrays as JSON), keyed. */
  private static final class TableRowFn extends KeyingFn<TableRow> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Schema schema;

    TableRowFn(Schema schema, RecordKeys keys) {
      super(keys);
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
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
