package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.values.DeadLetter;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

public class KeepPartitionTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Schema SCHEMA = Schema.builder().addStringField("id").build();

  /** The partitions of a run together hold every record and dead letter once; keyless ones in partition 0. */
  @Test
  public void partitionsSplitRecordsByKeyHashAndKeylessDeadLettersGoToPartitionZero() {
    List<KV<String, Row>> records = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      records.add(KV.of("k" + i, Row.withSchema(SCHEMA).addValue("k" + i).build()));
    }
    DeadLetter keyed = DeadLetter.of("read", "k3", "k3,x", null, "wrong_column_count", "detail");
    DeadLetter keyless = DeadLetter.of("read", null, ",x", "id", "missing_key", "detail");
    ReadRecords.Result read = ReadRecords.Result.of(
        p.apply("Records", Create.of(records).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA)))),
        p.apply("DeadLetters", Create.of(keyed, keyless).withCoder(DeadLetter.DeadLetterCoder.of())), SCHEMA);
    int n = 3;
    PCollectionList<KV<String, Row>> kept = PCollectionList.empty(p);
    PCollectionList<DeadLetter> keptDead = PCollectionList.empty(p);
    for (int i = 0; i < n; i++) {
      ReadRecords.Result part = PartitionedRun.select(read, i, n);
      assertThat(part.schema(), is(SCHEMA));
      int partition = i;
      PAssert.that("partition " + i + " keeps its keys", part.records()).satisfies(kvs -> {
        kvs.forEach(kv -> assertThat(kv.getKey(), Math.floorMod(kv.getKey().hashCode(), n), is(partition)));
        return null;
      });
      kept = kept.and(part.records());
      keptDead = keptDead.and(part.deadLetters());
      if (i == 0) {
        PAssert.that("partition 0 has the keyless dead letter", part.deadLetters()).satisfies(d -> {
          assertThat(java.util.stream.StreamSupport.stream(d.spliterator(), false).anyMatch(keyless::equals), is(true));
          return null;
        });
      }
    }
    PCollection<KV<String, Row>> all = kept.apply("AllRecords", Flatten.pCollections());
    PAssert.that(all).containsInAnyOrder(records);
    PAssert.that(keptDead.apply("AllDeadLetters", Flatten.pCollections())).containsInAnyOrder(keyed, keyless);
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // What the partitions kept, over all of them: each record and dead letter once.
    assertThat(counter(result, "partition_records"), is(20L));
    assertThat(counter(result, "partition_rejected"), is(2L));
  }

  private static long counter(PipelineResult result, String name) {
    long sum = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(ReadRecords.METRICS_NAMESPACE, name)).build()).getCounters()) {
      sum += c.getAttempted();
    }
    return sum;
  }

  @Test
  public void refusesAPartitionOutsideTheRun() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> KeepPartition.of(0, 0)).getMessage(),
        is("partitions must be >= 1, but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> KeepPartition.of(3, 3)).getMessage(),
        is("partition must be in [0, 3), but was 3"));
  }
}
