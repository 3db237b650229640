package dev.batchserve.transforms.keys;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunCounts;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** {@link KeyedPrediction#fromPredictions()}: the join back applied to predictions made any way. */
public class FromPredictionsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final KvCoder<String, Prediction> CODER =
      KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of());

  static Prediction mine(float score) {
    return Prediction.builder().scores(new float[] {score}).model("mine", "3")
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).build();
  }

  static Prediction fallback(String reason) {
    return Prediction.builder().scores(new float[] {0.02f}).model("fallback-constant", "3")
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).fallbackReason(reason).build();
  }

  private static KeyedPrediction.FromPredictions<String> join() {
    return KeyedPrediction.<String>fromPredictions()
        .withRunInfo(TestFixtures.RUN)
        .withModelVersion("3")
        .withFallback(Fallback.constant(0.02f));
  }

  private static Map<String, String> reasonsByKey(Iterable<DeadLetter> dead) {
    Map<String, String> byKey = new TreeMap<>();
    dead.forEach(d -> byKey.merge(d.getKey(), d.getStep() + ":" + d.getReason(), (a, b) -> a + "," + b));
    return byKey;
  }

  @Test
  public void oneResultPerExpectedKeyWithColdStartDuplicateFailureAndUnexpectedKeys() {
    PCollection<KV<String, Prediction>> predictions = p.apply("Mine", Create.of(
        KV.of("a", mine(0.1f)), KV.of("b", mine(0.2f)), KV.of("dup", mine(0.3f)), KV.of("dup", mine(0.4f)),
        KV.of("stray", mine(0.5f))).withCoder(CODER));
    PCollection<DeadLetter> failures = p.apply("MyFailures", Create.of(
        DeadLetter.of("my_features", "bad", "{...}", "age", "negative", "age -3")).withCoder(DeadLetter.DeadLetterCoder.of()));
    PCollection<String> expected = p.apply("Expected",
        Create.of(List.of("a", "b", "dup", "bad", "cold")).withCoder(StringUtf8Coder.of()));

    KeyedPrediction.Result<String> r = predictions.apply(join().withDeadLetters(failures).withExpectedKeys(expected));

    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("a", mine(0.1f)),
        KV.of("b", mine(0.2f)),
        KV.of("dup", fallback("duplicate_key")),
        KV.of("bad", fallback("my_features:negative:age")),
        KV.of("cold", fallback("cold_start")));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      assertThat(reasonsByKey(dead), is(Map.of(
          "bad", "my_features:negative",
          "dup", "keys:duplicate_key,keys:duplicate_key",
          "stray", "keys:unexpected_key")));
      return null;
    });
    // Received: 5 predictions + 1 dead letter; 5 expected keys = 2 model predictions + 3 fallbacks.
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(6, 5, 2, 3, 4));
    p.run().waitUntilFinish();
  }

  @Test
  public void lastWinsServesTheLatestPredictionOfAKey() {
    PCollection<KV<String, Prediction>> predictions = p.apply(Create.timestamped(
        TimestampedValue.of(KV.of("k", mine(0.1f)), new Instant(10)),
        TimestampedValue.of(KV.of("k", mine(0.9f)), new Instant(30)),
        TimestampedValue.of(KV.of("k", mine(0.5f)), new Instant(20)),
        TimestampedValue.of(KV.of("other", mine(0.7f)), new Instant(5))).withCoder(CODER));

    KeyedPrediction.Result<String> r =
        predictions.apply(join().withDuplicateKeyPolicy(DuplicateKeyPolicy.LAST_WINS));

    PAssert.that(r.predictions()).containsInAnyOrder(KV.of("k", mine(0.9f)), KV.of("other", mine(0.7f)));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      assertThat(reasonsByKey(dead), is(Map.of("k", "keys:duplicate_key_superseded,keys:duplicate_key_superseded")));
      return null;
    });
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(4, 2, 2, 0, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void withoutExpectedKeysTheKeysOfPredictionsAndKeyedDeadLettersAreExpected() {
    PCollection<KV<String, Prediction>> predictions =
        p.apply("Mine", Create.of(KV.of("a", mine(0.1f))).withCoder(CODER));
    PCollection<DeadLetter> failures = p.apply("MyFailures", Create.of(
        DeadLetter.of("my_model", "b", "{...}", null, "nan_score", "NaN"),
        DeadLetter.of("my_reader", null, "garbage", null, "unparsable", "no key")).withCoder(DeadLetter.DeadLetterCoder.of()));

    KeyedPrediction.Result<String> r = predictions.apply(join().withDeadLetters(failures));

    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("a", mine(0.1f)), KV.of("b", fallback("my_model:nan_score")));
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(3, 2, 1, 1, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void inputRecordsAreCountedAndARecordThatVanishedFailsTheRun() {
    // Three records, but the user's step scored two and reported no dead letter for the third.
    PCollection<KV<String, String>> records = p.apply("Records",
        Create.of(KV.of("a", "1"), KV.of("b", "2"), KV.of("c", "3"))
            .withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())));
    PCollection<KV<String, Prediction>> predictions =
        p.apply("Mine", Create.of(KV.of("a", mine(0.1f)), KV.of("b", mine(0.2f))).withCoder(CODER));

    predictions.apply(join().withInputRecords(records));

    PipelineExecutionException e = assertThrows(PipelineExecutionException.class, () -> p.run().waitUntilFinish());
    assertThat(e.getMessage(), containsString("completeness invariant violated"));
    assertThat(e.getMessage(), containsString("input records 3 != predictions 2 + dead letters 0"));
  }

  @Test
  public void inputRecordsGiveColdStartVersusNoPrediction() {
    PCollection<KV<String, String>> records = p.apply("Records",
        Create.of(KV.of("a", "1"), KV.of("b", "2"))
            .withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())));
    PCollection<DeadLetter> failures = p.apply("MyFailures", Create.of(
        DeadLetter.of("my_model", "b", "2", null, "timeout", "slow")).withCoder(DeadLetter.DeadLetterCoder.of()));
    PCollection<String> expected = p.apply("Expected",
        Create.of(List.of("a", "b", "new")).withCoder(StringUtf8Coder.of()));
    PCollection<KV<String, Prediction>> predictions =
        p.apply("Mine", Create.of(KV.of("a", mine(0.1f))).withCoder(CODER));

    KeyedPrediction.Result<String> r = predictions.apply(
        join().withInputRecords(records).withDeadLetters(failures).withExpectedKeys(expected));

    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("a", mine(0.1f)), KV.of("b", fallback("my_model:timeout")), KV.of("new", fallback("cold_start")));
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(2, 3, 1, 2, 1));
    p.run().waitUntilFinish();
  }

  @Test
  public void nonStringKeysWithDeadLettersNeedExpectedKeys() {
    PCollection<KV<Long, Prediction>> predictions = p.apply("Mine",
        Create.of(KV.of(1L, mine(0.1f))).withCoder(KvCoder.of(VarLongCoder.of(), Prediction.PredictionCoder.of())));
    PCollection<DeadLetter> failures = p.apply("MyFailures",
        Create.empty(DeadLetter.DeadLetterCoder.of()));

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> predictions.apply(
        KeyedPrediction.<Long>fromPredictions().withRunInfo(TestFixtures.RUN).withDeadLetters(failures)));
    assertThat(e.getMessage(), containsString("pass withExpectedKeys(keys)"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void settingsAreValidated() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> KeyedPrediction.<String>fromPredictions().withJoinBuckets(0)).getMessage(),
        containsString("joinBuckets must be in [1, 1000000], but was 0"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> KeyedPrediction.<String>fromPredictions().withModelVersion("")).getMessage(),
        containsString("modelVersion must be set"));
    PCollection<KV<String, Prediction>> predictions =
        p.apply(Create.of(KV.of("a", mine(0.1f))).withCoder(CODER));
    assertThat(assertThrows(IllegalStateException.class,
        () -> predictions.apply(KeyedPrediction.<String>fromPredictions())).getMessage(),
        containsString("needs withRunInfo(run)"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
