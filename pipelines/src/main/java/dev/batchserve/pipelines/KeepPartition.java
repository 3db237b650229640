package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.values.DeadLetter;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The share of a read that one partition of a partitioned run ({@link PartitionedRun}) processes:
 * the records whose key's string hash falls in partition {@code partition} of {@code partitions}
 * ({@code floorMod(key.hashCode(), partitions)}, as everywhere keys are spread); dead letters follow
 * their key, and lines without a key go to partition 0, so that the partitions of a run together
 * account for every line exactly once. Counted as {@code partition_records} and
 * {@code partition_rejected} ({@link ReadRecords#METRICS_NAMESPACE}): what this partition read,
 * since every partition reads the whole input.
 *
 * <pre>{@code
 * ReadRecords.Result mine = read.apply("Partition2of8", KeepPartition.of(2, 8));
 * }</pre>
 */
final class KeepPartition extends PTransform<ReadRecords.Result, ReadRecords.Result> {
  private static final long serialVersionUID = 1L;
  private final int partition;
  private final int partitions;

  private KeepPartition(int partition, int partitions) {
    this.partition = partition;
    this.partitions = partitions;
  }

  /** Partition {@code partition} (from 0) of {@code partitions}. */
  static KeepPartition of(int partition, int partitions) {
    checkArgument(partitions >= 1, "partitions must be >= 1, but was %s", partitions);
    checkArgument(partition >= 0 && partition < partitions,
        "partition must be in [0, %s), but was %s", partitions, partition);
    return new KeepPartition(partition, partitions);
  }

  @Override
  public ReadRecords.Result expand(ReadRecords.Result read) {
    PCollection<KV<String, Row>> kept = read.records().apply("Records",
        ParDo.of(new KeepFn<KV<String, Row>>(KV::getKey, partition, partitions, "partition_records")));
    PCollection<DeadLetter> keptDead = read.deadLetters().apply("DeadLetters",
        ParDo.of(new KeepFn<DeadLetter>(DeadLetter::getKey, partition, partitions, "partition_rejected")));
    return ReadRecords.Result.of(kept, keptDead, read.schema());
  }

  /** Keeps the elements of one partition, counting them in {@code counter}. */
  private static final class KeepFn<T> extends DoFn<T, T> {
    private static final long serialVersionUID = 1L;
    private final SerializableFunction<T, String> key;
    private final int partition;
    private final int partitions;
    private final Counter kept;

    KeepFn(SerializableFunction<T, String> key, int partition, int partitions, String counter) {
      this.key = key;
      this.partition = partition;
      this.partitions = partitions;
      this.kept = Metrics.counter(ReadRecords.METRICS_NAMESPACE, counter);
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
}
