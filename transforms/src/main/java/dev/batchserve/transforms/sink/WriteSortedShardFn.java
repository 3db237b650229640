package dev.batchserve.transforms.sink;

import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Sorts one shard's predictions by key (ties, which a keyed run does not have, by their JSON) and
 * writes it through the sink's {@link FilesShardWriter}.
 */
final class WriteSortedShardFn
    extends DoFn<KV<Integer, Iterable<KV<String, Prediction>>>, KV<String, KV<String, Long>>> {
  private final FilesShardWriter writer;

  WriteSortedShardFn(FilesShardWriter writer) {
    this.writer = writer;
  }

  @ProcessElement
  public void process(@Element KV<Integer, Iterable<KV<String, Prediction>>> shard,
      OutputReceiver<KV<String, KV<String, Long>>> out) throws IOException {
    List<KV<String, Prediction>> rows = new ArrayList<>();
    shard.getValue().forEach(rows::add);
    rows.sort(java.util.Comparator.<KV<String, Prediction>, String>comparing(KV::getKey)
        .thenComparing(kv -> kv.getValue().toJson(kv.getKey())));
    ShardWriter.Shard open = writer.open(shard.getKey());
    for (KV<String, Prediction> kv : rows) {
      open.write(kv.getKey(), kv.getValue());
    }
    open.finish().forEach(out::output);
  }
}
