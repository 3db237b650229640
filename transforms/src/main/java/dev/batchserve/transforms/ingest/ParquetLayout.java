package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.parquet.avro.AvroSchemaConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A Parquet file's row schema and how each top-level column's values become row values. The Avro
 * view of the file (parquet-avro) gives the schema; top-level columns with a Parquet logical type
 * are then typed from the Parquet type itself, which keeps what the Avro view loses (nanosecond
 * timestamps, decimals stored as INT32/INT64).
 */
final class ParquetLayout {
  final Schema schema;
  final List<ParquetColumn> columns;

  ParquetLayout(Schema schema, List<ParquetColumn> columns) {
    this.schema = schema;
    this.columns = columns;
  }

  /** The layout of {@code file}, read from its footer. */
  static ParquetLayout of(String file) {
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
