package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasEntry;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.TensorFlowExporter;
import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.Prediction;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * {@link BatchInfer#withModelOptions} reaches the workers' model load: the model the DoFns use is
 * the one the shared cache holds for exactly these options, and it reports their thread counts.
 */
public class ModelOptionsInferTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static Path tfModel;

  @BeforeClass
  public static void exportTensorFlowModel() throws Exception {
    MlpWeights weights = new MlpWeights(List.of(
        new MlpWeights.Layer(new float[][] {{1f, -1f}, {0.5f, 2f}}, new float[] {0.1f, -0.2f}),
        new MlpWeights.Layer(new float[][] {{1f}, {-0.5f}}, new float[] {0.25f})),
        MlpWeights.OutputActivation.IDENTITY);
    tfModel = TMP.newFolder("tf").toPath();
    TensorFlowExporter.export(weights, tfModel,
        ModelManifest.builder().name("mlp").version("3").inputFeatures(List.of("a", "b")).build());
  }

  private static List<KV<String, FeatureVector>> vectors() {
    List<KV<String, FeatureVector>> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      out.add(KV.of("k" + i, FeatureVector.of(new float[] {i * 0.25f, 1f - i * 0.1f})));
    }
    return out;
  }

  /** Each key's score from the held model, outside Beam. */
  private static List<KV<String, Prediction>> expected(Model model, List<KV<String, FeatureVector>> in) {
    ModelManifest manifest = ModelManifest.read(tfModel);
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (KV<String, FeatureVector> kv : in) {
      float[] score = model.predict(new float[][] {kv.getValue().toArray()})[0];
      out.add(KV.of(kv.getKey(), BatchInfer.toPrediction(score, manifest, TestFixtures.RUN)));
    }
    return out;
  }

  @Test
  public void theWorkersRunTheModelWithTheChosenThreads() {
    ModelOptions options = ModelOptions.defaults().withIntraOpThreads(2).withInterOpThreads(1);
    // Held open across the run: DoFns acquiring the same directory with equal options share this
    // very model; other options would load a second one.
    try (ModelHandle held = SharedModelCache.acquire(tfModel, options)) {
      assertThat(held.model().runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "2"));
      assertThat(held.model().runtimeSettings(), hasEntry(Model.INTER_OP_THREADS, "1"));
      long loads = SharedModelCache.loadCount();
      List<KV<String, FeatureVector>> in = vectors();
      BatchInfer.Result<String> r = p
          .apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())))
          .apply(BatchInfer.<String>withModel(tfModel.toString()).withRunInfo(TestFixtures.RUN)
              .withModelOptions(ModelOptions.defaults().withInterOpThreads(1).withIntraOpThreads(2)));
      PAssert.that(r.predictions()).containsInAnyOrder(expected(held.model(), in));
      PAssert.that(r.deadLetters()).empty();
      p.run().waitUntilFinish();
      assertThat("the workers used the held model, loaded with these options",
          SharedModelCache.loadCount() - loads, is(0L));
    }
  }

  @Test
  public void otherOptionsAreAnotherLoadedModel() {
    try (ModelHandle held = SharedModelCache.acquire(tfModel, ModelOptions.defaults())) {
      assertThat(held.model().runtimeSettings(), hasEntry(Model.INTRA_OP_THREADS, "0"));
      long loads = SharedModelCache.loadCount();
      List<KV<String, FeatureVector>> in = vectors();
      BatchInfer.Result<String> r = p
          .apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())))
          .apply(BatchInfer.<String>withModel(tfModel.toString()).withRunInfo(TestFixtures.RUN)
              .withModelOptions(ModelOptions.defaults().withIntraOpThreads(1)));
      PAssert.that(r.predictions()).containsInAnyOrder(expected(held.model(), in));
      p.run().waitUntilFinish();
      assertThat(SharedModelCache.loadCount() - loads, is(1L));
    }
  }

  @Test
  public void aGpuForALinearModelFailsTheRunWithTheOptionToChange() {
    String linear = TestFixtures.linearModel(TMP.getRoot().toPath().resolve("lin"), List.of("a", "b", "c"));
    p.apply(Create.of(KV.of("k", FeatureVector.of(new float[] {1f, 2f, 3f})))
            .withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())))
        .apply(BatchInfer.<String>withModel(linear).withRunInfo(TestFixtures.RUN)
            .withModelOptions(ModelOptions.defaults().withDevice("/GPU:0")));
    Exception e = assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    assertThat(String.valueOf(e.getMessage()), containsString("--modelDevice=/GPU:0"));
  }

  @Test
  public void nullOptionsAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.<String>withModel(Paths.get("m").toString()).withModelOptions(null));
    assertThat(e.getMessage(), containsString("modelOptions must be set"));
  }
}
