package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertThrows;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Transform kinds, imputation, layout, JSON and the builder, through the plain-Java path. */
@RunWith(JUnit4.class)
public class FeatureSpecTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  /** Rows with one column. */
  static List<Map<String, Object>> column(String name, Object... values) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Object v : values) {
      Map<String, Object> row = new HashMap<>();
      row.put(name, v);
      rows.add(row);
    }
    return rows;
  }

  static Map<String, Object> row(Object... keyValues) {
    Map<String, Object> row = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      row.put((String) keyValues[i], keyValues[i + 1]);
    }
    return row;
  }

  static float[] vector(FeatureSpec spec, Map<String, ?> raw) {
    FeatureOutcome out = spec.transform(raw);
    assertThat(out.toString(), out.kind(), is(FeatureOutcome.Kind.VALID));
    return out.vector();
  }

  private static final double STD_1_TO_4 = Math.sqrt(1.25); // population std of 1, 2, 3, 4

  @Test
  public void aMissingModelDirectoryIsReportedAsSuchNotAsAMissingSpec() throws Exception {
    String dir = tmp.getRoot() + "/models/fraud-mlp/9";
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.read(dir + "/feature-spec.json"));
    assertThat(e.getMessage(), containsString("the directory " + dir + " does not exist"));
    // an existing directory without the spec still says the spec is missing
    String existing = tmp.newFolder("model").toString();
    IllegalArgumentException noSpec =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.read(existing + "/feature-spec.json"));
    assertThat(noSpec.getMessage(), containsString("cannot read feature spec from " + existing + "/feature-spec.json"));
    assertThat(noSpec.getMessage(), org.hamcrest.Matchers.not(containsString("does not exist")));
  }

  @Test
  public void zscoreUsesTrainingMeanAndPopulationStd() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().numeric("amount").zscore().build(), column("amount", 1.0, 2.0, 3.0, 4.0));
    assertThat(spec.feature("amount").transforms().get(0).mean(), is(2.5));
    assertThat(spec.feature("amount").transforms().get(0).std(), closeTo(STD_1_TO_4, 1e-15));
    assertThat(spec.outputNames(), contains("amount_z"));
    assertArrayEquals(new float[] {(float) (0.5 / STD_1_TO_4)}, vector(spec, row("amount", 3.0)), 0f);
    assertThat((double) vector(spec, row("amount", 3.0))[0], closeTo(0.4472136, 1e-6));
  }

  @Test
  public void zscoreOfConstantFeatureIsZero() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().numeric("x").zscore().build(), column("x", 5.0, 5.0));
    assertArrayEquals(new float[] {0f}, vector(spec, row("x", 9.0)), 0f);
  }

  @Test
  public void minMaxScalesIntoTrainingRange() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().integer("age").minMax().build(), column("age", 20L, 30L, 60L));
    assertThat(spec.outputNames(), contains("age_minmax"));
    assertArrayEquals(new float[] {0.25f}, vector(spec, row("age", 30L)), 0f);
    // Beyond the training range is not clipped: the model sees exactly what the formula says.
    assertArrayEquals(new float[] {1.5f}, vector(spec, row("age", "80")), 0f);
  }

  @Test
  public void log1pThenPassthrough() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().numeric("amount").log1p().passthrough().build(), column("amount", 1.0));
    assertThat(spec.outputNames(), contains("amount_log1p"));
    assertArrayEquals(new float[] {(float) Math.log1p(9.0)}, vector(spec, row("amount", 9.0)), 0f);
  }

  @Test
  public void clipBoundsValueForLaterTransforms() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("amount").clip(0, 10).passthrough().as("amount_c").build(),
            column("amount", 1.0));
    assertThat(spec.outputNames(), contains("amount_c"));
    assertArrayEquals(new float[] {10f}, vector(spec, row("amount", 250.0)), 0f);
    assertArrayEquals(new float[] {0f}, vector(spec, row("amount", -3.0)), 0f);
  }

  @Test
  public void clipLog1pZscoreFitsStatisticsOnTransformedValues() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("amount").clip(0, 100).log1p().zscore().build(),
            column("amount", 0.0, 1000.0));
    double a = Math.log1p(0.0);
    double b = Math.log1p(100.0);
    assertThat(spec.feature("amount").transforms().get(2).mean(), closeTo((a + b) / 2, 1e-12));
    assertThat(spec.outputNames(), contains("amount_clip_log1p_z"));
    assertArrayEquals(new float[] {1f}, vector(spec, row("amount", 5000.0)), 1e-6f);
  }

  @Test
  public void bucketizeOneHotAndIndex() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .numeric("x").bucketize(0, 10).passthrough()
                .numeric("y").bucketize(0, 10).asBucketIndex()
                .build(),
            List.of(row("x", 1.0, "y", 1.0)));
    assertThat(
        spec.outputNames(), contains("x_bucket_0", "x_bucket_1", "x_bucket_2", "x", "y_bucket"));
    // A value on a boundary goes to the upper bucket.
    assertArrayEquals(new float[] {0, 1, 0, 5, 1}, vector(spec, row("x", 5.0, "y", 0.0)), 0f);
    assertArrayEquals(new float[] {0, 0, 1, 10, 2}, vector(spec, row("x", 10.0, "y", 10.0)), 0f);
    assertArrayEquals(new float[] {1, 0, 0, -1, 0}, vector(spec, row("x", -1.0, "y", -5.0)), 0f);
  }

  @Test
  public void quantileBucketsFitBoundaries() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").quantileBuckets(2).asBucketIndex().build(),
            column("x", 1.0, 2.0, 3.0, 4.0, 5.0));
    assertThat(spec.feature("x").transforms().get(0).boundaries(), contains(3.0));
    assertArrayEquals(new float[] {0f}, vector(spec, row("x", 2.9)), 0f);
    assertArrayEquals(new float[] {1f}, vector(spec, row("x", 3.0)), 0f);
  }

  @Test
  public void vocabularyOneHotWithOovBuckets() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .categorical("country").vocabulary().oneHot(2).onInvalid(InvalidPolicy.KEEP)
                .build(),
            column("country", "DE", "FR", "DE", "US", "FR", "DE"));
    // By count descending, ties by value.
    assertThat(spec.feature("country").vocabulary(), contains("DE", "FR", "US"));
    assertThat(spec.feature("country").stats().vocabularyCounts(), contains(3L, 2L, 1L));
    assertThat(
        spec.outputNames(),
        contains("country=DE", "country=FR", "country=US", "country=__oov0", "country=__oov1"));
    assertArrayEquals(new float[] {0, 1, 0, 0, 0}, vector(spec, row("country", "FR")), 0f);
    float[] oov = new float[5];
    oov[3 + StableHash.bucket("JP", 2)] = 1f;
    assertArrayEquals(oov, vector(spec, row("country", "JP")), 0f);
  }

  @Test
  public void vocabularyTopNAndMinFrequency() {
    List<Map<String, Object>> rows = column("c", "a", "a", "a", "b", "b", "c", "c", "d");
    FeatureSpec top2 =
        FeatureSpec.fit(FeatureSpec.builder().categorical("c").topN(2).oneHot().build(), rows);
    assertThat(top2.feature("c").vocabulary(), contains("a", "b"));
    FeatureSpec min2 =
        FeatureSpec.fit(FeatureSpec.builder().categorical("c").minFrequency(2).oneHot().build(), rows);
    assertThat(min2.feature("c").vocabulary(), contains("a", "b", "c"));
  }

  @Test
  public void fixedVocabularyIsNotRefitted() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().categorical("c").vocabulary(List.of("x", "y")).oneHot().build(),
            column("c", "y", "y"));
    assertThat(spec.feature("c").vocabulary(), contains("x", "y"));
    assertArrayEquals(new float[] {1, 0}, vector(spec, row("c", "x")), 0f);
  }

  @Test
  public void hashingUsesDocumentedFnv1a() {
    // FNV-1a 64 test vectors (Fowler/Noll/Vo reference): "" and "a".
    assertThat(StableHash.fnv1a64(""), is(0xcbf29ce484222325L));
    assertThat(StableHash.fnv1a64("a"), is(0xaf63dc4c8601ec8cL));
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().categorical("device").hash(4).build(), column("device", "ios"));
    assertThat(spec.outputNames(), contains("device_hash_0", "device_hash_1", "device_hash_2", "device_hash_3"));
    float[] expected = new float[4];
    expected[(int) Long.remainderUnsigned(0xaf63dc4c8601ec8cL, 4)] = 1f;
    assertArrayEquals(expected, vector(spec, row("device", "a")), 0f);
  }

  @Test
  public void crossHashesJoinedCategories() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .categorical("country").hash(1)
                .bool("mobile").passthrough()
                .cross(8, "country", "mobile")
                .build(),
            List.of(row("country", "DE", "mobile", true)));
    assertThat(spec.outputNames().get(2), is("country_x_mobile_0"));
    assertThat(spec.outputSize(), is(10));
    float[] expected = new float[10];
    expected[0] = 1f;
    expected[1] = 1f;
    expected[2 + StableHash.bucket("DE\u0001true", 8)] = 1f;
    assertArrayEquals(expected, vector(spec, row("country", "DE", "mobile", "TRUE")), 0f);
  }

  @Test
  public void datePartsFromEveryTimestampForm() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK, DatePart.DAY_OF_MONTH, DatePart.MONTH)
                .build(),
            column("ts", 0L));
    assertThat(spec.outputNames(), contains("ts_hour", "ts_day_of_week", "ts_day_of_month", "ts_month"));
    // 2024-03-01 was a Friday (ISO day 5).
    float[] expected = {13, 5, 1, 3};
    Instant t = Instant.parse("2024-03-01T13:45:00Z");
    assertArrayEquals(expected, vector(spec, row("ts", t.toEpochMilli())), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", Long.toString(t.toEpochMilli()))), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", "2024-03-01T13:45:00Z")), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", "2024-03-01T14:45:00+01:00")), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", t)), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", new org.joda.time.Instant(t.toEpochMilli()))), 0f);
  }

  @Test
  public void passthroughOfNumbersBooleansAndLists() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .numeric("x").passthrough()
                .bool("b").passthrough()
                .list("emb", 3).passthrough()
                .build(),
            List.of(row("x", 1.0, "b", false, "emb", List.of(1.0, 2.0, 3.0))));
    assertThat(spec.outputNames(), contains("x", "b", "emb_0", "emb_1", "emb_2"));
    assertArrayEquals(
        new float[] {2.5f, 1f, 0.5f, -1f, 3f},
        vector(spec, row("x", 2.5f, "b", true, "emb", List.of(0.5, -1, 3L))),
        0f);
    assertArrayEquals(
        new float[] {2.5f, 0f, 0.5f, -1f, 3f},
        vector(spec, row("x", "2.5", "b", "0", "emb", "[0.5; -1; 3]")),
        0f);
  }

  @Test
  public void imputeMeanWithMissingIndicator() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").optional().imputeMean().withMissingIndicator().passthrough().build(),
            column("x", 1.0, null, 2.0, 6.0));
    assertThat(spec.feature("x").imputation().value(), is((Object) 3.0));
    assertThat(spec.feature("x").stats().nullRate(), is(0.25));
    assertThat(spec.outputNames(), contains("x", "x_missing"));
    assertArrayEquals(new float[] {3f, 1f}, vector(spec, row("x", null)), 0f);
    assertArrayEquals(new float[] {3f, 1f}, vector(spec, row()), 0f);
    assertArrayEquals(new float[] {3f, 1f}, vector(spec, row("x", " ")), 0f);
    assertArrayEquals(new float[] {7f, 0f}, vector(spec, row("x", 7.0)), 0f);
    assertThat(spec.transform(row()).missingFields(), contains("x"));
  }

  @Test
  public void imputeMedianIsLowerMiddleValue() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().integer("n").optional().imputeMedian().passthrough().build(),
            column("n", 1L, 100L, 3L, null, 2L));
    assertThat(spec.feature("n").stats().median(), is(2.0));
    assertArrayEquals(new float[] {2f}, vector(spec, row("n", null)), 0f);
  }

  @Test
  public void imputeModeOfCategories() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().categorical("c").optional().imputeMode().vocabulary().oneHot().build(),
            column("c", "b", "a", "b", null));
    assertThat(spec.feature("c").imputation().value(), is((Object) "b"));
    assertThat(spec.outputNames(), contains("c=b", "c=a"));
    assertArrayEquals(new float[] {1, 0}, vector(spec, row("c", null)), 0f);
  }

  @Test
  public void imputeConstant() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").optional().imputeConstant(-1.0).passthrough().build(),
            column("x", 5.0));
    assertArrayEquals(new float[] {-1f}, vector(spec, row("x", null)), 0f);
  }

  @Test
  public void statisticsAndHistogramAreStored() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").optional().imputeMean().histogramBins(2).passthrough().build(),
            column("x", 0.0, 1.0, 2.0, 4.0, null));
    FeatureStats s = spec.feature("x").stats();
    assertThat(s.count(), is(5L));
    assertThat(s.nullCount(), is(1L));
    assertThat(s.nullRate(), is(0.2));
    assertThat(s.min(), is(0.0));
    assertThat(s.max(), is(4.0));
    assertThat(s.histogram().edges(), contains(0.0, 2.0, 4.0));
    // [0, 2) holds 0 and 1; [2, 4] holds 2 and 4.
    assertThat(s.histogram().counts(), contains(2L, 2L));
  }

  @Test
  public void jsonRoundTripIsUnchanged() throws Exception {
    FeatureSpec spec = FeatureSpec.fit(richTemplate(), richRows());
    String json = spec.toJson();
    assertThat(FeatureSpec.fromJson(json).toJson(), equalTo(json));
    assertThat(FeatureSpec.fromJson(json), equalTo(spec));
    String template = richTemplate().toJson();
    assertThat(FeatureSpec.fromJson(template).toJson(), equalTo(template));
    assertThat(FeatureSpec.fromJson(template).isFitted(), is(false));
  }

  @Test
  public void fittedSpecTransformsIdenticallyAfterRoundTrip() {
    FeatureSpec spec = FeatureSpec.fit(richTemplate(), richRows());
    FeatureSpec back = FeatureSpec.fromJson(spec.toJson());
    for (Map<String, Object> r : richRows()) {
      assertThat(back.transform(r), equalTo(spec.transform(r)));
    }
  }

  @Test
  public void writeAndReadThroughBeamFileSystems() throws Exception {
    FeatureSpec spec = FeatureSpec.fit(richTemplate(), richRows());
    File file = new File(tmp.getRoot(), "spec.json");
    spec.write(file.getAbsolutePath());
    assertThat(new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8), equalTo(spec.toJson()));
    assertThat(FeatureSpec.read(file.getAbsolutePath()), equalTo(spec));
  }

  @Test
  public void goldenFileMatchesTrainingLayoutAndVectors() throws Exception {
    // The checked-in spec is what "training" saved; serving must read it and reproduce its vectors.
    String json =
        new String(
            getClass().getResourceAsStream("/features/golden_spec.json").readAllBytes(),
            StandardCharsets.UTF_8);
    FeatureSpec golden = FeatureSpec.fromJson(json);
    assertThat(golden.toJson(), equalTo(json.strip()));
    assertThat(golden, equalTo(FeatureSpec.fit(richTemplate(), richRows())));
  }

  /** A spec saved before date parts were counted (session 16) still reads, and serves the same vectors. */
  @Test
  public void aSpecWithoutDatePartCountsStillReads() throws Exception {
    String json = new String(
        getClass().getResourceAsStream("/features/golden_spec_without_date_part_counts.json").readAllBytes(),
        StandardCharsets.UTF_8);
    FeatureSpec old = FeatureSpec.fromJson(json);
    assertThat(old.toJson(), equalTo(json.strip()));
    assertThat(old.feature("ts").stats().datePartCounts(DatePart.HOUR), org.hamcrest.Matchers.nullValue());
    FeatureSpec now = FeatureSpec.fit(richTemplate(), richRows());
    assertThat(now.feature("ts").stats().datePartCounts(DatePart.HOUR), org.hamcrest.Matchers.notNullValue());
    for (Map<String, Object> r : richRows()) {
      assertThat(old.transform(r), equalTo(now.transform(r)));
    }
  }

  @Test
  public void tamperedLayoutIsRefused() {
    String json = FeatureSpec.fit(richTemplate(), richRows()).toJson().replace("\"amount_clip_log1p_z\"", "\"amount_z\"");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpec.fromJson(json));
    assertThat(e.getMessage(), containsString("do not match its features"));
  }

  @Test
  public void coderAndJavaSerializationPreserveTheSpec() throws Exception {
    FeatureSpec spec = FeatureSpec.fit(richTemplate(), richRows());
    org.apache.beam.sdk.testing.CoderProperties.coderDecodeEncodeEqual(FeatureSpec.FeatureSpecCoder.of(), spec);
    org.apache.beam.sdk.testing.CoderProperties.coderDeterministic(FeatureSpec.FeatureSpecCoder.of(), spec, FeatureSpec.fromJson(spec.toJson()));
    FeatureSpec copy = org.apache.beam.sdk.util.SerializableUtils.clone(spec);
    for (Map<String, Object> r : richRows()) {
      assertThat(copy.transform(r), equalTo(spec.transform(r)));
    }
  }

  @Test
  public void histogramBucketOfMatchesTrainingBinning() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").histogramBins(4).passthrough().build(),
            column("x", 0.0, 1.0, 2.0, 3.0, 4.0));
    Histogram h = spec.feature("x").stats().histogram();
    assertThat(h.edges(), contains(0.0, 1.0, 2.0, 3.0, 4.0));
    assertThat(h.counts(), contains(1L, 1L, 1L, 2L)); // the last bucket includes its upper edge
    assertThat(h.bucketOf(-5.0), is(0));
    assertThat(h.bucketOf(1.0), is(1));
    assertThat(h.bucketOf(4.0), is(3));
    assertThat(h.bucketOf(99.0), is(3));
  }

  @Test
  public void checkMatchesNamesFirstDifference() {
    FeatureSpec spec = FeatureSpec.fit(richTemplate(), richRows());
    List<String> model = new ArrayList<>(spec.outputNames());
    spec.checkMatches(model);
    model.set(1, "amount_log");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> spec.checkMatches(model));
    assertThat(
        e.getMessage(),
        equalTo("feature layout differs from the model at position 1: spec has '"
            + spec.outputNames().get(1) + "', model expects 'amount_log'"));
    List<String> shorter = spec.outputNames().subList(0, 3);
    e = assertThrows(IllegalArgumentException.class, () -> spec.checkMatches(shorter));
    assertThat(e.getMessage(), containsString("in size: spec has " + spec.outputSize() + " features, model expects 3"));
  }

  @Test
  public void unfittedTemplateRefusesToTransform() {
    FeatureSpec template = FeatureSpec.builder().numeric("x").zscore().build();
    assertThat(template.isFitted(), is(false));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> template.transform(row("x", 1.0)));
    assertThat(e.getMessage(), containsString("unfitted template"));
    FeatureSpec vocab = FeatureSpec.builder().categorical("c").oneHot().build();
    assertThrows(IllegalStateException.class, vocab::outputNames);
  }

  @Test
  public void builderRejectsBadCombinationsWithNamedMessages() {
    IllegalArgumentException optional =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.builder().numeric("x").optional().zscore().build());
    assertThat(optional.getMessage(), containsString("feature 'x': is optional, so it needs an imputation"));
    IllegalArgumentException hashOfDouble =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.builder().numeric("x").hash(3).build());
    assertThat(hashOfDouble.getMessage(), containsString("feature 'x': hash needs a string, long or boolean feature"));
    IllegalArgumentException zscoreOfString =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.builder().categorical("c").zscore().build());
    assertThat(zscoreOfString.getMessage(), containsString("zscore needs a numeric feature"));
    IllegalArgumentException duplicate =
        assertThrows(IllegalArgumentException.class,
            () -> FeatureSpec.builder().numeric("x").passthrough().numeric("y").passthrough().as("x").build());
    assertThat(duplicate.getMessage(), containsString("output name 'x' appears twice"));
    IllegalArgumentException buckets =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.builder().categorical("c").hash(0));
    assertThat(buckets.getMessage(), equalTo("hash buckets must be > 0, but was 0"));
    IllegalArgumentException refit =
        assertThrows(IllegalArgumentException.class, () -> FeatureSpec.fit(FeatureSpec.fit(richTemplate(), richRows()), richRows()));
    assertThat(refit.getMessage(), containsString("already fitted"));
  }

  @Test
  public void fitFailsLoudlyWithoutTrainingValues() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class,
            () -> FeatureSpec.fit(FeatureSpec.builder().numeric("x").zscore().build(), column("x", "abc")));
    assertThat(e.getMessage(), containsString("cannot fit feature 'x'"));
  }

  /** A template touching every transform kind; shared with the pipeline tests. */
  static FeatureSpec richTemplate() {
    return FeatureSpec.builder()
        .numeric("amount").range(0, 1e7).clip(0, 1e5).log1p().zscore()
        .integer("age").optional().imputeMedian().withMissingIndicator().minMax().bucketize(18, 65)
        .categorical("country").vocabulary().oneHot(2).onInvalid(InvalidPolicy.KEEP)
        .categorical("device").optional().imputeConstant("unknown").hash(4)
        .bool("mobile").optional().imputeMode().passthrough()
        .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK)
        .numeric("score").optional().imputeMean().quantileBuckets(3).asBucketIndex()
        .list("emb", 2).passthrough()
        .cross(4, "country", "device")
        .build();
  }

  static List<Map<String, Object>> richRows() {
    List<Map<String, Object>> rows = new ArrayList<>();
    String[] countries = {"DE", "FR", "DE", "US", "DE", "FR"};
    for (int i = 0; i < 6; i++) {
      rows.add(
          row(
              "amount", 10.0 * (i + 1) * (i + 1),
              "age", i == 2 ? null : (long) (20 + 9 * i),
              "country", countries[i],
              "device", i % 2 == 0 ? "ios" : "android",
              "mobile", i % 3 != 0,
              "ts", 1_709_300_000_000L + 3_600_000L * 7 * i,
              "score", i == 4 ? null : 0.5 * i,
              "emb", Arrays.asList(0.1 * i, -0.2 * i)));
    }
    return rows;
  }
}
