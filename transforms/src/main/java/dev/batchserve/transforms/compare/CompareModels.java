package dev.batchserve.transforms.compare;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.Prediction;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;

/**
 * Champion/challenger: compares two models' predictions for the same keys into one
 * {@link ModelAgreement} for the run (keys compared, keys only one model scored, decision agreement
 * at a threshold, mean and max absolute score difference). Only model predictions are compared:
 * fallbacks are left out. The comparison itself is {@link CompareScores}.
 *
 * <pre>{@code
 * PCollection<ModelAgreement> a = PCollectionList.of(champion).and(challenger)
 *     .apply(CompareModels.<String>atThreshold(0.5));
 * }</pre>
 */
public final class CompareModels<K>
    extends PTransform<PCollectionList<KV<K, Prediction>>, PCollection<ModelAgreement>> {
  private static final long serialVersionUID = 1L;

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
    KvCoder<String, Double> coder = KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of());
    return PCollectionList
        .of(input.get(0).apply("ChampionScores", ParDo.of(new ScoreFn<K>())).setCoder(coder))
        .and(input.get(1).apply("ChallengerScores", ParDo.of(new ScoreFn<K>())).setCoder(coder))
        .apply("Compare", CompareScores.of(threshold, 0.0));
  }

  private static final class ScoreFn<K> extends DoFn<KV<K, Prediction>, KV<String, Double>> {
    @ProcessElement
    public void process(@Element KV<K, Prediction> kv, OutputReceiver<KV<String, Double>> out) {
      Double score = kv.getValue().getScore();
      if (!kv.getValue().isFallback() && score != null) {
        out.output(KV.of(String.valueOf(kv.getKey()), score));
      }
    }
  }
}
