package dev.batchserve.transforms.keys;

import static dev.batchserve.transforms.keys.KeyedPrediction.METRICS_NAMESPACE;
import static dev.batchserve.transforms.keys.JoinBack.latestIndex;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Reasons;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Input records that share a key, before scoring: counted per key, split off and resolved by the {@link DuplicateKeyPolicy}; and the pass-through values of a record. */
final class DuplicateKeys {
  private DuplicateKeys() {}

  static final Coder<List<@Nullable String>> PASS_THROUGH_CODER =
      ListCoder.of(NullableCoder.of(StringUtf8Coder.of()));

  static void checkPassThroughColumns(PCollection<? extends KV<?, Row>> input, List<String> columns) {
    Coder<?> inputCoder = input.getCoder();
    Coder<?> valueCoder = ((KvCoder<?, ?>) inputCoder).getValueCoder();
    if (!(valueCoder instanceof SchemaCoder)) {
      return; // the schema is only known per row: PassThroughFn names a missing column there
    }
    Schema schema = ((SchemaCoder<?>) valueCoder).getSchema();
    for (String c : columns) {
      checkArgument(schema.hasField(c), "pass-through column '%s' is not in the input rows, whose columns are %s"
          + " (a source that keeps only the spec's columns must also be told to keep it)", c, schema.getFieldNames());
    }
  }

  /** A record's pass-through values as text, in column order, by its key's string form. */
  static final class PassThroughFn<K> extends DoFn<KV<K, Row>, KV<String, List<@Nullable String>>> {
    private final List<String> columns;

    PassThroughFn(List<String> columns) {
      this.columns = columns;
    }

    @ProcessElement
    public void process(@Element KV<K, Row> kv, OutputReceiver<KV<String, List<@Nullable String>>> out) {
      Row row = kv.getValue();
      List<@Nullable String> values = new ArrayList<>(columns.size());
      for (String c : columns) {
        checkArgument(row.getSchema().hasField(c), "pass-through column '%s' is not in the input row, whose"
            + " columns are %s", c, row.getSchema().getFieldNames());
        Object v = row.getValue(c);
        values.add(v == null ? null : String.valueOf(v));
      }
      out.output(KV.of(String.valueOf(kv.getKey()), values));
    }
  }

  static final class OnePerRecordFn<K> extends DoFn<KV<K, Row>, KV<String, Long>> {
    @ProcessElement
    public void process(@Element KV<K, Row> kv, OutputReceiver<KV<String, Long>> out) {
      out.output(KV.of(String.valueOf(kv.getKey()), 1L));
    }
  }

  /**
   * Passes the records of keys seen once; the records of a duplicated key become {@code duplicate_key}
   * dead letters (ERROR) or go to {@link PickLastFn} with their timestamps (LAST_WINS).
   */
  static final class SplitDuplicatesFn<K> extends DoFn<KV<K, Row>, KV<K, Row>> {
    private final PCollectionView<Map<String, Long>> duplicated;
    private final DuplicateKeyPolicy policy;
    private final TupleTag<KV<K, Row>> uniqueTag;
    private final TupleTag<KV<String, TimestampedValue<KV<K, Row>>>> duplicateTag;
    private final TupleTag<DeadLetter> deadTag;
    private final Counter duplicates = Metrics.counter(METRICS_NAMESPACE, "duplicate_key_records");

    SplitDuplicatesFn(PCollectionView<Map<String, Long>> duplicated, DuplicateKeyPolicy policy,
        TupleTag<KV<K, Row>> uniqueTag, TupleTag<KV<String, TimestampedValue<KV<K, Row>>>> duplicateTag,
        TupleTag<DeadLetter> deadTag) {
      this.duplicated = duplicated;
      this.policy = policy;
      this.uniqueTag = uniqueTag;
      this.duplicateTag = duplicateTag;
      this.deadTag = deadTag;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      KV<K, Row> kv = c.element();
      String key = String.valueOf(kv.getKey());
      Long n = c.sideInput(duplicated).get(key);
      if (n == null) {
        c.output(kv);
        return;
      }
      duplicates.inc();
      if (policy == DuplicateKeyPolicy.ERROR) {
        c.output(deadTag, DeadLetter.of("keys", key, DeadLetter.rowRecord(kv.getValue()), null, Reasons.DUPLICATE_KEY,
            n + " input records share this key (--duplicateKeys=error scores none of them)"));
      } else {
        c.output(duplicateTag, KV.of(key, TimestampedValue.of(kv, c.timestamp())));
      }
    }
  }

  /**
   * LAST_WINS: of a key's records, the one with the latest timestamp wins (for {@code ReadRecords}'s
   * CSV, the greatest position: file in sorted path order, then line); equal timestamps are ordered
   * by the record's encoded bytes, so the choice never depends on the runner.
   */
  static final class PickLastFn<K>
      extends DoFn<KV<String, Iterable<TimestampedValue<KV<K, Row>>>>, KV<K, Row>> {
    private final Coder<KV<K, Row>> coder;
    private final TupleTag<KV<K, Row>> winnerTag;
    private final TupleTag<DeadLetter> supersededTag;

    PickLastFn(Coder<KV<K, Row>> coder, TupleTag<KV<K, Row>> winnerTag, TupleTag<DeadLetter> supersededTag) {
      this.coder = coder;
      this.winnerTag = winnerTag;
      this.supersededTag = supersededTag;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<TimestampedValue<KV<K, Row>>>> group, MultiOutputReceiver out) {
      List<TimestampedValue<KV<K, Row>>> records = new ArrayList<>();
      group.getValue().forEach(records::add);
      int last = latestIndex(records, kv -> kv, coder);
      for (int i = 0; i < records.size(); i++) {
        if (i == last) {
          out.get(winnerTag).output(records.get(i).getValue());
        } else {
          out.get(supersededTag).output(DeadLetter.of("keys", group.getKey(),
              DeadLetter.rowRecord(records.get(i).getValue().getValue()), null, Reasons.DUPLICATE_KEY_SUPERSEDED,
              records.size() + " input records share this key; --duplicateKeys=last_wins kept the last one"
                  + " (the latest position: file in path order, then line)"));
        }
      }
    }
  }
}
