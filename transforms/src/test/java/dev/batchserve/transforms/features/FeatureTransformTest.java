package dev.batchserve.transforms.features;

import static dev.batchserve.transforms.features.FeatureSpecTest.row;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.values.DeadLetter;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.Keys;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** The pipeline path: parity with the plain-Java path, dead letters, skips, accounting, metrics. */
@RunWith(JUnit4.class)
public class FeatureTransformTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private static final Schema SCHEMA =
      Schema.builder()
          .addNullableField("amount", Schema.FieldType.DOUBLE)
          .addNullableField("n", Schema.FieldType.INT64)
          .addNullableField("country", Schema.FieldType.STRING)
          .addNullableField("opt", Schema.FieldType.DOUBLE)
          .addNullableField("extra", Schema.FieldType.STRING)
          .build();

  static FeatureSpec spec() {
    FeatureSpec template =
        FeatureSpec.builder()
            .numeric("amount").range(0, 1000).log1p().zscore()
            .integer("n").range(0, 100).onInvalid(InvalidPolicy.SKIP).passthrough()
            .categorical("country").oneHot(1).onInvalid(InvalidPolicy.KEEP)
            .numeric("opt").optional().imputeMean().withMissingIndicator().passthrough()
            .build();
    List<Map<String, Object>> training = new ArrayList<>();
    training.add(row("amount", 10.0, "n", 1L, "country", "DE", "opt", 1.0));
    training.add(row("amount", 200.0, "n", 5L, "country", "FR", "opt", 3.0));
    training.add(row("amount", 35.5, "n", 7L, "country", "DE", "opt", null));
    return FeatureSpec.fit(template, training);
  }

  private static Row r(Double amount, Long n, String country, Double opt) {
    return Row.withSchema(SCHEMA).addValues(amount, n, country, opt, "ignored").build();
  }

  private PCollection<KV<String, Row>> input(List<KV<String, Row>> rows) {
    return p.apply(Create.of(rows).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
  }

  private static List<KV<String, Row>> mixedRows() {
    List<KV<String, Row>> rows = new ArrayList<>();
    rows.add(KV.of("k1", r(12.0, 3L, "DE", 2.0)));
    rows.add(KV.of("k2", r(0.0, 0L, "JP", null))); // unknown category kept (OOV), opt imputed
    rows.add(KV.of("k3", r(5000.0, 3L, "DE", 1.0))); // out of range: dead letter
    rows.add(KV.of("k4", r(12.0, 500L, "FR", 1.0))); // n out of range under skip: skipped
    rows.add(KV.of("k5", r(null, 3L, "DE", 1.0))); // missing required: dead letter
    rows.add(KV.of("k6", r(999.0, 100L, "FR", 0.0)));
    return rows;
  }

  private static PCollection<String> describe(String name, PCollection<DeadLetter> letters) {
    return letters.apply(
        name,
        MapElements.into(TypeDescriptors.strings())
            .via(d -> d.getStep() + "|" + d.getKey() + "|" + d.getField() + "|" + d.getReason()));
  }

  @Test
  public void vectorsAreBitIdenticalToThePlainJavaPath() {
    FeatureSpec spec = spec();
    // The "training code" side: plain maps through FeatureSpec.transform, no Beam involved.
    Map<String, Map<String, Object>> asTraining = new HashMap<>();
    asTraining.put("k1", row("amount", 12.0, "n", 3L, "country", "DE", "opt", 2.0));
    asTraining.put("k2", row("amount", 0.0, "n", 0L, "country", "JP", "opt", null));
    asTraining.put("k6", row("amount", 999.0, "n", 100L, "country", "FR", "opt", 0.0));
    List<KV<String, FeatureVector>> expected = new ArrayList<>();
    for (Map.Entry<String, Map<String, Object>> e : asTraining.entrySet()) {
      expected.add(KV.of(e.getKey(), FeatureVector.of(spec.transform(e.getValue()).vector())));
    }

    FeatureTransform.Result<String> result =
        input(mixedRows()).apply(FeatureTransform.<String>of(spec).withModelFeatures(spec.outputNames()));

    PAssert.that(result.vectors()).containsInAnyOrder(expected);
    PAssert.that(describe("DescribeDead", result.deadLetters()))
        .containsInAnyOrder("features|k3|amount|out_of_range", "features|k5|amount|missing_required");
    PAssert.that(describe("DescribeSkipped", result.skipped())).containsInAnyOrder("features|k4|n|out_of_range");
    p.run().waitUntilFinish();
  }

  @Test
  public void goldenVectorsForKnownInputs() {
    FeatureSpec spec = spec();
    Step z = spec.feature("amount").transforms().get(1);
    float amountZ = (float) ((Math.log1p(12.0) - z.mean()) / z.std());
    float[] k1 = {amountZ, 3f, 1f, 0f, 0f, 2f, 0f};
    float[] k2 = {(float) ((0.0 - z.mean()) / z.std()), 0f, 0f, 0f, 1f, 2f, 1f}; // JP -> oov0, opt -> mean 2
    PCollection<KV<String, Row>> in =
        input(List.of(KV.of("k1", r(12.0, 3L, "DE", 2.0)), KV.of("k2", r(0.0, 0L, "JP", null))));
    FeatureTransform.Result<String> result = in.apply(FeatureTransform.of(spec));
    PAssert.that(result.vectors())
        .containsInAnyOrder(KV.of("k1", FeatureVector.of(k1)), KV.of("k2", FeatureVector.of(k2)));
    PAssert.that(result.deadLetters()).empty();
    PAssert.that(result.skipped()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void everyInputIsAccountedFor() {
    PCollection<KV<String, Row>> in = input(mixedRows());
    FeatureTransform.Result<String> result = in.apply(FeatureTransform.of(spec()));
    PAssert.thatSingleton(result.vectors().apply("CountVectors", Count.globally())).isEqualTo(3L);
    PAssert.thatSingleton(result.deadLetters().apply("CountDead", Count.globally())).isEqualTo(2L);
    PAssert.thatSingleton(result.skipped().apply("CountSkipped", Count.globally())).isEqualTo(1L);
    PCollection<String> outKeys =
        PCollectionList.of(result.vectors().apply(Keys.create()))
            .and(result.deadLetters().apply("DeadKeys", MapElements.into(TypeDescriptors.strings()).via(DeadLetter::getKey)))
            .and(result.skipped().apply("SkippedKeys", MapElements.into(TypeDescriptors.strings()).via(DeadLetter::getKey)))
            .apply(Flatten.pCollections());
    PAssert.thatSingleton(outKeys.apply("CountOut", Count.globally()))
        .isEqualTo(6L);
    PAssert.thatSingleton(in.apply("CountIn", Count.globally())).isEqualTo(6L);
    PAssert.that(outKeys).containsInAnyOrder("k1", "k2", "k3", "k4", "k5", "k6");
    p.run().waitUntilFinish();
  }

  @Test
  public void deadLetterCarriesTheRecord() {
    Row bad = r(5000.0, 3L, "DE", 1.0);
    FeatureTransform.Result<String> result =
        input(List.of(KV.of("k3", bad))).apply(FeatureTransform.of(spec()));
    PAssert.that(result.deadLetters())
        .containsInAnyOrder(DeadLetter.of("features", "k3",
            "{\"amount\":5000.0,\"n\":3,\"country\":\"DE\",\"opt\":1.0,\"extra\":\"ignored\"}", "amount", "out_of_range",
            "amount must be <= 1000.0, but was 5000.0"));
    PAssert.that(result.vectors()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void anInputSchemaWithoutARequiredColumnIsRefusedNamingItWhileOptionalOnesMayBeAbsent() {
    Schema noCountryNoOpt =
        Schema.builder()
            .addNullableField("amount", Schema.FieldType.DOUBLE)
            .addNullableField("n", Schema.FieldType.INT64)
            .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FeatureTransform.checkRequiredColumns(spec(), noCountryNoOpt, "in.csv"));
    assertThat(e.getMessage(), containsString("the input in.csv has no column country, which the feature spec requires"));
    assertThat(e.getMessage(), containsString("make the feature optional"));
    Schema noOpt = Schema.builder()
        .addNullableField("amount", Schema.FieldType.DOUBLE)
        .addNullableField("n", Schema.FieldType.INT64)
        .addNullableField("country", Schema.FieldType.STRING)
        .build();
    FeatureTransform.checkRequiredColumns(spec(), noOpt, "in.csv"); // "opt" is imputed: may be absent
  }

  @Test
  public void columnMissingFromSchemaIsMissingRequired() {
    // "country" has a keep policy, but a required feature that is absent is never kept.
    Schema noCountry =
        Schema.builder()
            .addNullableField("amount", Schema.FieldType.DOUBLE)
            .addNullableField("n", Schema.FieldType.INT64)
            .build();
    PCollection<KV<String, Row>> in =
        p.apply(
            Create.of(KV.of("a", Row.withSchema(noCountry).addValues(1.0, 2L).build()))
                .withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(noCountry))));
    FeatureTransform.Result<String> result = in.apply(FeatureTransform.of(spec()));
    PAssert.that(describe("DescribeDead", result.deadLetters()))
        .containsInAnyOrder("features|a|country|missing_required");
    PAssert.that(result.vectors()).empty();
    PAssert.that(result.skipped()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void metricsCountOutcomesReasonsAndNulls() {
    FeatureTransform.Result<String> result = input(mixedRows()).apply(FeatureTransform.of(spec()));
    PAssert.thatSingleton(result.vectors().apply(Count.globally())).isEqualTo(3L);
    PipelineResult run = p.run();
    run.waitUntilFinish();
    MetricQueryResults metrics =
        run.metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.inNamespace(FeatureTransform.NAMESPACE))
                    .build());
    Map<String, Long> counters = new HashMap<>();
    for (MetricResult<Long> c : metrics.getCounters()) {
      counters.merge(c.getName().getName(), c.getAttempted(), Long::sum);
    }
    Map<String, Long> expected = new HashMap<>();
    expected.put("records_validated", 6L);
    expected.put("records_valid", 3L);
    expected.put("records_skipped", 1L);
    expected.put("skipped_out_of_range", 1L);
    expected.put("invalid_out_of_range", 1L);
    expected.put("invalid_missing_required", 1L);
    expected.put("null_amount", 1L);
    expected.put("null_opt", 1L);
    assertThat(counters, equalTo(expected));
  }

  @Test
  public void keyCoderComesFromTheInput() {
    FeatureSpec spec = spec();
    Row ok = r(12.0, 3L, "DE", 2.0);
    PCollection<KV<Long, Row>> in =
        p.apply(
            Create.of(KV.of(7L, ok))
                .withCoder(KvCoder.of(org.apache.beam.sdk.coders.VarLongCoder.of(), RowCoder.of(SCHEMA))));
    FeatureTransform.Result<Long> result = in.apply(FeatureTransform.of(spec));
    assertThat(
        result.vectors().getCoder(),
        equalTo(KvCoder.of(org.apache.beam.sdk.coders.VarLongCoder.of(), FeatureVector.FeatureVectorCoder.of())));
    assertThat(result.deadLetters().getCoder(), equalTo(DeadLetter.DeadLetterCoder.of()));
    PAssert.that(result.vectors())
        .containsInAnyOrder(KV.of(7L, FeatureVector.of(spec.transform(FeatureTransform.asMap(ok)).vector())));
    PAssert.that(result.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void modelLayoutMismatchFailsAtConstruction() {
    p.enableAbandonedNodeEnforcement(false);
    FeatureSpec spec = spec();
    List<String> model = new ArrayList<>(spec.outputNames());
    model.set(0, "amount_log");
    PCollection<KV<String, Row>> in = input(mixedRows());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> in.apply(FeatureTransform.<String>of(spec).withModelFeatures(model)));
    assertThat(
        e.getMessage(),
        is("feature layout differs from the model at position 0: spec has 'amount_log1p_z',"
            + " model expects 'amount_log'"));
  }

  @Test
  public void unfittedSpecIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> FeatureTransform.of(FeatureSpec.builder().numeric("x").zscore().build()));
    assertThat(e.getMessage(), containsString("needs a fitted FeatureSpec"));
  }

  @Test
  public void fromSpecReadsTheSavedSpec() throws Exception {
    FeatureSpec spec = spec();
    File file = new File(tmp.getRoot(), "feature_spec.json");
    spec.write(file.getAbsolutePath());
    FeatureTransform<String> t = FeatureTransform.fromSpec(file.getAbsolutePath());
    assertThat(t.spec(), equalTo(spec));
    Row ok = r(12.0, 3L, "DE", 2.0);
    FeatureTransform.Result<String> result = input(List.of(KV.of("k1", ok))).apply(t);
    PAssert.that(result.vectors())
        .containsInAnyOrder(
            KV.of("k1", FeatureVector.of(spec.transform(FeatureTransform.asMap(ok)).vector())));
    p.run().waitUntilFinish();
  }
}
