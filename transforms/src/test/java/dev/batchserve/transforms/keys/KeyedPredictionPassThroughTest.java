package dev.batchserve.transforms.keys;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@link KeyedPrediction#withPassThroughColumns}: input columns that are no features travel to the results. */
public class KeyedPredictionPassThroughTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  /** The spec's a, b, c plus two columns the spec does not read. */
  private static final Schema SCHEMA = Schema.builder()
      .addNullableField("a", FieldType.STRING)
      .addNullableField("b", FieldType.STRING)
      .addNullableField("c", FieldType.STRING)
      .addNullableField("row_id", FieldType.INT64)
      .addNullableField("label", FieldType.STRING)
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

  private static KV<String, Row> row(String key, String a, String b, String c, Long rowId, String label) {
    return KV.of(key, Row.withSchema(SCHEMA).addValues(a, b, c, rowId, label).build());
  }

  private static Map<String, String> values(String rowId, String label) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("row_id", rowId);
    m.put("label", label);
    return m;
  }

  private static Prediction modelPrediction(float a, float b, float c, Map<String, String> passThrough) {
    return KeyedPredictionTest.modelPrediction(a, b, c).toBuilder().passThrough(passThrough).build();
  }

  private static Prediction fallback(String reason, Map<String, String> passThrough) {
    return KeyedPredictionTest.fallback(reason).toBuilder().passThrough(passThrough).build();
  }

  private KeyedPrediction<String> keyed() {
    return KeyedPrediction.<String>of(spec, model).withRunInfo(TestFixtures.RUN).withFallback(Fallback.constant(0.02f))
        .withPassThroughColumns("row_id", "label");
  }

  @Test
  public void eachResultCarriesItsOwnRecordsValuesFallbacksAndDeadLettersIncluded() {
    List<KV<String, Row>> rows = List.of(
        row("k0", "0", "0.5", "0", 100L, "fraud"),
        row("k1", "1", "0.5", "-1", 101L, null),
        row("k2", "2", "0.5", "-2", 102L, "ok"),
        row("k3", "3", "abc", "1", 103L, "suspect"),
        row("stray", "1", "1", "1", 104L, "unasked"));
    PCollection<String> expected = p.apply("Expected",
        Create.of(List.of("k0", "k1", "k2", "k3", "cold")).withCoder(StringUtf8Coder.of()));
    KeyedPrediction.Result<String> r =
        p.apply(Create.of(rows).withCoder(CODER)).apply(keyed().withExpectedKeys(expected));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(0, 0.5f, 0, values("100", "fraud"))),
        KV.of("k1", modelPrediction(1, 0.5f, -1, values("101", null))),
        KV.of("k2", modelPrediction(2, 0.5f, -2, values("102", "ok"))),
        // The record failed its features, but it is known: its fallback carries its values.
        KV.of("k3", fallback("features:unparsable:b", values("103", "suspect"))),
        // No record at all: nothing to carry.
        KV.of("cold", fallback("cold_start", Map.of())));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, DeadLetter> byKey = new java.util.TreeMap<>();
      dead.forEach(d -> byKey.put(d.getKey(), d));
      assertThat(byKey.keySet(), is(java.util.Set.of("k3", "stray")));
      DeadLetter d = byKey.get("k3");
      assertThat(d.getReason(), is("unparsable"));
      // The dead letter keeps the whole record, the pass-through columns with it.
      assertThat(d.getRecord(), containsString("\"row_id\":103"));
      assertThat(d.getRecord(), containsString("\"label\":\"suspect\""));
      // A key outside the expected set is known here only by its prediction, which shows its values.
      assertThat(byKey.get("stray").getReason(), is("unexpected_key"));
      assertThat(byKey.get("stray").getRecord(), containsString("\"pass_through\":{\"row_id\":\"104\",\"label\":\"unasked\"}"));
      return null;
    });
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(5, 5, 3, 2, 2));
    p.run().waitUntilFinish();
  }

  @Test
  public void lastWinsCarriesTheWinningRecordsValues() {
    List<TimestampedValue<KV<String, Row>>> rows = List.of(
        TimestampedValue.of(row("k0", "1", "1", "1", 1L, "first"), new Instant(1000)),
        TimestampedValue.of(row("k0", "2", "2", "2", 2L, "latest"), new Instant(3000)),
        TimestampedValue.of(row("k0", "3", "3", "3", 3L, "middle"), new Instant(2000)));
    KeyedPrediction.Result<String> r = p.apply(Create.timestamped(rows).withCoder(CODER))
        .apply(keyed().withDuplicateKeyPolicy(DuplicateKeyPolicy.LAST_WINS));
    PAssert.that(r.predictions()).containsInAnyOrder(KV.of("k0", modelPrediction(2, 2, 2, values("2", "latest"))));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<String> records = new ArrayList<>();
      dead.forEach(d -> records.add(d.getRecord()));
      assertThat(records.size(), is(2));
      assertThat(String.join("|", records), containsString("\"label\":\"first\""));
      assertThat(String.join("|", records), containsString("\"label\":\"middle\""));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void duplicatesUnderErrorGetAFallbackWithoutValues() {
    List<KV<String, Row>> rows = List.of(
        row("k0", "1", "1", "1", 1L, "one"), row("k0", "2", "2", "2", 2L, "two"), row("k1", "1", "0", "0", 5L, "x"));
    KeyedPrediction.Result<String> r = p.apply(Create.of(rows).withCoder(CODER)).apply(keyed());
    PAssert.that(r.predictions()).containsInAnyOrder(
        // Two records, neither scored: no single record's values to carry.
        KV.of("k0", fallback("duplicate_key", Map.of())),
        KV.of("k1", modelPrediction(1, 0, 0, values("5", "x"))));
    p.run().waitUntilFinish();
  }

  @Test
  public void aPreviousRunsValuesAreNeverServedAgain() {
    Prediction old = Prediction.builder().scores(new float[] {0.7f}).model("lin", "6")
        .predictionTimestampMillis(1_000L).runId("test-daily-20261127").passThrough(values("9", "old")).build();
    PCollection<KV<String, Prediction>> previous = p.apply("Previous",
        Create.of(KV.of("cold", old)).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    PCollection<String> expected = p.apply("Expected", Create.of(List.of("k0", "cold")).withCoder(StringUtf8Coder.of()));
    KeyedPrediction.Result<String> r = p.apply(Create.of(List.of(row("k0", "0", "0.5", "0", 7L, "now")))
        .withCoder(CODER)).apply(keyed().withExpectedKeys(expected).withPreviousPredictions(previous)
            .withFallback(Fallback.previousRun(Fallback.abstain())));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("k0", modelPrediction(0, 0.5f, 0, values("7", "now"))),
        KV.of("cold", old.toBuilder().runId(TestFixtures.RUN.runId()).fallbackReason("previous_run:cold_start")
            .passThrough(Map.of()).build()));
    p.run().waitUntilFinish();
  }

  @Test
  public void aColumnMissingFromTheInputFailsAtConstructionNamingTheColumns() {
    PCollection<KV<String, Row>> in = p.apply(Create.of(List.of(row("k0", "0", "0", "0", 1L, "a"))).withCoder(CODER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> in.apply(keyed().withPassThroughColumns("row_id", "region")));
    assertThat(e.getMessage(), containsString("pass-through column 'region' is not in the input rows"));
    assertThat(e.getMessage(), containsString("[a, b, c, row_id, label]"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void columnNamesAreValidated() {
    KeyedPrediction<String> k = KeyedPrediction.of(spec, model);
    assertThat(assertThrows(IllegalArgumentException.class, () -> k.withPassThroughColumns("row_id", " ")).getMessage(),
        containsString("pass-through columns must be non-empty names"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> k.withPassThroughColumns("row_id", "row_id"))
        .getMessage(), containsString("pass-through column 'row_id' is named twice"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
