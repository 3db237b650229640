package dev.batchserve.transforms.values;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.Test;

public class PredictionTest {
  private static final Prediction FULL = Prediction.builder()
      .scores(new float[] {0.25f, 0.75f}).items(List.of("i1", "i2")).label("high").confidence(0.75)
      .model("m", "3").predictionTimestampMillis(1_764_288_000_000L).runId("r-daily-20251128")
      .fallbackReason("cold_start").build();
  private static final Prediction BARE = Prediction.builder().model("m", "3").runId("r").build();

  @Test
  public void jsonRoundTripsThroughFromJson() {
    for (Prediction p : List.of(FULL, BARE)) {
      assertThat(Prediction.fromJson(p.toJson("k|1")), is(KV.of("k|1", p)));
    }
  }

  @Test
  public void fromJsonNamesWhatIsMissing() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> Prediction.fromJson("{\"key\":\"a\"}")).getMessage(),
        containsString("has no 'scores'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> Prediction.fromJson("{oops")).getMessage(),
        containsString("not a prediction JSON line"));
  }

  @Test
  public void coderIsDeterministicAndRoundTrips() throws Exception {
    CoderProperties.coderDecodeEncodeEqual(Prediction.PredictionCoder.of(), FULL);
    CoderProperties.coderDecodeEncodeEqual(Prediction.PredictionCoder.of(), BARE);
    CoderProperties.coderDeterministic(Prediction.PredictionCoder.of(), FULL, FULL.toBuilder().build());
  }

  @Test
  public void rowHasTheDocumentedColumns() {
    Row r = FULL.toRow("k");
    assertThat(r.getSchema().getFieldNames(), is(List.of("key", "score", "scores", "items", "label", "confidence",
        "model_name", "model_version", "prediction_timestamp", "run_id", "fallback_reason")));
    assertThat(r.getDouble("score"), is(0.25));
    assertThat(BARE.toRow("k").getDouble("score"), is((Double) null));
  }

  @Test
  public void passThroughIsANestedObjectOnlyWhenThereIsOne() {
    assertThat(BARE.toJson("k"), is("{\"key\":\"k\",\"score\":null,\"scores\":[],\"items\":[],\"label\":null,"
        + "\"confidence\":null,\"model_name\":\"m\",\"model_version\":\"3\",\"prediction_timestamp\":"
        + "\"1970-01-01T00:00:00Z\",\"run_id\":\"r\",\"fallback_reason\":null}"));
    java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
    values.put("row_id", "17");
    values.put("region", null);
    Prediction carried = BARE.toBuilder().passThrough(values).build();
    assertThat(carried.toJson("k"), is(BARE.toJson("k").replaceFirst("}$", "")
        + ",\"pass_through\":{\"row_id\":\"17\",\"region\":null}}"));
    assertThat(Prediction.fromJson(carried.toJson("k")), is(KV.of("k", carried)));
    assertThat(new java.util.ArrayList<>(Prediction.fromJson(carried.toJson("k")).getValue().getPassThrough().keySet()),
        is(List.of("row_id", "region")));
    assertThat(assertThrows(IllegalArgumentException.class, () -> Prediction.fromJson(
        BARE.toJson("k").replaceFirst("}$", ",\"pass_through\":[1]}"))).getMessage(),
        containsString("'pass_through' that is not an object"));
  }

  @Test
  public void coderKeepsPassThroughInOrder() throws Exception {
    java.util.Map<String, String> ab = new java.util.LinkedHashMap<>();
    ab.put("a", "1");
    ab.put("b", null);
    java.util.Map<String, String> ba = new java.util.LinkedHashMap<>();
    ba.put("b", null);
    ba.put("a", "1");
    Prediction p = FULL.toBuilder().passThrough(ab).build();
    CoderProperties.coderDecodeEncodeEqual(Prediction.PredictionCoder.of(), p);
    CoderProperties.coderDeterministic(Prediction.PredictionCoder.of(), p, p.toBuilder().build());
    // Same columns in another order encode differently, so they must not be equal.
    assertThat(p.equals(FULL.toBuilder().passThrough(ba).build()), is(false));
    assertThat(p.equals(FULL), is(false));
  }

  @Test
  public void itemsAndScoresMustAgree() {
    assertThrows(IllegalArgumentException.class,
        () -> Prediction.builder().scores(new float[] {1f}).items(List.of("a", "b")).model("m", "1").runId("r").build());
  }
}
