package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.Row;

/**
 * A Parquet record as a row. Columns of strings, numbers and booleans (the usual feature table) and
 * of logical types ({@link ParquetColumn}) are converted field by field and attached without Beam's
 * per-row verification, which was the largest cost of reading (a profile of the fraud job at 1M
 * rows); a schema with other columns (lists, records, bytes) has those converted by
 * {@code AvroUtils.convertAvroFieldStrict} and the row verified.
 */
final class ParquetToRow implements SerializableFunction<GenericRecord, Row> {
  private static final long serialVersionUID = 1L;
  private final Schema schema;
  private final List<ParquetColumn> columns;
  private final boolean flat;

  /** A schema without logical-type columns. */
  ParquetToRow(Schema schema) {
    this(schema, java.util.Collections.nCopies(schema.getFieldCount(), ParquetColumn.PLAIN));
  }

  ParquetToRow(Schema schema, List<ParquetColumn> columns) {
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
