package dev.batchserve.transforms.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.Assert.assertThrows;

import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Each limit trips on its own value and names itself; the breaker passes a clean run on. */
@RunWith(JUnit4.class)
public class QualityThresholdsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  static RunQuality quality(double deadRate, Double psi, Double js, Double linf, Double meanShift) {
    RunQuality q = new RunQuality();
    q.runId = "demo-daily-20261128";
    q.inputRecords = 100;
    q.deadLetters = Math.round(deadRate * 100);
    q.deadLetterRate = deadRate;
    FeatureQuality amount = new FeatureQuality();
    amount.name = "amount";
    amount.kind = FeatureQuality.Kind.NUMERIC;
    amount.psi = psi;
    amount.jsDivergence = js;
    FeatureQuality country = new FeatureQuality();
    country.name = "country";
    country.kind = FeatureQuality.Kind.CATEGORICAL;
    country.lInfinity = linf;
    amount.counts.add(60L);
    amount.counts.add(40L);
    country.counts.add(100L);
    q.predictions.count = 100;
    q.features.add(amount);
    q.features.add(country);
    q.predictions.mean = 0.2 + (meanShift == null ? 0 : meanShift);
    if (meanShift != null) {
      q.previousRunId = "demo-daily-20261127";
      q.previousPredictions = new PredictionDistribution();
      q.previousPredictions.mean = 0.2;
      q.predictionMeanShift = meanShift;
    }
    return q;
  }

  @Test
  public void cleanRunPasses() {
    assertThat(QualityThresholds.defaults().violations(quality(0.05, 0.25, 0.1, 0.2, -0.1)), empty());
  }

  @Test
  public void eachLimitNamesItself() {
    QualityThresholds t = QualityThresholds.defaults();
    assertThat(t.violations(quality(0.06, 0.0, 0.0, 0.0, null)),
        contains("maxDeadLetterRate: dead-letter rate 0.0600 (6 of 100) > 0.05"));
    assertThat(t.violations(quality(0, 0.3, 0.0, 0.0, null)), contains("maxPsi: feature amount PSI 0.3000 > 0.25"));
    assertThat(t.violations(quality(0, 0.0, 0.2, 0.0, null)),
        contains("maxJsDivergence: feature amount JS divergence 0.2000 > 0.1"));
    assertThat(t.violations(quality(0, 0.0, 0.0, 0.5, null)),
        contains("maxCategoryShift: feature country L-infinity 0.5000 > 0.2"));
    assertThat(t.violations(quality(0, 0.0, 0.0, 0.0, -0.15)), contains(
        "maxPredictionMeanShift: mean score moved by -0.1500 against run demo-daily-20261127 (0.2000 -> 0.0500) > 0.1"));
    assertThat(t.withMaxPsi(Double.POSITIVE_INFINITY).violations(quality(0, 50.0, 0.0, 0.0, null)), empty());
  }

  @Test
  public void driftIsNotJudgedOnTooSmallASample() {
    RunQuality drifted = quality(0.5, 9.0, 0.9, 0.9, 0.5);
    assertThat(QualityThresholds.defaults().violations(drifted), hasSize(5));
    // 100 values per feature and 100 scores: below a minimum of 101 only the dead-letter rate counts
    assertThat(QualityThresholds.defaults().withMinDriftSample(101).violations(drifted),
        contains("maxDeadLetterRate: dead-letter rate 0.5000 (50 of 100) > 0.05"));
  }

  @Test
  public void anEmptyRunTripsMinRecords() {
    RunQuality empty = quality(0, null, null, null, null);
    empty.inputRecords = 0;
    empty.unreadable = 3;
    empty.predictions.count = 0;
    assertThat(QualityThresholds.defaults().violations(empty), contains(
        "minRecords: 0 records reached scoring (3 unreadable), fewer than the minimum of 1: an empty or truncated"
            + " input? If so few records are expected, lower --minRecords (0 turns the check off)"));
    assertThat(QualityThresholds.defaults().withMinRecords(0).violations(empty), empty());
    assertThat(QualityThresholds.defaults().withMinRecords(101).violations(quality(0, 0.0, 0.0, 0.0, null)),
        hasSize(1));
    assertThat(QualityThresholds.defaults().withMinRecords(100).violations(quality(0, 0.0, 0.0, 0.0, null)),
        empty());
  }

  @Test
  public void aRecordDropAgainstThePreviousRunTripsMaxRecordDrop() {
    RunQuality q = quality(0, 0.0, 0.0, 0.0, 0.0); // 100 records, previous run demo-daily-20261127
    q.previousRecords = 250L;
    assertThat(QualityThresholds.defaults().violations(q), contains(
        "maxRecordDrop: 100 records against 250 in the previous run demo-daily-20261127, a drop of 0.6000 > 0.5:"
            + " a truncated input? If the smaller input is expected, raise --maxRecordDrop (1 turns the check off)"));
    q.previousRecords = 200L; // a drop of exactly 0.5 passes: limits are inclusive
    assertThat(QualityThresholds.defaults().violations(q), empty());
    q.previousRecords = 100_000L;
    assertThat(QualityThresholds.defaults().withMaxRecordDrop(1).violations(q), empty());
    assertThat(QualityThresholds.defaults().withMaxRecordDrop(0.99).violations(q), hasSize(1));
    q.previousRecords = null; // no previous run: nothing to compare with
    assertThat(QualityThresholds.defaults().withMaxRecordDrop(0).violations(q), empty());
    q.previousRecords = 50L; // more records than before is never a drop
    assertThat(QualityThresholds.defaults().withMaxRecordDrop(0).violations(q), empty());
  }

  @Test
  public void withersValidate() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QualityThresholds.defaults().withMaxDeadLetterRate(1.5));
    assertThat(e.getMessage(), containsString("maxDeadLetterRate must be in [0, 1] or off, but was 1.5"));
    e = assertThrows(IllegalArgumentException.class, () -> QualityThresholds.defaults().withMaxPsi(-1));
    assertThat(e.getMessage(), containsString("maxPsi must be >= 0, but was -1.0"));
    e = assertThrows(IllegalArgumentException.class, () -> QualityThresholds.defaults().withMinRecords(-1));
    assertThat(e.getMessage(), containsString("minRecords must be >= 0 (0 turns the check off), but was -1"));
    e = assertThrows(IllegalArgumentException.class, () -> QualityThresholds.defaults().withMaxRecordDrop(1.5));
    assertThat(e.getMessage(), containsString("maxRecordDrop must be in [0, 1] or off (1 also turns the check off), but was 1.5"));
  }

  @Test
  public void offSwitchesEachLimitOffAndOnlyThatOne() {
    RunQuality q = quality(0.9, 9.0, 0.9, 0.9, null);
    q.previousRecords = 1000L;
    QualityThresholds t = QualityThresholds.defaults().withLimit("maxDeadLetterRate", "off")
        .withLimit("maxPsi", "off").withLimit("maxJsDivergence", "Infinity").withLimit("maxCategoryShift", ".inf");
    assertThat(t.violations(q), contains(
        "maxRecordDrop: 100 records against 1000 in the previous run (unnamed), a drop of 0.9000 > 0.5: a truncated"
            + " input? If the smaller input is expected, raise --maxRecordDrop (1 turns the check off)"));
    assertThat(t.withLimit("maxRecordDrop", "OFF").violations(q), empty());
    q.inputRecords = 0;
    q.previousRecords = null;
    assertThat(t.violations(q), hasSize(1)); // minRecords
    assertThat(t.withLimit("minRecords", "off").violations(q), empty());
    assertThat(t.withLimit("minRecords", "off").minRecords(), org.hamcrest.Matchers.is(0L));
    assertThat(t.withLimit("maxPsi", "0.3").maxPsi(), org.hamcrest.Matchers.is(0.3));
  }

  @Test
  public void withLimitNamesTheLimitAndTheValue() {
    QualityThresholds d = QualityThresholds.defaults();
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("maxPsi", "of")).getMessage(),
        containsString("maxPsi must be a number or off, but was 'of'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("maxPsi", "NaN")).getMessage(),
        containsString("maxPsi must be a number or off, but was 'NaN'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("minRecords", "1.5")).getMessage(),
        containsString("minRecords must be a whole number or off, but was '1.5'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("minRecords", ".inf")).getMessage(),
        containsString("minRecords must be a whole number or off, but was '.inf'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("minDriftSample", "off")).getMessage(),
        containsString("minDriftSample cannot be off"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("maxPsi", "-1")).getMessage(),
        containsString("maxPsi must be >= 0, but was -1.0"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> d.withLimit("maxPSI", "1")).getMessage(),
        containsString("'maxPSI' is not a quality limit"));
  }

  @Test
  public void breakerPassesACleanRunOn() {
    RunQuality q = quality(0, 0.01, 0.01, 0.01, 0.0);
    PCollection<RunQuality> out =
        p.apply(Create.of(q).withCoder(RunQuality.RunQualityCoder.of())).apply(CircuitBreaker.of(QualityThresholds.defaults()));
    PAssert.that(out).containsInAnyOrder(q);
    p.run().waitUntilFinish();
  }

  @Test
  public void breakerThrowsNamingTheLimits() {
    p.apply(Create.of(quality(0.5, 2.0, 0.0, 0.0, null)).withCoder(RunQuality.RunQualityCoder.of()))
        .apply(CircuitBreaker.of(QualityThresholds.defaults()));
    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());
    Throwable cause = e;
    while (cause.getCause() != null && !(cause instanceof CircuitBreaker.Tripped)) {
      cause = cause.getCause();
    }
    assertThat(cause.getMessage(), containsString("circuit breaker tripped for run demo-daily-20261128: "
        + "maxDeadLetterRate: dead-letter rate 0.5000 (50 of 100) > 0.05; maxPsi: feature amount PSI 2.0000 > 0.25"));
    assertThat(((CircuitBreaker.Tripped) cause).violations(), hasSize(2));
  }
}
