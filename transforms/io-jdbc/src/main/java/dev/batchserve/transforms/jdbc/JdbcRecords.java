package dev.batchserve.transforms.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.ingest.KeyRowsFn;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.ingest.RecordKeys;
import dev.batchserve.transforms.ingest.RecordSource;
import dev.batchserve.transforms.jdbc.JdbcEndpoint;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.List;
import java.util.Objects;
import java.util.TimeZone;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.io.jdbc.SchemaUtil;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.NanosInstant;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The rows of a SQL query through Beam's {@code JdbcIO}, keyed as every source's
 * ({@link RecordSource}), typed by the result set: the schema is read from the database at
 * construction, so a key column the query lacks fails then. Dates and times arrive as
 * {@link java.time.LocalDate} and {@link java.time.LocalTime}, timestamps as
 * {@link java.time.Instant}s with all their digits (typed {@code NanosInstant}), as Parquet's, so a
 * key or a feature is the same from a database as from a file. The connection comes from
 * {@code endpoint}: its password is a {@code Secret} reference, never part of the pipeline.
 *
 * <pre>{@code
 * JdbcEndpoint db = JdbcEndpoint.of("jdbc:postgresql://db:5432/features")
 *     .withUser("reader").withPassword(Secret.fromEnv("PGPASSWORD"));
 * ReadRecords.Result in = p.apply(JdbcRecords.read(db, "select * from accounts").withKeyColumns("account_id"));
 * }</pre>
 */
public final class JdbcRecords extends RecordSource<JdbcRecords> {
  private static final long serialVersionUID = 1L;
  private final JdbcEndpoint endpoint;
  private final String query;

  private JdbcRecords(JdbcEndpoint endpoint, String query) {
    this.endpoint = endpoint;
    this.query = query;
  }

  private JdbcRecords(JdbcRecords from) {
    super(from);
    this.endpoint = from.endpoint;
    this.query = from.query;
  }

  /** The rows {@code query} gives on the database {@code endpoint} reaches. */
  public static JdbcRecords read(JdbcEndpoint endpoint, String query) {
    checkArgument(query != null && !query.isBlank(), "query must be set, but was '%s'", query);
    return new JdbcRecords(Objects.requireNonNull(endpoint, "endpoint"), query);
  }

  @Override
  protected JdbcRecords copy() {
    return new JdbcRecords(this);
  }

  @Override
  protected ReadRecords.Result read(PBegin begin, RecordKeys keys) {
    // Beam's readRows maps a TIMESTAMP to a millisecond DATETIME; the rows are read with its schema
    // and row mapper, but timestamps as Instants with every digit (as Parquet's, NanosInstant).
    Schema jdbc = JdbcIO.ReadRows.inferBeamSchema(endpoint.apply(null), query);
    Schema exact = ExactTimestamps.schema(jdbc);
    PCollection<Row> rows = begin.apply("ReadJdbc",
        JdbcIO.<Row>read().withDataSourceProviderFn(endpoint)
            .withQuery(query)
            .withRowMapper(new ExactTimestamps(jdbc, exact))
            .withCoder(RowCoder.of(exact)))
        .setRowSchema(exact);
    Schema schema = LocalDates.schema(rows.getSchema());
    keys.checkIn(schema, "the query's result");
    if (!schema.equals(rows.getSchema())) {
      rows = rows.apply("TypeDates", ParDo.of(new LocalDates(schema))).setRowSchema(schema);
    }
    return ReadRecords.Result.of(rows.apply("KeyRows", new KeyRowsFn(keys).parDo()), schema);
  }

  /**
   * Maps a JDBC row as Beam's {@code readRows} does, except its timestamps ({@code DATETIME} in
   * Beam's schema): those are read with {@code getTimestamp} in UTC and kept as
   * {@link java.time.Instant}s with all their digits (PostgreSQL: microseconds), typed
   * {@code NanosInstant} as Parquet timestamps are. A timestamp without a zone is read as UTC, as
   * before.
   */
  static final class ExactTimestamps implements JdbcIO.RowMapper<Row> {
    private static final long serialVersionUID = 1L;
    private final Schema jdbc;
    private final Schema exact;
    private transient JdbcIO.@Nullable RowMapper<Row> beam;

    ExactTimestamps(Schema jdbc, Schema exact) {
      this.jdbc = jdbc;
      this.exact = exact;
    }

    /** {@code jdbc} with its {@code DATETIME} columns typed {@code NanosInstant} (nullability kept). */
    static Schema schema(Schema jdbc) {
      Schema.Builder b = Schema.builder();
      for (Schema.Field f : jdbc.getFields()) {
        FieldType t = f.getType();
        if (t.getTypeName() == Schema.TypeName.DATETIME) {
          t = FieldType.logicalType(new NanosInstant()).withNullable(t.getNullable());
        }
        b.addField(Schema.Field.of(f.getName(), t));
      }
      return b.build();
    }

    @Override
    public Row mapRow(java.sql.ResultSet rs) throws Exception {
      if (beam == null) {
        beam = SchemaUtil.BeamRowMapper.of(jdbc);
      }
      Row row = beam.mapRow(rs);
      List<@Nullable Object> values = new ArrayList<>(exact.getFieldCount());
      for (int i = 0; i < exact.getFieldCount(); i++) {
        if (jdbc.getField(i).getType().getTypeName() == Schema.TypeName.DATETIME) {
          java.sql.Timestamp t = rs.getTimestamp(i + 1, Calendar.getInstance(TimeZone.getTimeZone("UTC")));
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
  static final class LocalDates extends DoFn<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema schema;

    LocalDates(Schema schema) {
      this.schema = schema;
    }

    /** {@code jdbc} with its {@code DATE} and {@code TIME} columns typed as Beam's SQL date and time. */
    static Schema schema(Schema jdbc) {
      Schema.Builder b = Schema.builder();
      for (Schema.Field f : jdbc.getFields()) {
        FieldType t = f.getType();
        String id = t.getTypeName() == Schema.TypeName.LOGICAL_TYPE ? t.getLogicalType().getIdentifier() : "";
        if ("DATE".equals(id) || "TIME".equals(id)) {
          t = ("DATE".equals(id) ? FieldType.logicalType(SqlTypes.DATE) : FieldType.logicalType(SqlTypes.TIME))
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
          v = t.getLogicalType().getIdentifier().equals(SqlTypes.DATE.getIdentifier())
              ? utc.toLocalDate() : utc.toLocalTime();
        }
        values.add(v);
      }
      out.output(Row.withSchema(schema).addValues(values).build());
    }
  }
}
