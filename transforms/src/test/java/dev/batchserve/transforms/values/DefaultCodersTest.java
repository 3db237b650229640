package dev.batchserve.transforms.values;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.instanceOf;

import dev.batchserve.transforms.compare.ModelAgreement;
import dev.batchserve.transforms.compare.TopKOverlap;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.monitoring.RunQuality;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Test;

/**
 * Beam infers this project's coders from {@code @DefaultCoder}, never Java serialization: a
 * collection whose coder Beam infers (a {@code MapElements} into {@code KV<String, Prediction>},
 * say) must not be encoded by {@code SerializableCoder}, which is slow and not deterministic.
 */
public class DefaultCodersTest {
  private static final List<Class<?>> VALUES = List.of(Prediction.class, DeadLetter.class, RunCounts.class,
      FeatureVector.class, FeatureSpec.class, RunQuality.class, TopKOverlap.class, ModelAgreement.class);

  @Test
  public void theRegistryGivesEachValueTypeItsDeclaredCoder() throws Exception {
    CoderRegistry registry = org.apache.beam.sdk.Pipeline.create(PipelineOptionsFactory.create()).getCoderRegistry();
    for (Class<?> type : VALUES) {
      Class<?> declared = type.getAnnotation(DefaultCoder.class).value();
      Coder<?> coder = registry.getCoder(TypeDescriptor.of(type));
      assertThat(type.getSimpleName(), coder, instanceOf(declared));
    }
    Coder<?> kv = registry.getCoder(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Prediction.class)));
    assertThat(((KvCoder<?, ?>) kv).getValueCoder(), instanceOf(Prediction.PredictionCoder.class));
  }
}
