package dev.batchserve.transforms.features;

import static dev.batchserve.transforms.features.FeatureSpecTest.row;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** The Beam fit must agree with {@link FeatureSpec#fit} on the same rows. */
@RunWith(JUnit4.class)
public class AnalyzeFeaturesTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private static final Schema RICH =
      Schema.builder()
          .addNullableField("amount", Schema.FieldType.DOUBLE)
          .addNullableField("age", Schema.FieldType.INT64)
          .addNullableField("country", Schema.FieldType.STRING)
          .addNullableField("device", Schema.FieldType.STRING)
          .addNullableField("mobile", Schema.FieldType.BOOLEAN)
          .addNullableField("ts", Schema.FieldType.DATETIME)
          .addNullableField("score", Schema.FieldType.DOUBLE)
          .addNullableField("emb", Schema.FieldType.array(Schema.FieldType.DOUBLE))
          .build();

  private static List<Row> richRows() {
    List<Row> rows = new ArrayList<>();
    for (Map<String, Object> m : FeatureSpecTest.richRows()) {
      rows.add(
          Row.withSchema(RICH)
              .addValues(
                  m.get("amount"), m.get("age"), m.get("country"), m.get("device"), m.get("mobile"),
                  new org.joda.time.Instant((Long) m.get("ts")), m.get("score"), m.get("emb"))
              .build());
    }
    return rows;
  }

  /** Within 1e-9, relative to the magnitude (timestamps' means are ~1e12). */
  private static void assertNear(String what, Double expected, Double actual) {
    if (expected == null) {
      assertThat(what, actual, nullValue());
      return;
    }
    assertThat(what, actual, closeTo(expected, 1e-9 * Math.max(1.0, Math.abs(expected))));
  }

  /**
   * Exact for counts, vocabularies, min/max, histograms and layout; mean/std within 1e-9. Then the
   * two specs must produce the same vectors.
   */
  static void assertSameFit(FeatureSpec expected, FeatureSpec actual) {
    assertThat(actual.isFitted(), is(true));
    assertThat(actual.outputNames(), equalTo(expected.outputNames()));
    for (Feature e : expected.features()) {
      Feature a = actual.feature(e.name());
      String n = e.name() + ": ";
      assertThat(n + "count", a.stats().count(), is(e.stats().count()));
      assertThat(n + "nullCount", a.stats().nullCount(), is(e.stats().nullCount()));
      assertThat(n + "invalidCount", a.stats().invalidCount(), is(e.stats().invalidCount()));
      assertThat(n + "nullRate", a.stats().nullRate(), is(e.stats().nullRate()));
      assertThat(n + "min", a.stats().min(), is(e.stats().min()));
      assertThat(n + "max", a.stats().max(), is(e.stats().max()));
      assertNear(n + "mean", e.stats().mean(), a.stats().mean());
      assertNear(n + "std", e.stats().std(), a.stats().std());
      assertThat(n + "mode", a.stats().mode(), is(e.stats().mode()));
      assertThat(n + "vocabulary", a.vocabulary(), is(e.vocabulary()));
      assertThat(n + "vocabularyCounts", a.stats().vocabularyCounts(), is(e.stats().vocabularyCounts()));
      if (e.stats().histogram() != null) {
        assertThat(n + "edges", a.stats().histogram().edges(), is(e.stats().histogram().edges()));
        assertThat(n + "counts", a.stats().histogram().counts(), is(e.stats().histogram().counts()));
      }
      for (int i = 0; i < e.transforms().size(); i++) {
        Step es = e.transforms().get(i);
        Step as = a.transforms().get(i);
        assertNear(n + "step mean", es.mean(), as.mean());
        assertNear(n + "step std", es.std(), as.std());
        assertThat(n + "step min", as.min(), is(es.min()));
        assertThat(n + "step max", as.max(), is(es.max()));
      }
    }
  }

  @Test
  public void matchesPlainJavaFitOnEveryTransformKind() {
    FeatureSpec expected = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    PCollection<FeatureSpec> fitted =
        p.apply(Create.of(richRows()).withCoder(RowCoder.of(RICH)))
            .apply(AnalyzeFeatures.of(FeatureSpecTest.richTemplate()));
    String expectedJson = expected.toJson();
    PAssert.thatSingleton(fitted)
        .satisfies(
            actual -> {
              FeatureSpec want = FeatureSpec.fromJson(expectedJson);
              assertSameFit(want, actual);
              // Small data: medians, quantile boundaries and imputation values are exact too.
              assertThat(actual.feature("age").stats().median(), is(want.feature("age").stats().median()));
              assertThat(actual.feature("score").transforms().get(0).boundaries(),
                  is(want.feature("score").transforms().get(0).boundaries()));
              assertThat(actual.feature("age").imputation().value(), is(want.feature("age").imputation().value()));
              for (Map<String, Object> r : FeatureSpecTest.richRows()) {
                assertThat(actual.transform(r).vector(), equalTo(want.transform(r).vector()));
              }
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  public void fittedSpecIsWrittenAndReadBack() {
    File file = new File(tmp.getRoot(), "spec.json");
    String path = file.getAbsolutePath();
    p.apply(Create.of(richRows()).withCoder(RowCoder.of(RICH)))
        .apply(AnalyzeFeatures.of(FeatureSpecTest.richTemplate()))
        .apply(
            "Write",
ParDo.of(new WriteSpecFn(path)));
    p.run().waitUntilFinish();
    FeatureSpec read = FeatureSpec.read(path);
    assertSameFit(FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows()), read);
  }

  /** How a training job saves the fitted spec: one element, written once. */
  private static final class WriteSpecFn extends DoFn<FeatureSpec, Void> {
    private final String path;

    WriteSpecFn(String path) {
      this.path = path;
    }

    @ProcessElement
    public void write(@Element FeatureSpec spec) {
      spec.write(path);
    }
  }

  @Test
  public void matchesPlainJavaFitOnManyRowsAcrossBundles() {
    Schema schema =
        Schema.builder()
            .addNullableField("x", Schema.FieldType.DOUBLE)
            .addNullableField("c", Schema.FieldType.STRING)
            .build();
    Random random = new Random(42);
    List<Row> rows = new ArrayList<>();
    List<Map<String, Object>> maps = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      // A large offset with a small spread: where a naive sum of squares would cancel.
      Double x = i % 50 == 0 ? null : 1e6 + random.nextGaussian();
      String c = "v" + (int) Math.floor(Math.abs(random.nextGaussian()) * 8);
      rows.add(Row.withSchema(schema).addValues(x, c).build());
      maps.add(row("x", x, "c", c));
    }
    FeatureSpec template =
        FeatureSpec.builder()
            .numeric("x").optional().imputeMedian().zscore().minMax()
            .categorical("c").topN(5).minFrequency(3).oneHot(1)
            .build();
    String expectedJson = FeatureSpec.fit(template, maps).toJson();
    PCollection<FeatureSpec> fitted =
        p.apply(Create.of(rows).withCoder(RowCoder.of(schema))).apply(AnalyzeFeatures.of(template));
    PAssert.thatSingleton(fitted)
        .satisfies(
            actual -> {
              FeatureSpec want = FeatureSpec.fromJson(expectedJson);
              assertSameFit(want, actual);
              // Beyond the quantile buffer the median is approximate: within the data's spread.
              assertThat(actual.feature("x").stats().median(), closeTo(want.feature("x").stats().median(), 0.05));
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  public void refusesAFittedSpec() {
    FeatureSpec fitted = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnalyzeFeatures.of(fitted));
    assertThat(e.getMessage(), containsString("already fitted"));
  }
}
