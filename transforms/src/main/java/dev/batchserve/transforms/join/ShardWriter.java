package dev.batchserve.transforms.join;

import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.values.KV;

/**
 * Writes output shards from the step that already holds them: the join back to expected keys.
 *
 * <p>The join back groups the run by a hash bucket of the key ({@link BucketJoin#bucketOf}) and
 * resolves each bucket's keys in key order. An output whose shards use the same function (shard =
 * {@code bucketOf(key, shards())}) and sorts each shard by key can write a bucket's results as they
 * are resolved, so the run needs one full-data shuffle instead of two (the join, then a regroup by
 * shard). {@code FileSink#shardWriter()} is such a writer; pass it to
 * {@code KeyedPrediction.writingShards} and the join's {@code writtenFiles()} back to the sink:
 *
 * <pre>{@code
 * FileSink<String> files = SinkWithMetadata.<String>files("/predictions/churn")
 *     .withRunInfo(run).withAttempt(FileSink.newAttemptId()).withNumShards(8);
 * KeyedPrediction.Result<String> keyed =
 *     rows.apply(KeyedPrediction.<String>of(spec, modelUri).withRunInfo(run).writingShards(files.shardWriter()));
 * keyed.predictions().apply(files.withWrittenFiles(keyed.writtenFiles())
 *     .withInputCount(keyed.resolvedCount()).publishAfter(keyed.counts()));
 * }</pre>
 *
 * <p>A writer is serializable (it travels inside the join's {@code DoFn}) and must write the same
 * files, byte for byte, when a bundle is retried: names come from the shard number, never from the
 * attempt of the bundle.
 */
public interface ShardWriter extends Serializable {

  /** The number of shards, which is also the number of join buckets. */
  int shards();

  /** Starts shard {@code shard} (0-based, below {@link #shards()}); the caller writes its rows in key order. */
  Shard open(int shard) throws IOException;

  /** One shard being written; not thread-safe. */
  interface Shard {
    /** Writes one result; keys arrive in ascending order of their string form, each once. */
    void write(String key, Prediction prediction) throws IOException;

    /**
     * Completes the shard's files and returns one {@code (directory, (file, rows))} per file
     * written, e.g. {@code ("parquet", ("/out/.../part-00003-of-00008.parquet", 1200))}. A writer may
     * add entries of its own under a directory name starting with {@code _} (the files sink adds its
     * rows per model: {@code ("_rows_by_model", ("churn:3", 1200))}); the join passes every entry on
     * unchanged to its {@code writtenFiles()}.
     */
    List<KV<String, KV<String, Long>>> finish() throws IOException;
  }
}
