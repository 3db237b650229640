package dev.batchserve.transforms.monitoring;

import dev.batchserve.transforms.values.Prediction;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/** Model predictions (not fallbacks) with a finite score, keyed by the key's string form. */
final class ModelScoreFn<K> extends DoFn<KV<K, Prediction>, KV<String, Double>> {
  private static final long serialVersionUID = 1L;

  @ProcessElement
  public void process(@Element KV<K, Prediction> kv, OutputReceiver<KV<String, Double>> out) {
    Prediction p = kv.getValue();
    Double s = p.getScore();
    if (!p.isFallback() && s != null && Double.isFinite(s)) {
      out.output(KV.of(String.valueOf(kv.getKey()), s));
    }
  }
}
