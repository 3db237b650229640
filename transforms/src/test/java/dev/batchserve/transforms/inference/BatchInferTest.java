package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class BatchInferTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static String model;

  @BeforeClass
  public static void exportModel() throws Exception {
    model = TestFixtures.linearModel(TMP.newFolder("lin").toPath(), List.of("a", "b", "c"));
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

  private static Prediction expected(float score) {
    return Prediction.builder().scores(new float[] {score}).model("lin", "7")
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).build();
  }

  private static List<KV<String, Prediction>> expectedFor(List<KV<String, FeatureVector>> in) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (KV<String, FeatureVector> kv : in) {
      FeatureVector v = kv.getValue();
      out.add(KV.of(kv.getKey(), expected(TestFixtures.linearScore(v.get(0), v.get(1), v.get(2)))));
    }
    return out;
  }

  @Test
  public void everyKeyGetsItsOwnPredictionAtAnyBatchSize() {
    List<KV<String, FeatureVector>> in = vectors(1000);
    PCollection<KV<String, FeatureVector>> vectors = input(in);
    for (int size : new int[] {1, 7, 256, 100_000}) {
      BatchInfer.Result<String> r = vectors.apply("Infer" + size,
          BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN).withMaxBatchSize(size));
      PAssert.that("predictions at batch " + size, r.predictions()).containsInAnyOrder(expectedFor(in));
      PAssert.that("dead letters at batch " + size, r.deadLetters()).empty();
    }
    p.run().waitUntilFinish();
  }

  @Test
  public void byteCapAlsoBatchesCorrectly() {
    List<KV<String, FeatureVector>> in = vectors(100);
    BatchInfer.Result<String> r = input(in).apply(
        BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN).withMaxBatchBytes(100));
    PAssert.that(r.predictions()).containsInAnyOrder(expectedFor(in));
    p.run().waitUntilFinish();
  }

  @Test
  public void bisectionIsolatesExactlyTheFailingRecord() {
    List<KV<String, FeatureVector>> in = vectors(50);
    // The model refuses NaN inputs, so the whole batch containing k17 fails; bisection must find k17.
    in.set(17, KV.of("k17", FeatureVector.of(new float[] {Float.NaN, 1f, 1f})));
    BatchInfer.Result<String> r = input(in).apply(
        BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN).withMaxBatchSize(64));
    List<KV<String, FeatureVector>> good = new ArrayList<>(in);
    good.remove(17);
    PAssert.that(r.predictions()).containsInAnyOrder(expectedFor(good));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<DeadLetter> all = StreamSupport.stream(dead.spliterator(), false).collect(Collectors.toList());
      assertThat(all.size(), is(1));
      DeadLetter d = all.get(0);
      assertThat(d.getKey(), is("k17"));
      assertThat(d.getStep(), is("inference"));
      assertThat(d.getReason(), is("inference_error"));
      assertThat(d.getDetail(), containsString("NaN"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /**
   * Names the sign of the linear model's score as the prediction's one item; refuses rows whose first
   * value is 17 in {@code predict} and the score of k33 in {@code toPrediction}.
   */
  static final class SignAdapter implements ModelAdapter {
    static final float REFUSED_SCORE = TestFixtures.linearScore(33, 16.5f, -32);

    @Override
    public Adapted adapt(dev.batchserve.models.Model model, dev.batchserve.models.ModelManifest manifest,
        java.nio.file.Path modelDir) {
      if (modelDir == null || !java.nio.file.Files.exists(modelDir.resolve(dev.batchserve.models.ModelManifest.FILE_NAME))) {
        throw new IllegalArgumentException("expected the local model directory, but got " + modelDir);
      }
      return new Adapted() {
        @Override
        public int inputSize() {
          return model.signature().inputSize();
        }

        @Override
        public float[][] predict(float[][] rows) {
          for (float[] row : rows) {
            if (row[0] == 17f) {
              throw new IllegalArgumentException("17 is refused");
            }
          }
          return model.predict(rows);
        }

        @Override
        public Prediction toPrediction(float[] out, Prediction.Builder envelope) {
          if (out[0] == REFUSED_SCORE) {
            throw new IllegalStateException("score " + out[0] + " is refused");
          }
          return envelope.items(List.of(out[0] >= 0 ? "positive" : "negative")).scores(out).build();
        }
      };
    }
  }

  @Test
  public void anAdapterRunsTheBatchAndShapesThePredictionWithFailuresBisected() {
    List<KV<String, FeatureVector>> in = vectors(60);
    BatchInfer.Result<String> r = input(in).apply(BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN)
        .withMaxBatchSize(64).withModelAdapter(new SignAdapter()));
    List<KV<String, Prediction>> expected = new ArrayList<>();
    for (KV<String, Prediction> kv : expectedFor(in)) {
      if (!kv.getKey().equals("k17") && !kv.getKey().equals("k33")) {
        float score = kv.getValue().getScores()[0];
        expected.add(KV.of(kv.getKey(),
            kv.getValue().toBuilder().items(List.of(score >= 0 ? "positive" : "negative")).build()));
      }
    }
    PAssert.that(r.predictions()).containsInAnyOrder(expected);
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> byKey = StreamSupport.stream(dead.spliterator(), false)
          .collect(Collectors.toMap(DeadLetter::getKey, d -> d.getStep() + ":" + d.getReason() + ":" + d.getDetail()));
      assertThat(byKey, equalTo(Map.of(
          "k17", "inference:inference_error:java.lang.IllegalArgumentException: 17 is refused",
          "k33", "inference:inference_error:java.lang.IllegalStateException: score "
              + SignAdapter.REFUSED_SCORE + " is refused")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void wrongFeatureCountIsADeadLetterNotACrash() {
    List<KV<String, FeatureVector>> in = vectors(3);
    in.add(KV.of("short", FeatureVector.of(new float[] {1f, 2f})));
    BatchInfer.Result<String> r = input(in).apply(
        BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN));
    PAssert.that(r.predictions()).containsInAnyOrder(expectedFor(in.subList(0, 3)));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      DeadLetter d = dead.iterator().next();
      assertThat(d.getKey(), is("short"));
      assertThat(d.getReason(), is("wrong_feature_count"));
      assertThat(d.getDetail(), is("the model expects 3 features, the vector has 2"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void failureThresholdAbortsTheRunWithTheCounts() {
    List<KV<String, FeatureVector>> in = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      in.add(KV.of("k" + i, FeatureVector.of(new float[] {i % 2 == 0 ? Float.NaN : 1f, 1f, 1f})));
    }
    input(in).apply(BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN).withFailureThreshold(0.1));
    PipelineExecutionException e = assertThrows(PipelineExecutionException.class, () -> p.run().waitUntilFinish());
    assertThat(e.getCause().getMessage(), containsString("exceeds the threshold 0.1000"));
  }

  @Test
  public void groupIntoBatchesModeGivesTheSamePredictionsAndIsolatesFailures() {
    List<KV<String, FeatureVector>> in = vectors(500);
    in.set(17, KV.of("k17", FeatureVector.of(new float[] {Float.NaN, 1f, 1f})));
    BatchInfer.Result<String> r = input(in).apply(BatchInfer.<String>withModel(model).withRunInfo(TestFixtures.RUN)
        .withMaxBatchSize(64).withGroupIntoBatches(4, Duration.standardSeconds(5)));
    List<KV<String, FeatureVector>> good = new ArrayList<>(in);
    good.remove(17);
    PAssert.that(r.predictions()).containsInAnyOrder(expectedFor(good));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      DeadLetter d = dead.iterator().next();
      assertThat(d.getKey(), is("k17"));
      assertThat(d.getReason(), is("inference_error"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void groupIntoBatchesServesAnUnboundedStream() {
    List<KV<String, FeatureVector>> in = vectors(6);
    TestStream<KV<String, FeatureVector>> stream =
        TestStream.create(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of()))
            .addElements(TimestampedValue.of(in.get(0), new Instant(0)), TimestampedValue.of(in.get(1), new Instant(1)))
            .advanceProcessingTime(Duration.standardSeconds(10))
            .addElements(TimestampedValue.of(in.get(2), new Instant(2)), TimestampedValue.of(in.get(3), new Instant(3)),
                TimestampedValue.of(in.get(4), new Instant(4)), TimestampedValue.of(in.get(5), new Instant(5)))
            .advanceWatermarkToInfinity();
    BatchInfer.Result<String> r = p.apply(stream).apply(BatchInfer.<String>withModel(model)
        .withRunInfo(TestFixtures.RUN).withMaxBatchSize(100).withGroupIntoBatches(2, Duration.standardSeconds(1)));
    PAssert.that(r.predictions()).containsInAnyOrder(expectedFor(in));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void settingsAreValidatedWithTheValueInTheMessage() {
    IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.withModel(model).withMaxBatchSize(100_001));
    assertThat(tooBig.getMessage(), is("maxBatchSize must be in [1, 100000], but was 100001"));
    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.withModel(model).withMaxBatchSize(0));
    assertThat(zero.getMessage(), is("maxBatchSize must be in [1, 100000], but was 0"));
    assertThrows(IllegalArgumentException.class, () -> BatchInfer.withModel(model).withFailureThreshold(1.5));
    assertThrows(IllegalArgumentException.class, () -> BatchInfer.withModel(model).withMaxBatchBytes(-1));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchInfer.withModel(model).withGroupIntoBatches(0, Duration.standardSeconds(1))).getMessage(),
        is("shards must be in [1, 100000], but was 0"));
    assertThrows(IllegalArgumentException.class, () -> BatchInfer.withModel(model).withGroupIntoBatches(2, Duration.ZERO));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void runInfoIsRequired() {
    PCollection<KV<String, FeatureVector>> in = input(vectors(1));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> in.apply(BatchInfer.<String>withModel(model)));
    assertThat(e.getMessage(), containsString("withRunInfo"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void probabilityOutputsGetALabelAndConfidence() {
    Map<String, String> meta = new HashMap<>();
    meta.put("classes", "low, high");
    dev.batchserve.models.ModelManifest m = dev.batchserve.models.ModelManifest.builder()
        .name("clf").version("2").inputFeatures(List.of("x")).outputKind(dev.batchserve.models.OutputKind.PROBABILITIES)
        .metadata(meta).build();
    Prediction pr = BatchInfer.toPrediction(new float[] {0.2f, 0.8f}, m, TestFixtures.RUN);
    assertThat(pr.getLabel(), is("high"));
    assertThat(pr.getConfidence(), equalTo((double) 0.8f));
    dev.batchserve.models.ModelManifest s = m.toBuilder().outputKind(dev.batchserve.models.OutputKind.SCORE)
        .metadata(Map.of("score", "probability")).build();
    assertThat(BatchInfer.toPrediction(new float[] {0.1f}, s, TestFixtures.RUN).getConfidence(), equalTo((double) 0.9f));
    dev.batchserve.models.ModelManifest regression = s.toBuilder().metadata(Map.of()).build();
    assertThat(BatchInfer.toPrediction(new float[] {0.1f}, regression, TestFixtures.RUN).getConfidence(),
        equalTo((Double) null));
    p.enableAbandonedNodeEnforcement(false);
  }
}
