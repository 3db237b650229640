package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes one shard in every format through the formats' Beam {@code FileIO} sinks, under its
 * stable name in the staging directory, streaming: rows go to every format's file as they come.
 * A retried bundle rewrites the same files.
 */
final class FilesShardWriter implements ShardWriter {
  private static final long serialVersionUID = 1L;

  /**
   * The directory name of the extra entries {@link Shard#finish()} returns: {@code
   * ("_rows_by_model", ("<model name>:<version>", rows))}, one per model the shard wrote, which the
   * manifest's {@code predictions_by_model} sums (no count of its own).
   */
  static final String ROWS_BY_MODEL = "_rows_by_model";
  private final String attemptDir;
  private final String staging;
  private final int shards;
  private final List<FileFormat> formats;
  private final PassThroughColumns passThrough;
  private final String avroSchema;

  FilesShardWriter(String attemptDir, int shards, Set<FileFormat> formats, PassThroughColumns passThrough) {
    this.attemptDir = attemptDir;
    this.staging = attemptDir + "/_staging";
    this.shards = shards;
    this.formats = new ArrayList<>(formats);
    this.passThrough = passThrough;
    this.avroSchema = AvroUtils.toAvroSchema(passThrough.rowSchema()).toString();
  }

  @Override
  public int shards() {
    return shards;
  }

  @Override
  public Shard open(int shard) throws IOException {
    checkArgument(shard >= 0 && shard < shards, "shard must be in [0, %s), but was %s", shards, shard);
    return new FilesShard(shard);
  }

  private final class FilesShard implements Shard {
    private final int shard;
    private final List<ResourceId> files = new ArrayList<>();
    private final List<java.nio.channels.WritableByteChannel> channels = new ArrayList<>();
    private final List<FileIO.Sink<?>> sinks = new ArrayList<>();
    private final ToGenericRecord toRecord = new ToGenericRecord(avroSchema, passThrough);
    private final Map<String, Long> rowsByModel = new TreeMap<>();
    private long rows;
    private @Nullable String lastKey;

    FilesShard(int shard) throws IOException {
      this.shard = shard;
      try {
        for (FileFormat format : formats) {
          ResourceId file = FileSystems.matchNewResource(staging + "/" + format.directory(), true).resolve(
              String.format(java.util.Locale.ROOT, "part-%05d-of-%05d%s", shard, shards, format.suffix()),
              StandardResolveOptions.RESOLVE_FILE);
          // ParquetIO's flush() closes the channel itself; a second close fails on Beam's S3 channel
          // ("One or more of the specified parts could not be found"), so the channel closes once.
          java.nio.channels.WritableByteChannel channel = new CloseOnce(FileSystems.create(file, "application/octet-stream"));
          files.add(file);
          channels.add(channel);
          FileIO.Sink<?> sink = format == FileFormat.PARQUET
              ? ParquetIO.sink(new Schema.Parser().parse(avroSchema)) : TextIO.sink();
          sink.open(channel);
          sinks.add(sink);
        }
      } catch (IOException | RuntimeException e) {
        closeAll(e);
        throw e;
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void write(String key, Prediction prediction) throws IOException {
      checkState(lastKey == null || lastKey.compareTo(key) <= 0,
          "shard %s: keys must arrive in ascending order, but '%s' came after '%s'", shard, key, lastKey);
      lastKey = key;
      KV<String, Prediction> kv = KV.of(key, prediction);
      for (int i = 0; i < formats.size(); i++) {
        if (formats.get(i) == FileFormat.PARQUET) {
          ((FileIO.Sink<GenericRecord>) sinks.get(i)).write(toRecord.apply(kv));
        } else {
          ((FileIO.Sink<String>) sinks.get(i)).write(prediction.toJson(key));
        }
      }
      rows++;
      rowsByModel.merge(prediction.getModelName() + ":" + prediction.getModelVersion(), 1L, Long::sum);
    }

    @Override
    public List<KV<String, KV<String, Long>>> finish() throws IOException {
      try {
        for (FileIO.Sink<?> sink : sinks) {
          sink.flush();
        }
      } finally {
        closeAll(null);
      }
      SinkFiles.removeIfAborted(attemptDir, files, "shard " + shard);
      List<KV<String, KV<String, Long>>> out = new ArrayList<>();
      for (int i = 0; i < formats.size(); i++) {
        out.add(KV.of(formats.get(i).directory(), KV.of(files.get(i).toString(), rows)));
      }
      rowsByModel.forEach((model, n) -> out.add(KV.of(ROWS_BY_MODEL, KV.of(model, n))));
      return out;
    }

    private void closeAll(@Nullable Exception failure) throws IOException {
      IOException first = null;
      for (java.nio.channels.WritableByteChannel c : channels) {
        try {
          c.close();
        } catch (IOException e) {
          if (failure != null) {
            failure.addSuppressed(e);
          } else if (first == null) {
            first = e;
          }
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }

  /** A channel whose second {@code close()} does nothing (object-store channels fail on it). */
  static final class CloseOnce implements java.nio.channels.WritableByteChannel {
    private final java.nio.channels.WritableByteChannel delegate;
    private boolean closed;

    CloseOnce(java.nio.channels.WritableByteChannel delegate) {
      this.delegate = delegate;
    }

    @Override
    public int write(java.nio.ByteBuffer src) throws IOException {
      return delegate.write(src);
    }

    @Override
    public boolean isOpen() {
      return !closed && delegate.isOpen();
    }

    @Override
    public void close() throws IOException {
      if (!closed) {
        closed = true;
        delegate.close();
      }
    }
  }

  static final class ToGenericRecord
      implements SerializableFunction<KV<String, Prediction>, GenericRecord> {
    private static final long serialVersionUID = 1L;
    private final String avroSchema;
    private final PassThroughColumns passThrough;
    private final org.apache.beam.sdk.schemas.Schema rowSchema;
    private transient @Nullable Schema schema;

    ToGenericRecord(String avroSchema, PassThroughColumns passThrough) {
      this.avroSchema = avroSchema;
      this.passThrough = passThrough;
      this.rowSchema = passThrough.rowSchema();
    }

    @Override
    public GenericRecord apply(KV<String, Prediction> kv) {
      if (schema == null) {
        schema = new Schema.Parser().parse(avroSchema);
      }
      return AvroUtils.toGenericRecord(passThrough.toRow(kv.getKey(), kv.getValue(), rowSchema), schema);
    }
  }
}
