package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/** Passes on files written by a shard writer after checking they are this sink's (attempt, shard count). */
final class CheckWrittenFilesFn extends DoFn<KV<String, KV<String, Long>>, KV<String, KV<String, Long>>> {
  private final String staging;
  private final int shards;
  private transient String dir;

  CheckWrittenFilesFn(String staging, int shards) {
    this.staging = staging;
    this.shards = shards;
  }

  @Setup
  public void setup() {
    // As the writer names its files: resolved, so that a relative root compares equal.
    dir = FileSystems.matchNewResource(staging, true).toString();
  }

  @ProcessElement
  public void process(@Element KV<String, KV<String, Long>> file, OutputReceiver<KV<String, KV<String, Long>>> out) {
    if (file.getKey().equals(FilesShardWriter.ROWS_BY_MODEL)) {
      out.output(file); // a shard's rows per model, not a file
      return;
    }
    String path = file.getValue().getKey();
    String suffix = String.format(java.util.Locale.ROOT, "-of-%05d", shards);
    checkState(path.startsWith(dir) && path.contains(suffix),
        "FileSink.withWrittenFiles: %s was not written by this sink's shardWriter() (its files go to %s/ as"
            + " part-<i>%s.<format>): build the KeyedPrediction's writingShards(...) from the same FileSink",
        path, staging, suffix);
    out.output(file);
  }
}
