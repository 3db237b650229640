package dev.batchserve.transforms.keys;

import dev.batchserve.transforms.keys.RunLedger.Ledger;
import static dev.batchserve.transforms.keys.KeyedPrediction.METRICS_NAMESPACE;
import static dev.batchserve.transforms.keys.KeyedPrediction.DUPLICATE_FAILURE;
import dev.batchserve.transforms.join.BucketJoin;
import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Distinct;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/** The join back's steps: keys spread into hash buckets, each bucket's keys resolved in key order (duplicates, fallbacks, unexpected keys), and the small key functions around them. */
final class JoinBack {
  private JoinBack() {}

  /**
   * The index of the value with the latest timestamp; equal timestamps go to the greatest encoding
   * of {@code tieBreak(value)} under {@code coder}, so the choice never depends on the runner's order.
   * Encodings are computed only when timestamps tie.
   */
  static <T, V> int latestIndex(
      List<TimestampedValue<T>> values, java.util.function.Function<T, V> tieBreak, Coder<V> coder) {
    int last = 0;
    byte[] lastBytes = null;
    for (int i = 1; i < values.size(); i++) {
      int c = values.get(i).getTimestamp().compareTo(values.get(last).getTimestamp());
      if (c == 0) {
        if (lastBytes == null) {
          lastBytes = encode(coder, tieBreak.apply(values.get(last).getValue()));
        }
        byte[] mine = encode(coder, tieBreak.apply(values.get(i).getValue()));
        c = Arrays.compare(mine, lastBytes);
        if (c > 0) {
          lastBytes = mine;
        }
      } else if (c > 0) {
        lastBytes = null;
      }
      if (c > 0) {
        last = i;
      }
    }
    return last;
  }

