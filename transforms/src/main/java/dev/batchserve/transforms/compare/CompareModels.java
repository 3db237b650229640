package dev.batchserve.transforms.compare;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.Prediction;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Champion/challenger: compares two models' predictions for the same keys, per key, into one
 * {@link ModelAgreement} for the run (keys compared, keys only one model scored, decision agreement
 * at a threshold, mean and max absolute score difference). Only model predictions are compared:
 * fallbacks are left out.
 *
 * <p>The join is by hash bucket of the key, like {@code KeyedPrediction}'s, never one group per key.
 * Metrics (namespace {@value #METRICS_NAMESPACE}): {@code compared_keys}, {@code disagreeing_keys},
 * distribution {@code abs_diff_micros}.
 *
 * <pre>{@code
 * PCollection<ModelAgreement> a = PCollectionList.of(champion).and(challenger)
 *     .apply(CompareModels.<String>atThreshold(0.5));
 * }</pre>
 */
public final class CompareModels<K>
    extends PTransform<PCollectionList<KV<K, Prediction>>, PCollection<ModelAgreement>> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.challenger";
  private static final int BUCKETS = 64;

  private final double threshold;

  private CompareModels(double threshold) {
    this.threshold = threshold;
  }

  /** Decisions are {@code score >= threshold}. */
  public static <K> CompareModels<K> atThreshold(double threshold) {
    checkArgument(Double.isFinite(threshold), "threshold must be finite, but was %s", threshold);
    return new CompareModels<>(threshold);
  }

  @Override
  public PCollection<ModelAgreement> expand(PCollectionList<KV<K, Prediction>> input) {
    checkArgument(input.size() == 2, "CompareModels takes [champion, challenger], but got %s collections",
        input.size());
    TupleTag<KV<String, Double>> champion = new TupleTag<>();
    TupleTag<KV<String, Double>> challenger = new TupleTag<>();
    KvCoder<Integer, KV<String, Double>> coder =
        KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), NullableCoder.of(DoubleCoder.of())));
    return KeyedPCollectionTuple
        .of(champion, input.get(0).apply("ChampionScores", ParDo.of(new ScoreFn<K>())).setCoder(coder))
        .and(challenger, input.get(1).apply("ChallengerScores", ParDo.of(new ScoreFn<K>())).setCoder(coder))
        .apply("JoinScores", CoGroupByKey.create())
        .apply("CompareBucket", ParDo.of(new CompareFn(champion, challenger, threshold)))
        .setCoder(ModelAgreement.ModelAgreementCoder.of())
        .apply("Sum", Combine.globally(new MergeFn()))
        .setCoder(ModelAgreement.ModelAgreementCoder.of());
  }

  private static final class ScoreFn<K> extends DoFn<KV<K, Prediction>, KV<Integer, KV<String, Double>>> {
    @ProcessElement
    public void process(@Element KV<K, Prediction> kv, OutputReceiver<KV<Integer, KV<String, Double>>> out) {
      if (kv.getValue().isFallback()) {
        return;
      }
      String key = String.valueOf(kv.getKey());
      out.output(KV.of(Math.floorMod(key.hashCode(), BUCKETS), KV.of(key, kv.getValue().getScore())));
    }
  }

  private static final class CompareFn extends DoFn<KV<Integer, CoGbkResult>, ModelAgreement> {
    private final TupleTag<KV<String, Double>> championTag;
    private final TupleTag<KV<String, Double>> challengerTag;
    private final double threshold;
    private final Counter compared = Metrics.counter(METRICS_NAMESPACE, "compared_keys");
    private final Counter disagreeing = Metrics.counter(METRICS_NAMESPACE, "disagreeing_keys");
    private final Distribution diffMicros = Metrics.distribution(METRICS_NAMESPACE, "abs_diff_micros");

    CompareFn(TupleTag<KV<String, Double>> championTag, TupleTag<KV<String, Double>> challengerTag, double threshold) {
      this.championTag = championTag;
      this.challengerTag = challengerTag;
      this.threshold = threshold;
    }

    @ProcessElement
    public void process(@Element KV<Integer, CoGbkResult> bucket, OutputReceiver<ModelAgreement> out) {
      Map<String, Double> champ = new HashMap<>();
      for (KV<String, Double> kv : bucket.getValue().getAll(championTag)) {
        champ.put(kv.getKey(), kv.getValue());
      }
      long n = 0;
      long challengerOnly = 0;
      long agreeing = 0;
      double sum = 0;
      double max = 0;
      for (KV<String, Double> kv : bucket.getValue().getAll(challengerTag)) {
        if (!champ.containsKey(kv.getKey())) {
          challengerOnly++;
          continue;
        }
        @Nullable Double a = champ.remove(kv.getKey());
        @Nullable Double b = kv.getValue();
        if (a == null || b == null) {
          continue;
        }
        double diff = Math.abs(a - b);
        n++;
        sum += diff;
        max = Math.max(max, diff);
        diffMicros.update(Math.round(diff * 1e6));
        if ((a >= threshold) == (b >= threshold)) {
          agreeing++;
        } else {
          disagreeing.inc();
        }
      }
      compared.inc(n);
      out.output(new ModelAgreement(n, champ.size(), challengerOnly, agreeing, sum, max));
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
