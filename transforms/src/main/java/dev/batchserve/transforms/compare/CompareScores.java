package dev.batchserve.transforms.compare;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.join.BucketJoin;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;

/**
 * Compares two sets of scores by key ({@code [first, second]}) into one {@link ModelAgreement}: keys
 * in both, keys only in the first ({@code championOnly}) or only in the second
 * ({@code challengerOnly}), decisions agreeing at a threshold, scores changed by more than an epsilon,
 * mean and max absolute difference. Joined by key-hash bucket in one pass ({@link BucketJoin}).
 *
 * <p>Metrics (namespace {@value #METRICS_NAMESPACE}): {@code compared_keys}, {@code disagreeing_keys},
 * distribution {@code abs_diff_micros}.
 *
 * <pre>{@code
 * PCollection<ModelAgreement> a = PCollectionList.of(previousScores).and(currentScores)
 *     .apply(CompareScores.of(0.5, 0.05));
 * }</pre>
 */
public final class CompareScores
    extends PTransform<PCollectionList<KV<String, Double>>, PCollection<ModelAgreement>> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.compare";
  static final int BUCKETS = 64;

  private final double threshold;
  private final double epsilon;

  private CompareScores(double threshold, double epsilon) {
    this.threshold = threshold;
    this.epsilon = epsilon;
  }

  /** Decisions are {@code score >= threshold}; a score changed when it moved by more than {@code epsilon}. */
  public static CompareScores of(double threshold, double epsilon) {
    checkArgument(Double.isFinite(threshold), "threshold must be finite, but was %s", threshold);
    checkArgument(epsilon >= 0, "epsilon must be >= 0, but was %s", epsilon);
    return new CompareScores(threshold, epsilon);
  }

  @Override
  public PCollection<ModelAgreement> expand(PCollectionList<KV<String, Double>> input) {
    checkArgument(input.size() == 2, "CompareScores takes [first, second], but got %s collections", input.size());
    BucketJoin join = BucketJoin.withBuckets(BUCKETS);
    int first = join.add("First", input.get(0), DoubleCoder.of());
    int second = join.add("Second", input.get(1), DoubleCoder.of());
    return join.group("JoinScores")
        .apply("CompareBucket", ParDo.of(new CompareFn(first, second, threshold, epsilon)))
        .setCoder(ModelAgreement.ModelAgreementCoder.of())
        .apply("Sum", Combine.globally(new MergeFn()))
        .setCoder(ModelAgreement.ModelAgreementCoder.of());
  }

  private static final class CompareFn extends DoFn<KV<Integer, Iterable<KV<String, RawUnionValue>>>, ModelAgreement> {
    private final int firstTag;
    private final int secondTag;
    private final double threshold;
    private final double epsilon;
    private final Counter compared = Metrics.counter(METRICS_NAMESPACE, "compared_keys");
    private final Counter disagreeing = Metrics.counter(METRICS_NAMESPACE, "disagreeing_keys");
    private final Distribution diffMicros = Metrics.distribution(METRICS_NAMESPACE, "abs_diff_micros");

    CompareFn(int firstTag, int secondTag, double threshold, double epsilon) {
      this.firstTag = firstTag;
      this.secondTag = secondTag;
      this.threshold = threshold;
      this.epsilon = epsilon;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<KV<String, RawUnionValue>>> bucket,
        OutputReceiver<ModelAgreement> out) {
      Map<String, Double> a = new HashMap<>();
      Map<String, Double> b = new HashMap<>();
      for (KV<String, RawUnionValue> e : bucket.getValue()) {
        int tag = e.getValue().getUnionTag();
        if (tag == firstTag) {
          a.put(e.getKey(), (Double) e.getValue().getValue());
        } else if (tag == secondTag) {
          b.put(e.getKey(), (Double) e.getValue().getValue());
        }
      }
      long n = 0;
      long secondOnly = 0;
      long agreeing = 0;
      long changed = 0;
      double sum = 0;
      double max = 0;
      for (Map.Entry<String, Double> e : b.entrySet()) {
        if (!a.containsKey(e.getKey())) {
          secondOnly++;
          continue;
        }
        Double x = a.remove(e.getKey());
        Double y = e.getValue();
        if (x == null || y == null) {
          continue;
        }
        double diff = Math.abs(x - y);
        n++;
        sum += diff;
        max = Math.max(max, diff);
        diffMicros.update(Math.round(diff * 1e6));
        if (diff > epsilon) {
          changed++;
        }
        if ((x >= threshold) == (y >= threshold)) {
          agreeing++;
        } else {
          disagreeing.inc();
        }
      }
      compared.inc(n);
      out.output(new ModelAgreement(n, a.size(), secondOnly, agreeing, changed, sum, max));
    }
  }

  private static final class MergeFn extends Combine.BinaryCombineFn<ModelAgreement> {
    @Override
    public ModelAgreement apply(ModelAgreement left, ModelAgreement right) {
      return left.merge(right);
    }

    @Override
    public ModelAgreement identity() {
      return ModelAgreement.empty();
    }
  }
}
