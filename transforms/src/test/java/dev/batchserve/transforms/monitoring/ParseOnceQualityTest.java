package dev.batchserve.transforms.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.features.FeatureProfile;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.features.InvalidPolicy;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Quality is measured on the values the features read (issue 16 item 5: one parser, each record
 * parsed once) and the categorical baseline counts the training share of "other" (issue 21).
 */
@RunWith(JUnit4.class)
public class ParseOnceQualityTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final RunInfo RUN = RunInfo.of("demo", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
  private static final Schema SCHEMA =
      Schema.builder().addNullableField("amount", Schema.FieldType.STRING)
          .addNullableField("country", Schema.FieldType.STRING).build();

  /** amount 0..9 (error policy, range [0, 100]); country US x6, GB x4 (unknown values kept as OOV). */
  private static FeatureSpec spec() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Map<String, Object> r = new HashMap<>();
      r.put("amount", (double) i);
      r.put("country", i < 6 ? "US" : "GB");
      rows.add(r);
    }
    return FeatureSpec.fit(FeatureSpec.builder()
        .numeric("amount").range(0, 100).histogramBins(2).zscore()
        .categorical("country").vocabulary().oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .build(), rows);
  }

  private static KV<String, Row> row(String key, String amount, String country) {
    return KV.of(key, Row.withSchema(SCHEMA).addValues(amount, country).build());
  }

  private static KV<String, Prediction> scored(String key) {
    return KV.of(key, Prediction.builder().scores(new float[] {0.5f}).model("m", "1").runId(RUN.runId()).build());
  }

  private PCollection<KV<String, Row>> rows() {
    // k3 is unknown (OOV), k5 unreadable and rejected (country still read), k6 out of range and
    // rejected, k7 a category with blanks around it: the features read " US " as its own value.
    return p.apply("Rows", Create.of(
            row("k1", "1", "US"), row("k2", "2", "US"), row("k3", "8", "FR"), row("k4", null, "GB"),
            row("k5", "abc", "GB"), row("k6", "500", null), row("k7", " 3 ", " US "))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
  }

  @Test
  public void qualityFromTheFeaturesParseEqualsQualityFromTheRows() {
    FeatureSpec spec = spec();
    PCollection<KV<String, Row>> rows = rows();
    FeatureTransform.Result<String> features =
        rows.apply("Features", FeatureTransform.<String>of(spec).withFeatureProfile());
    PCollection<KV<String, Prediction>> predictions = p.apply("Predictions",
        Create.of(scored("k1"), scored("k2"), scored("k3"), scored("k7")));
    MeasureRunQuality<String> measure = MeasureRunQuality.<String>of(spec).withRunInfo(RUN).withPredictions(predictions);
    PCollection<RunQuality> fromFeatures =
        rows.apply("FromFeatures", measure.withFeatureProfiles(features.featureProfiles()));
    PCollection<RunQuality> fromRows = rows.apply("FromRows", measure);

    PAssert.thatSingleton(fromFeatures).satisfies(q -> {
      FeatureQuality amount = q.feature("amount");
      assertThat(amount.getCount(), is(7L));
      assertThat(amount.getNulls(), is(1L));
      assertThat(amount.getUnreadable(), is(1L));
      // 1, 2, 3 | 8, and 500 (out of range, counted where it fell)
      assertThat(amount.getCounts(), contains(3L, 2L));
      FeatureQuality country = q.feature("country");
      assertThat(country.getCount(), is(7L));
      assertThat(country.getNulls(), is(1L));
      // US x2 | GB x2 (k4, k5: read although k5 was rejected on amount) | FR and " US "
      assertThat(country.getCounts(), contains(2L, 2L, 2L));
      return null;
    });
    PAssert.that(PCollectionList.of(fromFeatures).and(fromRows).apply(Flatten.pCollections()))
        .satisfies(both -> {
          List<RunQuality> l = new ArrayList<>();
          both.forEach(l::add);
          assertThat(l, hasSize(2));
          assertThat(l.get(0), is(l.get(1)));
          return null;
        });
    p.run().waitUntilFinish();
  }

  @Test
  public void theFeaturesProfileEveryRecordOnceAndEncodeTheSameVectors() {
    FeatureSpec spec = spec();
    PCollection<KV<String, Row>> rows = rows();
    FeatureTransform.Result<String> profiled =
        rows.apply("Profiled", FeatureTransform.<String>of(spec).withFeatureProfile());
    FeatureTransform.Result<String> plain = rows.apply("Plain", FeatureTransform.<String>of(spec));
    PCollection<FeatureProfile> merged = profiled.featureProfiles().apply(FeatureProfile.combine());
    PAssert.thatSingleton(merged).satisfies(profile -> {
      assertThat(profile.rows("amount"), is(7L));
      assertThat(profile.rows("country"), is(7L));
      return null;
    });
    PAssert.that("profiled vectors", profiled.vectors()).containsInAnyOrder(expectedVectors(spec));
    PAssert.that("plain vectors", plain.vectors()).containsInAnyOrder(expectedVectors(spec));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // Two FeatureTransforms over 7 records: 14 parses, and nothing else parsed them.
    long validated = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(FeatureTransform.NAMESPACE, "records_validated")).build()).getCounters()) {
      validated += c.getAttempted();
    }
    assertThat(validated, is(14L));
  }

  private static List<KV<String, dev.batchserve.transforms.features.FeatureVector>> expectedVectors(FeatureSpec spec) {
    List<KV<String, dev.batchserve.transforms.features.FeatureVector>> out = new ArrayList<>();
    String[][] in = {{"k1", "1", "US"}, {"k2", "2", "US"}, {"k3", "8", "FR"}, {"k7", " 3 ", " US "}};
    for (String[] r : in) {
      Map<String, Object> m = new HashMap<>();
      m.put("amount", r[1]);
      m.put("country", r[2]);
      out.add(KV.of(r[0], dev.batchserve.transforms.features.FeatureVector.of(spec.transform(m).vector())));
    }
    return out;
  }

  @Test
  public void theOtherBucketCarriesItsTrainingShare() {
    // Training: A x40, B x30, then C, D, E x10 each; topN(2) keeps A and B, so "other" is 30%.
    List<Map<String, Object>> training = new ArrayList<>();
    List<KV<String, Row>> same = new ArrayList<>();
    Schema schema = Schema.builder().addNullableField("c", Schema.FieldType.STRING).build();
    String[] values = {"A", "B", "C", "D", "E"};
    int[] counts = {40, 30, 10, 10, 10};
    int n = 0;
    for (int v = 0; v < values.length; v++) {
      for (int i = 0; i < counts[v]; i++) {
        training.add(Map.of("c", values[v]));
        same.add(KV.of("k" + n++, Row.withSchema(schema).addValue(values[v]).build()));
      }
    }
    FeatureSpec spec = FeatureSpec.fit(FeatureSpec.builder()
        .categorical("c").vocabulary().topN(2).oneHot(1).onInvalid(InvalidPolicy.KEEP).build(), training);
    PCollection<RunQuality> q = p.apply("Same", Create.of(same).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(schema))))
        .apply(MeasureRunQuality.<String>of(spec).withRunInfo(RUN)
            .withPredictions(p.apply("None", Create.empty(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))));
    PAssert.thatSingleton(q).satisfies(r -> {
      FeatureQuality c = r.feature("c");
      assertThat(c.getCategories(), contains("A", "B", FeatureQuality.OTHER));
      assertThat(c.getTrainingCounts(), contains(40L, 30L, 30L));
      assertThat(c.getCounts(), contains(40L, 30L, 30L));
      // Scoring the training distribution itself is no shift (it was 0.3 with "other" at 0).
      assertThat(c.getLInfinity(), closeTo(0.0, 1e-12));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void profilingNeedsTheGlobalWindow() {
    PCollection<KV<String, Row>> windowed = rows()
        .apply(Window.<KV<String, Row>>into(FixedWindows.of(Duration.standardMinutes(1))));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> windowed.apply(FeatureTransform.<String>of(spec()).withFeatureProfile()));
    assertThat(e.getMessage(), containsString("global window"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
