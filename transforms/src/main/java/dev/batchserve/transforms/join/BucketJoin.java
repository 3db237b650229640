package dev.batchserve.transforms.join;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import java.util.ArrayList;
import org.apache.beam.sdk.annotations.Internal;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;

/**
 * A join of several keyed collections by hash bucket of the key, read in ONE pass.
 *
 * <p>Internal: the library's own building block, not part of its API (it hands out
 * {@link RawUnionValue}s). To join predictions back to expected keys, use
 * {@code KeyedPrediction.fromPredictions()}.
 *
 * <p>Why not {@code CoGroupByKey}: grouping by entity key makes one group (and, on the Direct runner,
 * one bundle) per key, which is slow; grouping by a bucket of keys makes large groups, and a
 * {@code CoGbkResult} of more than 10,000 elements must iterate its group twice, which Flink's batch
 * runner refuses unless every user sets {@code --reIterableGroupByKeyResult}. So the inputs are tagged
 * with {@link RawUnionValue}s, flattened and grouped by bucket, and the consumer reads each bucket's
 * iterable exactly once, dispatching on {@link RawUnionValue#getUnionTag()}.
 *
 * <pre>{@code
 * BucketJoin join = BucketJoin.withBuckets(64);
 * int expectedTag = join.add("Expected", expected, keyCoder);      // PCollection<KV<String, K>>
 * int predictedTag = join.add("Predicted", predicted, predCoder);  // PCollection<KV<String, Prediction>>
 * PCollection<KV<Integer, Iterable<KV<String, RawUnionValue>>>> buckets = join.group("Join");
 * // in a DoFn: for (KV<String, RawUnionValue> e : bucket.getValue()) switch (e.getValue().getUnionTag()) ...
 * }</pre>
 */
@Internal
public final class BucketJoin {
  private final int buckets;
  private final List<PCollection<KV<String, ?>>> inputs = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final List<Coder<?>> coders = new ArrayList<>();
  private boolean grouped;

  private BucketJoin(int buckets) {
    this.buckets = buckets;
  }

  public static BucketJoin withBuckets(int buckets) {
    checkArgument(buckets >= 1 && buckets <= 1_000_000, "buckets must be in [1, 1000000], but was %s", buckets);
    return new BucketJoin(buckets);
  }

  /** The bucket of a key's string form: stable across JVMs (String.hashCode is specified). */
  public static int bucketOf(String key, int buckets) {
    return Math.floorMod(key.hashCode(), buckets);
  }

  /** Adds an input; returns its union tag (0, 1, 2, ... in the order added). */
  @SuppressWarnings("unchecked")
  public <V> int add(String name, PCollection<KV<String, V>> input, Coder<V> valueCoder) {
    checkState(!grouped, "add every input before group()");
    inputs.add((PCollection<KV<String, ?>>) (PCollection<?>) input);
    names.add(name);
    coders.add(valueCoder);
    return inputs.size() - 1;
  }

  /** Tags, flattens and groups every input by bucket. */
  public PCollection<KV<Integer, Iterable<KV<String, RawUnionValue>>>> group(String name) {
    checkState(!inputs.isEmpty(), "a join needs at least one input");
    grouped = true;
    UnionCoder union = UnionCoder.of(coders);
    KvCoder<Integer, KV<String, RawUnionValue>> taggedCoder =
        KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), union));
    PCollectionList<KV<Integer, KV<String, RawUnionValue>>> tagged =
        PCollectionList.empty(inputs.get(0).getPipeline());
    for (int i = 0; i < inputs.size(); i++) {
      tagged = tagged.and(inputs.get(i)
          .apply(name + "Tag" + names.get(i), ParDo.of(new TagFn(i, buckets)))
          .setCoder(taggedCoder));
    }
    return tagged
        .apply(name + "Flatten", Flatten.pCollections())
        .apply(name + "GroupByBucket", GroupByKey.create())
        .setCoder(KvCoder.of(VarIntCoder.of(), IterableCoder.of(KvCoder.of(StringUtf8Coder.of(), union))));
  }

  private static final class TagFn extends DoFn<KV<String, ?>, KV<Integer, KV<String, RawUnionValue>>> {
    private final int tag;
    private final int buckets;

    TagFn(int tag, int buckets) {
      this.tag = tag;
      this.buckets = buckets;
    }

    @ProcessElement
    public void process(@Element KV<String, ?> kv, OutputReceiver<KV<Integer, KV<String, RawUnionValue>>> out) {
      out.output(KV.of(bucketOf(kv.getKey(), buckets), KV.of(kv.getKey(), new RawUnionValue(tag, kv.getValue()))));
    }
  }
}
