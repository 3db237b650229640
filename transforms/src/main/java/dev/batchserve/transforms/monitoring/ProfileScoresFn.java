package dev.batchserve.transforms.monitoring;

import dev.batchserve.transforms.values.Prediction;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.values.KV;

final class ProfileScoresFn<K> extends Combine.CombineFn<KV<K, Prediction>, ScoreProfile, ScoreProfile> {
  private static final long serialVersionUID = 1L;

  @Override
  public ScoreProfile createAccumulator() {
    return new ScoreProfile();
  }

  @Override
  public ScoreProfile addInput(ScoreProfile acc, KV<K, Prediction> kv) {
    Prediction p = kv.getValue();
    if (p.isFallback()) {
      acc.fallbacks++;
      acc.fallbackReasons.merge(p.getFallbackReason(), 1L, Long::sum);
      return acc;
    }
    Double s = p.getScore();
    if (s == null || !Double.isFinite(s)) {
      return acc;
    }
    acc.count++;
    acc.sum += s;
    acc.min = Math.min(acc.min, s);
    acc.max = Math.max(acc.max, s);
    if (s < 0 || s > 1) {
      acc.outOfRange++;
    }
    acc.buckets[PredictionDistribution.bucketOf(s)]++;
    return acc;
  }

  @Override
  public ScoreProfile mergeAccumulators(Iterable<ScoreProfile> accs) {
    ScoreProfile m = new ScoreProfile();
    for (ScoreProfile a : accs) {
      m.count += a.count;
      m.fallbacks += a.fallbacks;
      m.outOfRange += a.outOfRange;
      m.sum += a.sum;
      m.min = Math.min(m.min, a.min);
      m.max = Math.max(m.max, a.max);
      for (int i = 0; i < m.buckets.length; i++) {
        m.buckets[i] += a.buckets[i];
      }
      a.fallbackReasons.forEach((k, v) -> m.fallbackReasons.merge(k, v, Long::sum));
    }
    return m;
  }

  @Override
  public ScoreProfile extractOutput(ScoreProfile acc) {
    return acc;
  }

  @Override
  public Coder<ScoreProfile> getAccumulatorCoder(CoderRegistry r, Coder<KV<K, Prediction>> in) {
    return SerializableCoder.of(ScoreProfile.class);
  }

  @Override
  public Coder<ScoreProfile> getDefaultOutputCoder(CoderRegistry r, Coder<KV<K, Prediction>> in) {
    return SerializableCoder.of(ScoreProfile.class);
  }
}
