package dev.batchserve.transforms.compare;

import dev.batchserve.transforms.join.BucketJoin;
import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How much two runs' top-k lists agree, for recommendations: over the keys both runs predicted (model
 * predictions, not fallbacks), the mean share of this run's items that were in the previous run's
 * list ({@code |now ∩ before| / |now|}), and how many lists are identical as sets. A high overlap says
 * the recommendations barely move between runs, and the batch interval could be longer.
 *
 * <pre>{@code
 * PCollection<TopKOverlap> o = PCollectionList.of(previous).and(current).apply(TopKOverlap.compare());
 * }</pre>
 */
@DefaultCoder(TopKOverlap.TopKOverlapCoder.class)
public final class TopKOverlap implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long compared;
  private final long identical;
  private final double sumOverlap;

  public TopKOverlap(long compared, long identical, double sumOverlap) {
    this.compared = compared;
    this.identical = identical;
    this.sumOverlap = sumOverlap;
  }

  /** Keys with a top-k list in both runs. */
  public long getCompared() {
    return compared;
  }

  /** Keys whose two lists hold the same items. */
  public long getIdentical() {
    return identical;
  }

  /** Mean overlap share over the compared keys (1 when nothing was compared). */
  public double meanOverlap() {
    return compared == 0 ? 1.0 : sumOverlap / compared;
  }

  TopKOverlap merge(TopKOverlap o) {
    return new TopKOverlap(compared + o.compared, identical + o.identical, sumOverlap + o.sumOverlap);
  }

  /** The comparison: {@code [previous, current]} predictions by key. */
  public static Compare compare() {
    return new Compare();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof TopKOverlap && compared == ((TopKOverlap) o).compared
        && identical == ((TopKOverlap) o).identical
        && Double.compare(sumOverlap, ((TopKOverlap) o).sumOverlap) == 0;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(compared, identical, sumOverlap);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "TopKOverlap{compared=%d, identical=%d, meanOverlap=%.4f}",
        compared, identical, meanOverlap());
  }

  /** The transform: joined by key-hash bucket in one pass ({@link BucketJoin}). */
  public static final class Compare
      extends PTransform<PCollectionList<KV<String, Prediction>>, PCollection<TopKOverlap>> {
    private static final long serialVersionUID = 1L;

    @Override
    public PCollection<TopKOverlap> expand(PCollectionList<KV<String, Prediction>> input) {
      BucketJoin join = BucketJoin.withBuckets(CompareScores.BUCKETS);
      ListCoder<String> items = ListCoder.of(StringUtf8Coder.of());
      int before = join.add("Previous", input.get(0).apply("PreviousItems", ParDo.of(new ItemsFn())).setCoder(
          org.apache.beam.sdk.coders.KvCoder.of(StringUtf8Coder.of(), items)), items);
      int now = join.add("Current", input.get(1).apply("CurrentItems", ParDo.of(new ItemsFn())).setCoder(
          org.apache.beam.sdk.coders.KvCoder.of(StringUtf8Coder.of(), items)), items);
      return join.group("JoinLists")
          .apply("Overlap", ParDo.of(new OverlapFn(before, now)))
          .setCoder(TopKOverlapCoder.of())
          .apply("Sum", Combine.globally(new Combine.BinaryCombineFn<TopKOverlap>() {
            @Override
            public TopKOverlap apply(TopKOverlap a, TopKOverlap b) {
              return a.merge(b);
            }

            @Override
            public TopKOverlap identity() {
              return new TopKOverlap(0, 0, 0);
            }
          }))
          .setCoder(TopKOverlapCoder.of());
    }
  }

  private static final class ItemsFn extends DoFn<KV<String, Prediction>, KV<String, List<String>>> {
    @ProcessElement
    public void process(@Element KV<String, Prediction> kv, OutputReceiver<KV<String, List<String>>> out) {
      if (!kv.getValue().isFallback() && !kv.getValue().getItems().isEmpty()) {
        out.output(KV.of(kv.getKey(), kv.getValue().getItems()));
      }
    }
  }

  private static final class OverlapFn extends DoFn<KV<Integer, Iterable<KV<String, RawUnionValue>>>, TopKOverlap> {
    private final int beforeTag;
    private final int nowTag;

    OverlapFn(int beforeTag, int nowTag) {
      this.beforeTag = beforeTag;
      this.nowTag = nowTag;
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(@Element KV<Integer, Iterable<KV<String, RawUnionValue>>> bucket, OutputReceiver<TopKOverlap> out) {
      Map<String, List<String>> before = new HashMap<>();
      Map<String, List<String>> now = new HashMap<>();
      for (KV<String, RawUnionValue> e : bucket.getValue()) {
        int tag = e.getValue().getUnionTag();
        if (tag == beforeTag) {
          before.put(e.getKey(), (List<String>) e.getValue().getValue());
        } else if (tag == nowTag) {
          now.put(e.getKey(), (List<String>) e.getValue().getValue());
        }
      }
      long compared = 0;
      long identical = 0;
      double sum = 0;
      for (Map.Entry<String, List<String>> e : now.entrySet()) {
        List<String> old = before.get(e.getKey());
        if (old == null) {
          continue;
        }
        Set<String> a = new HashSet<>(e.getValue());
        Set<String> b = new HashSet<>(old);
        long common = a.stream().filter(b::contains).count();
        compared++;
        sum += (double) common / a.size();
        if (a.equals(b)) {
          identical++;
        }
      }
      out.output(new TopKOverlap(compared, identical, sum));
    }
  }

  /** Two longs and a double. */
  public static final class TopKOverlapCoder extends AtomicCoder<TopKOverlap> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(TopKOverlap.class), of());
    }

    private static final TopKOverlapCoder INSTANCE = new TopKOverlapCoder();

    public static TopKOverlapCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(TopKOverlap o, OutputStream out) throws IOException {
      VarLongCoder.of().encode(o.compared, out);
      VarLongCoder.of().encode(o.identical, out);
      DoubleCoder.of().encode(o.sumOverlap, out);
    }

    @Override
    public TopKOverlap decode(InputStream in) throws IOException {
      return new TopKOverlap(VarLongCoder.of().decode(in), VarLongCoder.of().decode(in), DoubleCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
