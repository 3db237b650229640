package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.CodeModel;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link BatchInfer} with a model written in code: a {@link Model} class defined right here, no
 * model directory, no manifest, no {@link ModelBackend}, no services file.
 */
public class CodeModelInferTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final AtomicInteger SHARED_LOADS = new AtomicInteger();
  private static final AtomicInteger SHARED_CLOSES = new AtomicInteger();

  /** {@code a + 2b - c + 0.5} over three features; refuses NaN like the engines do. */
  static class WeightedSum implements Model {
    private final AtomicInteger closes;

    WeightedSum() {
      this(new AtomicInteger());
    }

    WeightedSum(AtomicInteger closes) {
      this.closes = closes;
    }

    @Override
    public ModelSignature signature() {
      return new ModelSignature("weighted-sum",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 3})),
          List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        float[] r = batch[i];
        for (int j = 0; j < r.length; j++) {
          if (Float.isNaN(r[j])) {
            throw new ModelInputException("row " + i + " feature " + j + " is NaN");
          }
        }
        out[i] = new float[] {score(r[0], r[1], r[2])};
      }
      return out;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }

    static float score(float a, float b, float c) {
      return a + 2 * b - c + 0.5f;
    }
  }

  /** Two probabilities from one feature: {@code [1 - x, x]}. */
  static final class Coin implements Model {
    @Override
    public ModelSignature signature() {
      return new ModelSignature("coin",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 1})),
          List.of(new TensorInfo("p", "float32", new long[] {-1, 2})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        out[i] = new float[] {1f - batch[i][0], batch[i][0]};
      }
      return out;
    }

    @Override
    public void close() {}
  }

  /** Sums however many features a row has: a dynamic feature dimension. */
  static final class RowSum implements Model {
    @Override
    public ModelSignature signature() {
      return new ModelSignature("sum",
          List.of(new TensorInfo("x", "float32", new long[] {-1, -1})),
          List.of(new TensorInfo("sum", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        float sum = 0f;
        for (float x : batch[i]) {
          sum += x;
        }
        out[i] = new float[] {sum};
      }
      return out;
    }

    @Override
    public void close() {}
  }

  /** Declares two inputs, which BatchInfer cannot feed. */
  static final class TwoInputs extends WeightedSum {
    @Override
    public ModelSignature signature() {
      return new ModelSignature("two",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 3}),
              new TensorInfo("y", "float32", new long[] {-1, 3})),
          List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
    }
  }

  private static WeightedSum sharedWeightedSum() {
    SHARED_LOADS.incrementAndGet();
    return new WeightedSum(SHARED_CLOSES);
  }

  private static List<KV<String, FeatureVector>> vectors(int n) {
    List<KV<String, FeatureVector>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of("k" + i, FeatureVector.of(new float[] {i, i * 0.5f, 1f - i})));
    }
    return out;
  }

  private PCollection<KV<String, FeatureVector>> input(List<KV<String, FeatureVector>> in) {
    return p.apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())));
  }

  private static Prediction.Builder stamped(String name, String version) {
    return Prediction.builder().model(name, version)
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId());
  }

  private static List<KV<String, Prediction>> weightedSums(List<KV<String, FeatureVector>> in, String version) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (KV<String, FeatureVector> kv : in) {
      FeatureVector v = kv.getValue();
      out.add(KV.of(kv.getKey(), stamped("weighted-sum", version)
          .scores(new float[] {WeightedSum.score(v.get(0), v.get(1), v.get(2))}).build()));
    }
    return out;
  }

  @Test
  public void aModelClassFromThisTestRunsThroughBatchInfer() throws Exception {
    assertThat("this test must not lean on a services file",
        Collections.list(getClass().getClassLoader().getResources(
            "META-INF/services/" + ModelBackend.class.getName())).size(), is(0));
    List<KV<String, FeatureVector>> in = vectors(200);
    in.set(17, KV.of("k17", FeatureVector.of(new float[] {Float.NaN, 1f, 1f})));
    FeatureVector tooShort = FeatureVector.of(new float[] {1f, 2f});
    in.add(KV.of("short", tooShort));

    BatchInfer.Result<String> r = input(in).apply(
        BatchInfer.<String>withModel(CodeModel.of("weighted-sum", "3", WeightedSum::new))
            .withRunInfo(TestFixtures.RUN).withMaxBatchSize(32));

    List<KV<String, FeatureVector>> good = new ArrayList<>(in.subList(0, 200));
    good.remove(17);
    PAssert.that(r.predictions()).containsInAnyOrder(weightedSums(good, "3"));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, DeadLetter> byKey = StreamSupport.stream(dead.spliterator(), false)
          .collect(Collectors.toMap(DeadLetter::getKey, d -> d));
      assertThat(byKey.keySet(), equalTo(java.util.Set.of("k17", "short")));
      DeadLetter nan = byKey.get("k17");
      assertThat(nan.getStep(), is("inference"));
      assertThat(nan.getReason(), is("inference_error"));
      assertThat(nan.getDetail(), is(ModelInputException.class.getName() + ": row 0 feature 0 is NaN"));
      // The feature count comes from the code model's signature, as it does from a manifest.
      assertThat(byKey.get("short"), equalTo(DeadLetter.of("inference", "short", "[1.0,2.0]",
          null, "wrong_feature_count", "the model expects 3 features, the vector has 2")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void outputKindAndMetadataShapeThePredictionAsAManifestDoes() {
    List<KV<String, FeatureVector>> in = List.of(
        KV.of("a", FeatureVector.of(new float[] {0.25f})),
        KV.of("b", FeatureVector.of(new float[] {0.75f})));
    CodeModel coin = CodeModel.of("coin", "1", Coin::new)
        .withOutputKind(OutputKind.PROBABILITIES)
        .withMetadata(Map.of("classes", "tails,heads"));
    BatchInfer.Result<String> r = input(in).apply(BatchInfer.<String>withModel(coin).withRunInfo(TestFixtures.RUN));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("a", stamped("coin", "1").scores(new float[] {0.75f, 0.25f}).label("tails").confidence(0.75).build()),
        KV.of("b", stamped("coin", "1").scores(new float[] {0.25f, 0.75f}).label("heads").confidence(0.75).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void theLoaderRunsOncePerJvmForEveryInstanceAndBundleAndTheModelIsReleased() {
    List<KV<String, FeatureVector>> in = vectors(2000);
    PCollection<KV<String, FeatureVector>> vectors = input(in);
    CodeModel shared = CodeModel.of("weighted-sum", "shared", CodeModelInferTest::sharedWeightedSum);
    int loadsBefore = SHARED_LOADS.get();
    int closesBefore = SHARED_CLOSES.get();
    // Three ParDos, so at least three DoFn instances (each a deserialized copy of the CodeModel),
    // in both batching modes; the runner adds more per thread.
    for (int size : new int[] {7, 500}) {
      BatchInfer.Result<String> r = vectors.apply("Infer" + size,
          BatchInfer.<String>withModel(shared).withRunInfo(TestFixtures.RUN).withMaxBatchSize(size));
      PAssert.that("predictions at batch " + size, r.predictions()).containsInAnyOrder(weightedSums(in, "shared"));
    }
    BatchInfer.Result<String> grouped = vectors.apply("Grouped", BatchInfer.<String>withModel(shared)
        .withRunInfo(TestFixtures.RUN).withMaxBatchSize(64).withGroupIntoBatches(4, Duration.standardSeconds(5)));
    PAssert.that("grouped predictions", grouped.predictions()).containsInAnyOrder(weightedSums(in, "shared"));
    p.run().waitUntilFinish();
    assertThat("loads of the shared code model", SHARED_LOADS.get() - loadsBefore, is(1));
    assertThat("closes once every instance is torn down", SHARED_CLOSES.get() - closesBefore, is(1));
  }

  @Test
  public void aDynamicFeatureDimensionLeavesTheRowLengthToTheModel() {
    List<KV<String, FeatureVector>> in = List.of(
        KV.of("one", FeatureVector.of(new float[] {1f})),
        KV.of("three", FeatureVector.of(new float[] {1f, 2f, 3f})));
    BatchInfer.Result<String> r = input(in).apply(
        BatchInfer.<String>withModel(CodeModel.of("sum", "1", RowSum::new)).withRunInfo(TestFixtures.RUN));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("one", stamped("sum", "1").scores(new float[] {1f}).build()),
        KV.of("three", stamped("sum", "1").scores(new float[] {6f}).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void failureThresholdNamesTheCodeModel() {
    List<KV<String, FeatureVector>> in = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      in.add(KV.of("k" + i, FeatureVector.of(new float[] {i % 2 == 0 ? Float.NaN : 1f, 1f, 1f})));
    }
    input(in).apply(BatchInfer.<String>withModel(CodeModel.of("weighted-sum", "3", WeightedSum::new))
        .withRunInfo(TestFixtures.RUN).withFailureThreshold(0.1));
    PipelineExecutionException e = assertThrows(PipelineExecutionException.class, () -> p.run().waitUntilFinish());
    assertThat(e.getCause().getMessage(), containsString("exceeds the threshold 0.1000"));
    assertThat(e.getCause().getMessage(), containsString("on this worker, code model weighted-sum:3); aborting"));
  }

  @Test
  public void aSignatureWithTwoInputsFailsAtSetupSayingWhatToReturn() {
    input(vectors(3)).apply(BatchInfer.<String>withModel(CodeModel.of("two", "1", TwoInputs::new))
        .withRunInfo(TestFixtures.RUN));
    // The direct runner wraps a failing @Setup differently from a failing @ProcessElement.
    Throwable e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());
    while (e.getCause() != null) {
      e = e.getCause();
    }
    assertThat(e, instanceOf(IllegalStateException.class));
    assertThat(e.getMessage(), is("code model two:1 declares 2 inputs in its signature(), but"
        + " BatchInfer feeds one dense input: return a ModelSignature with exactly one input, shaped"
        + " [-1, features]"));
  }

  @Test
  public void theModelIsOneOrTheOther() {
    CodeModel m = CodeModel.of("weighted-sum", "3", WeightedSum::new);
    BatchInfer<String> fromCode = BatchInfer.withModel(m);
    assertThat(fromCode.getCodeModel() == m, is(true));
    assertThat(fromCode.getModelUri(), is((String) null));
    assertThat(fromCode.withMaxBatchSize(9).getCodeModel() == m, is(true));
    assertThat(assertThrows(IllegalArgumentException.class, () -> BatchInfer.withModel((CodeModel) null))
        .getMessage(), is("the code model must be set, but was null"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
