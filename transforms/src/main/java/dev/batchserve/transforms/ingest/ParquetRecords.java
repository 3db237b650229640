package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.List;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.PBegin;

/**
 * Parquet files ({@link ReadRecords#parquet}) as rows typed by the file's own schema (the first
 * file's footer, in sorted path order; every other file must have its columns, types and logical
 * types, or the read fails at construction naming both files). Logical types arrive as exact Java
 * values ({@link ParquetColumn}): every {@code TIMESTAMP} (millis, micros or nanos; a local timestamp,
 * without UTC adjustment, read as UTC) as a {@link java.time.Instant} with all its digits,
 * {@code DATE} as a {@link java.time.LocalDate}, {@code TIME} as a {@link java.time.LocalTime},
 * {@code DECIMAL} as a {@link java.math.BigDecimal}. A row whose key column is empty is a dead letter.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(ReadRecords.parquet("gs://data/accounts/*.parquet").withKeyColumns("account_id"));
 * }</pre>
 */
public final class ParquetRecords extends RecordSource<ParquetRecords> {
  private static final long serialVersionUID = 1L;
  private final String pattern;

  ParquetRecords(String pattern) {
    this.pattern = pattern;
  }

  private ParquetRecords(ParquetRecords from) {
    super(from);
    this.pattern = from.pattern;
  }

  @Override
  protected ParquetRecords copy() {
    return new ParquetRecords(this);
  }

  @Override
  protected ReadRecords.Result read(PBegin begin, RecordKeys keys) {
    List<String> files = InputFiles.matched(pattern);
    String first = files.get(0);
    ParquetLayout layout = ParquetLayout.of(first);
    Schema schema = layout.schema;
    keys.checkIn(schema, first);
    for (String file : files.subList(1, files.size())) {
      checkSameSchema(layout, first, ParquetLayout.of(file), file);
    }
    return ReadRecords.Result.of(begin
        .apply("ReadParquet", ParquetIO.parseGenericRecords(new ParquetToRow(schema, layout.columns))
            .withCoder(RowCoder.of(schema)).from(pattern))
        .apply("KeyRows", new KeyRowsFn(keys).parDo()), schema);
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
}
