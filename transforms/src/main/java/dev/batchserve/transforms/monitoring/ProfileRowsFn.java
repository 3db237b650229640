package dev.batchserve.transforms.monitoring;

import dev.batchserve.transforms.features.FeatureProfile;
import dev.batchserve.transforms.features.FeatureSpec;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;

/**
 * Profiles rows with the features' own parser ({@link FeatureProfile#add(FeatureSpec, Map)}), for
 * callers that give no {@link MeasureRunQuality#withFeatureProfiles} profile.
 */
final class ProfileRowsFn<K> extends Combine.CombineFn<KV<K, Row>, FeatureProfile, FeatureProfile> {
  private static final long serialVersionUID = 1L;
  private final FeatureSpec spec;

  ProfileRowsFn(FeatureSpec spec) {
    this.spec = spec;
  }

  @Override
  public FeatureProfile createAccumulator() {
    return new FeatureProfile();
  }

  @Override
  public FeatureProfile addInput(FeatureProfile acc, KV<K, Row> kv) {
    return acc.add(spec, kv.getValue());
  }

  @Override
  public FeatureProfile mergeAccumulators(Iterable<FeatureProfile> accs) {
    return FeatureProfile.mergeAll(accs);
  }

  @Override
  public FeatureProfile extractOutput(FeatureProfile acc) {
    return acc;
  }

  @Override
  public Coder<FeatureProfile> getAccumulatorCoder(CoderRegistry r, Coder<KV<K, Row>> in) {
    return FeatureProfile.coder();
  }

  @Override
  public Coder<FeatureProfile> getDefaultOutputCoder(CoderRegistry r, Coder<KV<K, Row>> in) {
    return FeatureProfile.coder();
  }
}
