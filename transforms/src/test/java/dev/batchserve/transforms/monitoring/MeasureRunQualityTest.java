package dev.batchserve.transforms.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.InvalidPolicy;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Exact quality, drift, distribution and change figures of a small hand-made run. */
@RunWith(JUnit4.class)
public class MeasureRunQualityTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final RunInfo RUN = RunInfo.of("demo", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
  private static final Schema SCHEMA =
      Schema.builder().addNullableField("amount", Schema.FieldType.STRING)
          .addNullableField("country", Schema.FieldType.STRING).build();

  /** Training: amount 0..9 in two buckets [0, 4.5) and [4.5, 9] (5 and 5); country US x6, GB x4. */
  static FeatureSpec spec() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Map<String, Object> r = new HashMap<>();
      r.put("amount", (double) i);
      r.put("country", i < 6 ? "US" : "GB");
      rows.add(r);
    }
    return FeatureSpec.fit(FeatureSpec.builder()
        .numeric("amount").histogramBins(2).zscore()
        .categorical("country").vocabulary().oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .build(), rows);
  }

  private static KV<String, Row> row(String key, String amount, String country) {
    return KV.of(key, Row.withSchema(SCHEMA).addValues(amount, country).build());
  }

  private static KV<String, Prediction> scored(String key, float score) {
    return KV.of(key, Prediction.builder().scores(new float[] {score}).model("m", "1").runId(RUN.runId()).build());
  }

  @Test
  public void measuresQualityDriftDistributionAndChange() {
    PCollection<KV<String, Row>> rows = p.apply("Rows", Create.of(
            row("k1", "1", "US"), row("k2", "2", "US"), row("k3", "8", "FR"), row("k4", null, "GB"),
            row("k5", "abc", null))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
    PCollection<KV<String, Prediction>> predictions = p.apply("Predictions", Create.of(
        scored("k1", 0.1f), scored("k2", 0.3f), scored("k3", 0.9f), scored("k4", 0.55f),
        KV.of("k5", Prediction.builder().model("m", "1").runId(RUN.runId())
            .fallbackReason("features:unparsable:amount").build())));
    PCollection<DeadLetter> dead = p.apply("Dead", Create.of(
        DeadLetter.of("features", "k5", "{amount=abc}", "amount", "unparsable"),
        DeadLetter.of("read", null, "a,b,c", null, "wrong_column_count")));
    PCollection<KV<String, Double>> previousScores = p.apply("Previous", Create.of(
            KV.of("k1", 0.1f + 0.0), KV.of("k2", 0.5), KV.of("k4", 0.56), KV.of("k9", 0.7))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of())));
    PredictionDistribution previous = new PredictionDistribution();
    previous.count = 4;
    previous.mean = 0.2;
    for (int i = 0; i < PredictionDistribution.BUCKETS; i++) {
      previous.counts.add(i < 4 ? 1L : 0L);
    }

    PCollection<RunQuality> quality = rows.apply(MeasureRunQuality.<String>of(spec())
        .withRunInfo(RUN)
        .withPredictions(predictions)
        .withDeadLetters(dead)
        .withPreviousRun("demo-daily-20261127", previous, previousScores));

    PAssert.thatSingleton(quality).satisfies(q -> {
      assertThat(q.getRunId(), is("demo-daily-20261128"));
      assertThat(q.getInputRecords(), is(5L));
      assertThat(q.getUnreadable(), is(1L));
      assertThat(q.getDeadLetters(), is(2L));
      assertThat(q.getDeadLetterRate(), closeTo(2.0 / 6, 1e-12));
      assertThat(q.getDeadLettersByReason(),
          equalTo(Map.of("features:unparsable", 1L, "read:wrong_column_count", 1L)));

      FeatureQuality amount = q.feature("amount");
      assertThat(amount.getKind(), is(FeatureQuality.Kind.NUMERIC));
      assertThat(amount.getCount(), is(5L));
      assertThat(amount.getNulls(), is(1L));
      assertThat(amount.getUnreadable(), is(1L));
      assertThat(amount.getNullRate(), closeTo(0.2, 1e-12));
      assertThat(amount.getViolations(), equalTo(Map.of("unparsable", 1L)));
      assertThat(amount.getEdges(), contains(0.0, 4.5, 9.0));
      assertThat(amount.getTrainingCounts(), contains(5L, 5L));
      assertThat(amount.getCounts(), contains(2L, 1L));
      // (.5, .5) -> (2/3, 1/3): 1/6 ln(4/3) - 1/6 ln(2/3)
      assertThat(amount.getPsi(), closeTo(0.1155245301, 1e-9));
      assertThat(amount.getJsDivergence(), closeTo(0.0207208396, 1e-9));
      assertThat(amount.getLInfinity(), nullValue());

      FeatureQuality country = q.feature("country");
      assertThat(country.getKind(), is(FeatureQuality.Kind.CATEGORICAL));
      assertThat(country.getNulls(), is(1L));
      assertThat(country.getCategories(), contains("US", "GB", FeatureQuality.OTHER));
      assertThat(country.getTrainingCounts(), contains(6L, 4L, 0L));
      assertThat(country.getCounts(), contains(2L, 1L, 1L));
      // (.6, .4, 0) vs (.5, .25, .25)
      assertThat(country.getLInfinity(), closeTo(0.25, 1e-12));
      assertThat(country.getPsi(), nullValue());

      PredictionDistribution d = q.getPredictions();
      assertThat(d.getCount(), is(4L));
      assertThat(d.getFallbacks(), is(1L));
      assertThat(d.getFallbacksByReason(), equalTo(Map.of("features:unparsable:amount", 1L)));
      assertThat(d.getMean(), closeTo((0.1 + 0.3 + 0.9 + 0.55) / 4, 1e-6));
      assertThat(d.getMin(), closeTo(0.1, 1e-6));
      assertThat(d.getMax(), closeTo(0.9, 1e-6));
      assertThat(d.getCounts().get(2), is(1L));
      assertThat(d.getCounts().get(6), is(1L));
      assertThat(d.getCounts().get(11), is(1L));
      assertThat(d.getCounts().get(17), is(1L)); // 0.9f is 0.89999998...
      assertThat(d.getQuantiles(), hasSize(101));
      assertThat(d.quantile(0), closeTo(0.1, 1e-6));
      assertThat(d.quantile(100), closeTo(0.9, 1e-6));

      assertThat(q.getPreviousRunId(), is("demo-daily-20261127"));
      assertThat(q.getPredictionMeanShift(), closeTo(0.4625 - 0.2, 1e-6));
      PredictionChange c = q.getChange();
      assertThat(c.getCompared(), is(3L)); // k1, k2, k4
      assertThat(c.getChanged(), is(1L)); // k2 moved by 0.2; k4 by 0.01 <= 0.05
      assertThat(c.getAdded(), is(1L)); // k3
      assertThat(c.getRemoved(), is(1L)); // k9
      assertThat(c.getChangeRate(), closeTo(1.0 / 3, 1e-12));
      try {
        CoderProperties.coderDecodeEncodeEqual(RunQuality.RunQualityCoder.of(), q);
        CoderProperties.coderDeterministic(RunQuality.RunQualityCoder.of(), q, RunQuality.fromJson(q.toJson()));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void validatesItsArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MeasureRunQuality.<String>of(spec()).withChangeEpsilon(-1));
    assertThat(e.getMessage(), containsString("changeEpsilon must be >= 0, but was -1.0"));
    e = assertThrows(IllegalArgumentException.class,
        () -> MeasureRunQuality.<String>of(FeatureSpec.builder().numeric("x").zscore().build()));
    assertThat(e.getMessage(), containsString("must be fitted"));
  }

  /** Issue 15 item 14: quality read numbers with Double.parseDouble, unlike the features. */
  @Test
  public void numbersAreReadInTheFeaturesGrammar() {
    FeatureSpec spec = spec();
    for (String text : List.of("100.5f", "300d", "0x1Ap0", "1e-400", "1e400", "nan", "NaN")) {
      dev.batchserve.transforms.features.FeatureProfile profile =
          new dev.batchserve.transforms.features.FeatureProfile().add(spec, Map.of("amount", text, "country", "US"));
      assertThat(text, profile.unreadable("amount"), is(1L));
    }
    dev.batchserve.transforms.features.FeatureProfile readable =
        new dev.batchserve.transforms.features.FeatureProfile().add(spec, Map.of("amount", " 2.5e1 ", "country", "US"));
    assertThat(readable.unreadable("amount"), is(0L));
    // 25 is above the training range [0, 9]: the last bucket.
    assertThat(readable.bucketCounts(spec.feature("amount"))[1], is(1L));
  }
}
