package dev.batchserve.transforms.keys;

import dev.batchserve.transforms.ingest.ReadRecords;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunCounts;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class KeyedPredictionTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  static final Schema SCHEMA = Schema.builder()
      .addNullableField("a", FieldType.STRING)
      .addNullableField("b", FieldType.STRING)
      .addNullableField("c", FieldType.STRING)
      .build();
  private static final KvCoder<String, Row> CODER = KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA));

  private static FeatureSpec spec;
  private static String model;

  @BeforeClass
  public static void setUp() throws Exception {
    spec = TestFixtures.passthroughSpec(List.of(
        Map.of("a", 1.0, "b", 2.0, "c", 3.0), Map.of("a", -1.0, "b", 0.0, "c", 5.0)));
    model = TestFixtures.linearModel(TMP.newFolder("lin").toPath(), spec.outputNames());
  }

  static KV<String, Row> row(String key, String a, String b, String c) {
    return KV.of(key, Row.withSchema(SCHEMA).addValues(a, b, c).build());
  }

  static Prediction modelPrediction(float a, float b, float c) {
    return Prediction.builder().scores(new float[] {TestFixtures.linearScore(a, b, c)}).model("lin", "7")
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).build();
  }

  static Prediction fallback(String reason) {
    return Prediction.builder().scores(new float[] {0.02f}).model("fallback-constant", "7")
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).fallbackReason(reason).build();
  }

  private KeyedPrediction<String> keyed() {
    return KeyedPrediction.<String>of(spec, model).withRunInfo(TestFixtures.RUN).withFallback(Fallback.constant(0.02f));
  }

  private static List<KV<String, Row>> validRows(int n) {
    List<KV<String, Row>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(row("k" + i, Integer.toString(i), "0.5", Integer.toString(-i)));
    }
    return rows;
  }

  private static List<KV<String, Prediction>> expectedValid(int n) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of("k" + i, modelPrediction(i, 0.5f, -i)));
    }
    return out;
  }

  @Test
  public void everyKeyExactlyOnceWithTheModelScoreAndTheInvariant() {
    KeyedPrediction.Result<String> r = p.apply(Create.of(validRows(200)).withCoder(CODER)).apply(keyed());
    PAssert.that(r.predictions()).containsInAnyOrder(expectedValid(200));
    PAssert.that(r.deadLetters()).empty();
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(200, 200, 200, 0, 0));
    p.run().waitUntilFinish();
  }

  @Test
  public void shufflingTheInputChangesNothing() {
    List<KV<String, Row>> rows = validRows(300);
    List<KV<String, Row>> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(3));
    KeyedPrediction.Result<String> a = p.apply("Ordered", Create.of(rows).withCoder(CODER)).apply("KeyedA", keyed());
    KeyedPrediction.Result<String> b = p.apply("Shuffled", Create.of(shuffled).withCoder(CODER)).apply("KeyedB", keyed());
    PAssert.that(a.predictions()).containsInAnyOrder(expectedValid(300));
    PAssert.that(b.predictions()).containsInAnyOrder(expectedValid(300));
    p.run().waitUntilFinish();
  }

  @Test
  public void invalidColdStartAndUnexpectedKeysAreAccountedFor() {
    List<KV<String, Row>> rows = validRows(5);
    rows.set(3, row("k3", "3", "abc", "1"));
    rows.add(row("stray", "1", "1", "1"));
    PCollection<String> expected = p.apply("Expected",
        Create.of(List.of("k0", "k1", "k2", "k3", "k4", "cold")).withCoder(StringUtf8Coder.of()));
    KeyedPrediction.Result<String> r =
        p.apply(Create.of(rows).withCoder(CODER)).apply(keyed().withExpectedKeys(expected));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(0, 0.5f, 0)),
        KV.of("k1", modelPrediction(1, 0.5f, -1)),
        KV.of("k2", modelPrediction(2, 0.5f, -2)),
        KV.of("k4", modelPrediction(4, 0.5f, -4)),
        KV.of("k3", fallback("features:unparsable:b")),
        KV.of("cold", fallback("cold_start")));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> byKey = new TreeMap<>();
      dead.forEach(d -> byKey.put(d.getKey(), d.getStep() + ":" + d.getReason()));
      assertThat(byKey, is(Map.of("k3", "features:unparsable", "stray", "keys:unexpected_key")));
      return null;
    });
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(6, 6, 4, 2, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void duplicateKeysUnderErrorPolicyGoToDeadLettersAndFallback() {
    List<KV<String, Row>> rows = validRows(3);
    rows.add(row("k1", "9", "9", "9"));
    KeyedPrediction.Result<String> r = p.apply(Create.of(rows).withCoder(CODER)).apply(keyed());
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(0, 0.5f, 0)),
        KV.of("k1", fallback("duplicate_key")),
        KV.of("k2", modelPrediction(2, 0.5f, -2)));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      int n = 0;
      for (DeadLetter d : dead) {
        assertThat(d.getKey(), is("k1"));
        assertThat(d.getReason(), is("duplicate_key"));
        n++;
      }
      assertThat(n, is(2));
      return null;
    });
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(4, 3, 2, 1, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void duplicateKeysUnderLastWinsKeepTheLatestRecord() {
    List<TimestampedValue<KV<String, Row>>> rows = new ArrayList<>();
    rows.add(TimestampedValue.of(row("k0", "1", "1", "1"), new Instant(1000)));
    rows.add(TimestampedValue.of(row("k0", "2", "2", "2"), new Instant(3000)));
    rows.add(TimestampedValue.of(row("k0", "3", "3", "3"), new Instant(2000)));
    rows.add(TimestampedValue.of(row("k1", "1", "0", "0"), new Instant(1000)));
    KeyedPrediction.Result<String> r = p.apply(Create.timestamped(rows).withCoder(CODER))
        .apply(keyed().withDuplicateKeyPolicy(DuplicateKeyPolicy.LAST_WINS));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(2, 2, 2)), KV.of("k1", modelPrediction(1, 0, 0)));
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(4, 2, 2, 0, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void previousRunFallbackServesTheOldPredictionWithItsReason() {
    Prediction old = Prediction.builder().scores(new float[] {0.7f}).model("lin", "6")
        .predictionTimestampMillis(1_000L).runId("test-daily-20261127").build();
    PCollection<KV<String, Prediction>> previous = p.apply("Previous",
        Create.of(KV.of("cold", old)).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    PCollection<String> expected = p.apply("Expected", Create.of(List.of("k0", "cold")).withCoder(StringUtf8Coder.of()));
    KeyedPrediction.Result<String> r = p.apply(Create.of(validRows(1)).withCoder(CODER)).apply(
        keyed().withExpectedKeys(expected).withPreviousPredictions(previous)
            .withFallback(Fallback.previousRun(Fallback.abstain())));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(0, 0.5f, 0)),
        KV.of("cold", old.toBuilder().runId(TestFixtures.RUN.runId()).fallbackReason("previous_run:cold_start").build()));
    p.run().waitUntilFinish();
  }

  @Test
  public void aViolatedInvariantFailsTheRunWithTheCounts() {
    // 10 input records and expected keys, but only 9 results and no dead letters: one record was lost.
    PCollectionView<long[]> ledger = p.apply("Ledger", Create.of(
            KV.of(RunLedger.Ledger.INPUT, 10L), KV.of(RunLedger.Ledger.EXPECTED, 10L),
            KV.of(RunLedger.Ledger.RESULTS, 9L))
        .withCoder(KvCoder.of(VarIntCoder.of(), VarLongCoder.of())))
        .apply("RunLedger", Combine.globally(new RunLedger.Ledger()).asSingletonView());
    p.apply(Create.of(0).withCoder(VarIntCoder.of()))
        .apply(ParDo.of(new RunLedger.CompletenessFn(ledger)).withSideInputs(ledger));
    PipelineExecutionException e = assertThrows(PipelineExecutionException.class, () -> p.run().waitUntilFinish());
    assertThat(e.getCause().getMessage(), containsString(
        "completeness invariant violated: input records 10 != predictions 9 + dead letters 0 (+1)"));
  }

  @Test
  public void aSpecThatDisagreesWithTheModelFailsAtConstruction() throws Exception {
    String other = TestFixtures.linearModel(TMP.newFolder("other").toPath(), List.of("a", "c", "b"));
    PCollection<KV<String, Row>> in = p.apply(Create.of(validRows(1)).withCoder(CODER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> in.apply(KeyedPrediction.<String>of(spec, other).withRunInfo(TestFixtures.RUN)));
    assertThat(e.getMessage(), containsString("position 1"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void aChallengerIsScoredAndComparedButNotServed() throws Exception {
    java.nio.file.Path dir = TMP.newFolder("challenger").toPath();
    dev.batchserve.models.training.LinearExporter.export(
        new dev.batchserve.models.linear.LinearModelFile(new float[][] {{1f, 2f, -1f}}, new float[] {0.6f}, "identity"),
        dir, dev.batchserve.models.ModelManifest.builder().name("lin-next").version("8")
            .inputFeatures(spec.outputNames()).build());
    List<KV<String, Row>> rows = validRows(10);
    rows.add(row("edge", "0", "0", "0.05")); // champion 0.45, challenger 0.55: the decisions differ
    KeyedPrediction.Result<String> r = p.apply(Create.of(rows).withCoder(CODER))
        .apply(keyed().withChallenger(dir.toString()));
    List<KV<String, Prediction>> served = new ArrayList<>(expectedValid(10));
    served.add(KV.of("edge", modelPrediction(0, 0, 0.05f)));
    PAssert.that(r.predictions()).containsInAnyOrder(served);
    PAssert.that(r.challengerDeadLetters()).empty();
    PAssert.that(r.challengerAgreement()).satisfies(all -> {
      dev.batchserve.transforms.compare.ModelAgreement a = all.iterator().next();
      assertThat(a.getCompared(), is(11L));
      assertThat(a.getAgreeing(), is(10L));
      assertThat(a.getChampionOnly(), is(0L));
      assertThat(a.getChallengerOnly(), is(0L));
      assertThat(a.meanAbsDiff(), org.hamcrest.Matchers.closeTo(0.1, 1e-6));
      assertThat(a.getMaxAbsDiff(), org.hamcrest.Matchers.closeTo(0.1, 1e-6));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void settingsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> KeyedPrediction.of(spec, model).withMaxBatchSize(0));
    assertThrows(IllegalArgumentException.class, () -> KeyedPrediction.of(spec, model).withJoinBuckets(0));
    assertThrows(IllegalArgumentException.class, () -> KeyedPrediction.of(spec, ""));
    p.enableAbandonedNodeEnforcement(false);
  }

  private static String csvFiles(String prefix, String... contents) throws Exception {
    java.nio.file.Path dir = TMP.newFolder(prefix).toPath();
    for (int i = 0; i < contents.length; i++) {
      java.nio.file.Files.writeString(dir.resolve("part-" + i + ".csv"), contents[i]);
    }
    return dir + "/part-*.csv";
  }

  /**
   * Issue 15 item 12: last_wins kept the first record of the file (every record had the same
   * timestamp, and ties went by the prediction's bytes). The last record by position wins: the later
   * file in path order, and within a file the later line.
   */
  @Test
  public void lastWinsKeepsTheRecordAtTheLatestPosition() throws Exception {
    String input = csvFiles("lastwins", "id,a,b,c\nk0,9,9,9\nk1,1,0,0\nk0,1,1,1\nk2,5,5,5\nk2,4,4,4\n",
        "id,c,b,a\nk0,2,2,2\nk1,0,0,-3\n");
    ReadRecords.Result in = p.apply(ReadRecords.csv(input).withKeyColumns("id"));
    KeyedPrediction.Result<String> r = in.records()
        .apply(keyed().withDuplicateKeyPolicy(DuplicateKeyPolicy.LAST_WINS));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(2, 2, 2)), KV.of("k1", modelPrediction(-3, 0, 0)),
        KV.of("k2", modelPrediction(4, 4, 4)));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<String> records = new ArrayList<>();
      for (DeadLetter d : dead) {
        assertThat(d.getReason(), is("duplicate_key_superseded"));
        records.add(d.getKey() + ":" + d.getRecord());
      }
      Collections.sort(records);
      // The dead letters carry the input records, not the predictions.
      assertThat(records, is(List.of("k0:{\"id\":\"k0\",\"a\":\"1\",\"b\":\"1\",\"c\":\"1\"}",
          "k0:{\"id\":\"k0\",\"a\":\"9\",\"b\":\"9\",\"c\":\"9\"}", "k1:{\"id\":\"k1\",\"a\":\"1\",\"b\":\"0\",\"c\":\"0\"}",
          "k2:{\"id\":\"k2\",\"a\":\"5\",\"b\":\"5\",\"c\":\"5\"}")));
      return null;
    });
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(7, 3, 3, 0, 4));
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 17: a duplicate-key dead letter carried Prediction{...}, not the input record. */
  @Test
  public void duplicateKeyDeadLettersCarryTheInputRecord() {
    List<KV<String, Row>> rows = validRows(2);
    rows.add(row("k1", "9", "8", "7"));
    KeyedPrediction.Result<String> r = p.apply(Create.of(rows).withCoder(CODER)).apply(keyed());
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<String> records = new ArrayList<>();
      for (DeadLetter d : dead) {
        records.add(d.getRecord());
        assertThat(d.getDetail(), is("2 input records share this key (--duplicateKeys=error scores none of them)"));
      }
      Collections.sort(records);
      assertThat(records, is(List.of("{\"a\":\"1\",\"b\":\"0.5\",\"c\":\"-1\"}", "{\"a\":\"9\",\"b\":\"8\",\"c\":\"7\"}")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /**
   * Issue 15 item 16: a record with the wrong column count was a dead letter with a null key, and its
   * key got no row at all; now the key gets its fallback with the read reason.
   */
  @Test
  public void aKeyWhoseRecordCouldNotBeReadGetsItsFallback() throws Exception {
    String input = csvFiles("unread", "id,a,b,c\nk0,1,1,1\nk9,1,1\n");
    ReadRecords.Result in = p.apply(ReadRecords.csv(input).withKeyColumns("id"));
    KeyedPrediction.Result<String> r = in.records().apply(keyed().withReadFailures(in.deadLetters()));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(1, 1, 1)), KV.of("k9", fallback("read:wrong_column_count")));
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(1, 2, 1, 1, 0));
    p.run().waitUntilFinish();
  }
}
