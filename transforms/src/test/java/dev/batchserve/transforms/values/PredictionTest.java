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
  public void itemsAndScoresMustAgree() {
    assertThrows(IllegalArgumentException.class,
        () -> Prediction.builder().scores(new float[] {1f}).items(List.of("a", "b")).model("m", "1").runId("r").build());
  }
}