  static <V> byte[] encode(Coder<V> coder, V value) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      coder.encode(value, bytes);
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static final class DeadLetterKeyFn extends DoFn<DeadLetter, String> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<String> out) {
      if (d.getKey() != null) {
        out.output(d.getKey());
      }
    }
  }

  static final class KeyOf<K> extends DoFn<KV<K, ?>, K> {
    @ProcessElement
    public void process(@Element KV<K, ?> kv, OutputReceiver<K> out) {
      out.output(kv.getKey());
    }
  }

  static final class ByString<K> extends DoFn<K, KV<String, K>> {
    @ProcessElement
    public void process(@Element K key, OutputReceiver<KV<String, K>> out) {
      out.output(KV.of(String.valueOf(key), key));
    }
  }

  static final class SeenFn<K> extends DoFn<KV<K, ?>, KV<String, Integer>> {
    @ProcessElement
    public void process(@Element KV<K, ?> kv, OutputReceiver<KV<String, Integer>> out) {
      out.output(KV.of(String.valueOf(kv.getKey()), 1));
    }
  }

  static final class PredictedFn<K>
      extends DoFn<KV<K, Prediction>, KV<String, TimestampedValue<KV<K, Prediction>>>> {
    @ProcessElement
    public void process(@Element KV<K, Prediction> kv, @Timestamp Instant ts,
        OutputReceiver<KV<String, TimestampedValue<KV<K, Prediction>>>> out) {
      out.output(KV.of(String.valueOf(kv.getKey()), TimestampedValue.of(kv, ts)));
    }
  }

  static final class FailureReasonFn extends DoFn<DeadLetter, KV<String, String>> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<KV<String, String>> out) {
      if (d.getKey() != null) {
        out.output(KV.of(d.getKey(), Reasons.failure(d.getStep(), d.getReason(), d.getField())));
      }
    }
  }

  static <V> PCollection<KV<Integer, KV<String, V>>> bucketed(
      PCollection<KV<String, V>> in, String name, Coder<V> valueCoder, int buckets) {
    return in.apply("Bucket" + name, ParDo.of(new BucketFn<V>(buckets)))
        .setCoder(KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), valueCoder)));
  }

  static final class BucketFn<V> extends DoFn<KV<String, V>, KV<Integer, KV<String, V>>> {
    private final int buckets;

    BucketFn(int buckets) {
      this.buckets = buckets;
    }

    @ProcessElement
    public void process(@Element KV<String, V> kv, OutputReceiver<KV<Integer, KV<String, V>>> out) {
      out.output(KV.of(BucketJoin.bucketOf(kv.getKey(), buckets), kv));
    }
  }

  /** Distinct keys of one bucket. */
  static final class DistinctCountFn<K> extends DoFn<KV<Integer, Iterable<KV<String, K>>>, KV<Integer, Long>> {
    @ProcessElement
    public void process(@Element KV<Integer, Iterable<KV<String, K>>> bucket, OutputReceiver<KV<Integer, Long>> out) {
      java.util.Set<String> keys = new java.util.HashSet<>();
      for (KV<String, K> kv : bucket.getValue()) {
        keys.add(kv.getKey());
      }
      out.output(KV.of(Ledger.EXPECTED, (long) keys.size()));
    }
  }

  /** Everything the join knows about one key. */
  static final class KeyState<K> {
    final List<K> expected = new ArrayList<>(1);
    int seen;
    final List<TimestampedValue<KV<K, Prediction>>> predicted = new ArrayList<>(1);
    final TreeSet<String> failures = new TreeSet<>();
    @Nullable Prediction previous;
    @Nullable List<@Nullable String> passThrough;
  }

  /** Decides, per key of a bucket, the one result and where every record went. */
  static final class ResolveFn<K>
      extends DoFn<KV<Integer, Iterable<KV<String, RawUnionValue>>>, KV<K, Prediction>> {
    private final int expectedTag;
    private final int seenTag;
    private final int predictedTag;
    private final int failedTag;
    private final int previousTag;
    private final int passThroughTag;
    private final List<String> passThroughColumns;
    private final TupleTag<KV<K, Prediction>> outTag;
    private final TupleTag<DeadLetter> deadTag;
    private final TupleTag<Integer> fallbackTag;
    private final Fallback fallback;
    private final DuplicateKeyPolicy duplicatePolicy;
    private final RunInfo run;
    private final String modelVersion;
    private final @Nullable ShardWriter shardWriter;
    private final TupleTag<KV<String, KV<String, Long>>> writtenTag;
    private transient ShardWriter.@Nullable Shard shard;
    /** The bucket being resolved: with a shard writer, also its shard. */
    private transient int bucketNo;

    private final Counter fallbacks = Metrics.counter(METRICS_NAMESPACE, "fallbacks");
    private final Counter unexpected = Metrics.counter(METRICS_NAMESPACE, "unexpected_keys");
    private final Counter coldStarts = Metrics.counter(METRICS_NAMESPACE, "cold_start_keys");

    ResolveFn(int expectedTag, int seenTag, int predictedTag, int failedTag, int previousTag,
        int passThroughTag, List<String> passThroughColumns, TupleTag<KV<K, Prediction>> outTag, TupleTag<DeadLetter> deadTag, TupleTag<Integer> fallbackTag,
        Fallback fallback, DuplicateKeyPolicy duplicatePolicy, RunInfo run, String modelVersion,
        @Nullable ShardWriter shardWriter, TupleTag<KV<String, KV<String, Long>>> writtenTag) {
      this.shardWriter = shardWriter;
      this.writtenTag = writtenTag;
      this.expectedTag = expectedTag;
      this.seenTag = seenTag;
      this.predictedTag = predictedTag;
      this.failedTag = failedTag;
      this.previousTag = previousTag;
      this.passThroughTag = passThroughTag;
      this.passThroughColumns = passThroughColumns;
      this.outTag = outTag;
      this.deadTag = deadTag;
      this.fallbackTag = fallbackTag;
      this.fallback = fallback;
      this.duplicatePolicy = duplicatePolicy;
      this.run = run;
      this.modelVersion = modelVersion;
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(@Element KV<Integer, Iterable<KV<String, RawUnionValue>>> bucket, MultiOutputReceiver out)
        throws IOException {
      java.util.TreeMap<String, KeyState<K>> keys = new java.util.TreeMap<>();
      // One pass over the bucket: some runners cannot iterate a group twice.
      for (KV<String, RawUnionValue> e : bucket.getValue()) {
        KeyState<K> st = keys.computeIfAbsent(e.getKey(), k -> new KeyState<>());
        int tag = e.getValue().getUnionTag();
        Object v = e.getValue().getValue();
        if (tag == expectedTag) {
          st.expected.add((K) v);
        } else if (tag == seenTag) {
          st.seen += (Integer) v;
        } else if (tag == predictedTag) {
          st.predicted.add((TimestampedValue<KV<K, Prediction>>) v);
        } else if (tag == failedTag) {
          st.failures.add((String) v);
        } else if (tag == previousTag) {
          st.previous = (Prediction) v;
        } else if (tag == passThroughTag) {
          st.passThrough = (List<@Nullable String>) v;
        }
      }
      // Keys resolve in ascending order of their string form: the order of the shard's rows.
      bucketNo = bucket.getKey();
      shard = null;
      for (java.util.Map.Entry<String, KeyState<K>> entry : keys.entrySet()) {
        resolve(entry.getKey(), entry.getValue(), out);
      }
      if (shard != null) {
        shard.finish().forEach(out.get(writtenTag)::output);
        shard = null;
      }
    }

    /** The key's one result: to the output and, with a shard writer, into the bucket's shard. */
    private void emit(K k, String key, Prediction p, MultiOutputReceiver out) throws IOException {
      out.get(outTag).output(KV.of(k, p));
      if (shardWriter != null) {
        if (shard == null) {
          shard = shardWriter.open(bucketNo);
        }
        shard.write(key, p);
      }
    }

    private void resolve(String key, KeyState<K> st, MultiOutputReceiver out) throws IOException {
      List<TimestampedValue<KV<K, Prediction>>> predicted = st.predicted;
      if (st.expected.isEmpty()) {
        // A key outside the expected set: its records are accounted as dead letters, never served.
        for (TimestampedValue<KV<K, Prediction>> tv : predicted) {
          unexpected.inc();
          // The record is known only as its prediction: it shows the pass-through values, if any.
          out.get(deadTag).output(DeadLetter.of("keys", key,
              DeadLetter.predictionRecord(key, withPassThrough(tv.getValue().getValue(), st)), null,
              Reasons.UNEXPECTED_KEY, "key is not in the expected key set"));
        }
        return;
      }
      K k = st.expected.get(0);

      if (predicted.size() > 1) {
        // Several predictions for one key: only fromPredictions() meets these (the composite settles
        // duplicates on the input records, before the features).
        if (duplicatePolicy == DuplicateKeyPolicy.LAST_WINS) {
          int last = latestIndex(predicted, KV::getValue, Prediction.PredictionCoder.of());
          for (int i = 0; i < predicted.size(); i++) {
            if (i != last) {
              out.get(deadTag).output(DeadLetter.of("keys", key,
                  DeadLetter.predictionRecord(key, predicted.get(i).getValue().getValue()), null,
                  Reasons.DUPLICATE_KEY_SUPERSEDED, predicted.size()
                      + " predictions share this key; last_wins kept the one with the latest timestamp"));
            }
          }
          emit(k, key, withPassThrough(predicted.get(last).getValue().getValue(), st), out);
          return;
        }
        for (TimestampedValue<KV<K, Prediction>> tv : predicted) {
          out.get(deadTag).output(DeadLetter.of("keys", key, DeadLetter.predictionRecord(key, tv.getValue().getValue()),
              null, Reasons.DUPLICATE_KEY, predicted.size() + " predictions share this key (duplicate policy error serves none of them)"));
        }
        emitFallback(k, key, Reasons.DUPLICATE_KEY, st, out);
        return;
      }
      if (predicted.size() == 1) {
        emit(k, key, withPassThrough(predicted.get(0).getValue().getValue(), st), out);
        return;
      }
      // No prediction: the first failure reason (sorted, so the choice is stable), or cold start.
      String reason = st.failures.contains(DUPLICATE_FAILURE) ? Reasons.DUPLICATE_KEY
          : st.failures.isEmpty() ? (st.seen == 0 ? Reasons.COLD_START : Reasons.NO_PREDICTION) : st.failures.first();
      if (st.seen == 0 && st.failures.isEmpty()) {
        coldStarts.inc();
      }
      emitFallback(k, key, reason, st, out);
    }

    private void emitFallback(K k, String key, String reason, KeyState<K> st, MultiOutputReceiver out)
        throws IOException {
      fallbacks.inc();
      emit(k, key, withPassThrough(fallback.fallback(key, reason, run, modelVersion, st.previous), st), out);
      out.get(fallbackTag).output(1);
    }

    /** This run's record values for the key, or none: never what a previous run's fallback carried. */
    private Prediction withPassThrough(Prediction p, KeyState<K> st) {
      if (passThroughTag < 0) {
        return p;
      }
      Map<String, @Nullable String> values = new java.util.LinkedHashMap<>();
      if (st.passThrough != null) {
        for (int i = 0; i < passThroughColumns.size(); i++) {
          values.put(passThroughColumns.get(i), st.passThrough.get(i));
        }
      }
      return p.toBuilder().passThrough(values).build();
    }
  }
}
