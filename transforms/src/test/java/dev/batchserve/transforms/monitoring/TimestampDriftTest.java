package dev.batchserve.transforms.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.features.AnalyzeFeatures;
import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureSpecBuilder;
import dev.batchserve.transforms.features.FeatureStats;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
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

/**
 * Issue 21: drift of a timestamp is measured on what the model sees (its date parts), so a daily
 * run on dates past training does not trip the breaker while a real shift of another feature
 * does; a feature can be left out of drift in the spec or by the job.
 */
@RunWith(JUnit4.class)
public class TimestampDriftTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Schema SCHEMA = Schema.builder()
      .addNullableField("ts", Schema.FieldType.STRING)
      .addNullableField("amount", Schema.FieldType.DOUBLE).build();
  private static final RunInfo TODAY = RunInfo.of("tx", LocalDate.parse("2026-12-06"), RunInfo.Interval.DAILY);
  private static final Instant TRAINING_START = Instant.parse("2026-01-05T00:00:00Z"); // a Monday

  private static FeatureSpecBuilder template() {
    return FeatureSpec.builder()
        .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK)
        .numeric("amount").histogramBins(4).zscore();
  }

  /** Two weeks, three records an hour, amounts 0..99 cycling. */
  private static List<Map<String, Object>> training() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int h = 0; h < 14 * 24; h++) {
      for (int j = 0; j < 3; j++) {
        Map<String, Object> r = new HashMap<>();
        r.put("ts", TRAINING_START.plusSeconds(3600L * h + 60L * j).toString());
        r.put("amount", (double) ((h * 3 + j) % 100));
        rows.add(r);
      }
    }
    return rows;
  }

  /** One day, every 10 minutes (144 records), amounts as in training unless shifted. */
  private PCollection<KV<String, Row>> today(String name, double shift) {
    List<KV<String, Row>> rows = new ArrayList<>();
    Instant start = Instant.parse("2026-12-06T00:00:00Z");
    for (int i = 0; i < 144; i++) {
      rows.add(KV.of("k" + i, Row.withSchema(SCHEMA)
          .addValues(start.plusSeconds(600L * i).toString(), (double) ((i * 7) % 100) + shift).build()));
    }
    return p.apply(name, Create.of(rows).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
  }

  private PCollection<KV<String, Prediction>> noPredictions(String name) {
    return p.apply(name, Create.empty(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
  }

  @Test
  public void fittingCountsTheDatePartsInBothFitsAndKeepsThemInTheSpecFile() {
    FeatureSpec spec = FeatureSpec.fit(template().build(), training());
    FeatureStats s = spec.feature("ts").stats();
    assertThat(s.datePartCounts(DatePart.HOUR), hasSize(24));
    assertThat(s.datePartCounts(DatePart.HOUR), everyItem(is(42L)));
    assertThat(s.datePartCounts(DatePart.DAY_OF_WEEK), everyItem(is(144L)));
    assertThat(s.datePartCounts(DatePart.MONTH), nullValue());
    assertThat(FeatureSpec.fromJson(spec.toJson()).feature("ts").stats().datePartCounts(DatePart.HOUR),
        is(s.datePartCounts(DatePart.HOUR)));
    assertThat(spec.toJson(), containsString("\"day_of_week\""));

    List<Row> beamRows = new ArrayList<>();
    Schema trainingSchema = Schema.builder().addStringField("ts").addDoubleField("amount").build();
    for (Map<String, Object> r : training()) {
      beamRows.add(Row.withSchema(trainingSchema).addValues(r.get("ts"), r.get("amount")).build());
    }
    PCollection<FeatureSpec> beamFit = p.apply(Create.of(beamRows).withRowSchema(trainingSchema))
        .apply(AnalyzeFeatures.of(template().build()));
    PAssert.thatSingleton(beamFit).satisfies(fitted -> {
      assertThat(fitted.feature("ts").stats().datePartCounts(DatePart.HOUR), is(s.datePartCounts(DatePart.HOUR)));
      assertThat(fitted.feature("ts").stats().datePartCounts(DatePart.DAY_OF_WEEK),
          is(s.datePartCounts(DatePart.DAY_OF_WEEK)));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void aDailyRunPastTrainingPassesWhileARealShiftTrips() {
    FeatureSpec spec = FeatureSpec.fit(template().build(), training());
    QualityThresholds limits = QualityThresholds.defaults().withMinRecords(1);
    PCollection<RunQuality> same = today("SameRows", 0).apply("Same", MeasureRunQuality.<String>of(spec)
        .withRunInfo(TODAY).withPredictions(noPredictions("None1")));
    PCollection<RunQuality> shifted = today("ShiftedRows", 1000).apply("Shifted", MeasureRunQuality.<String>of(spec)
        .withRunInfo(TODAY).withPredictions(noPredictions("None2")));
    PAssert.thatSingleton(same).satisfies(q -> {
      FeatureQuality ts = q.feature("ts");
      assertThat(ts.getPsi(), nullValue());
      assertThat(ts.getDriftSkipped(), containsString("date parts"));
      FeatureQuality hour = q.feature("ts_hour");
      assertThat(hour.getCounts(), everyItem(is(6L)));
      assertThat(hour.getPsi(), closeTo(0.0, 1e-12));
      FeatureQuality weekday = q.feature("ts_day_of_week");
      // 2026-12-06 is a Sunday: one weekday, which a daily run cannot compare with a week of training.
      assertThat(weekday.getCounts(), contains(0L, 0L, 0L, 0L, 0L, 0L, 144L));
      assertThat(weekday.getPsi(), nullValue());
      assertThat(weekday.getDriftSkipped(), is("a daily run sees only part of the day_of_week cycle"));
      assertThat(limits.violations(q), empty());
      return null;
    });
    PAssert.thatSingleton(shifted).satisfies(q -> {
      List<String> v = limits.violations(q);
      assertThat(v, hasItem(startsWith("maxPsi: feature amount")));
      assertThat(v.toString(), v.stream().noneMatch(line -> line.contains("feature ts")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void aFeatureCanBeLeftOutOfDriftInTheSpecOrByTheJob() {
    FeatureSpec noDrift = FeatureSpec.fit(template().noDrift().build(), training());
    assertThat(noDrift.feature("amount").driftChecked(), is(false));
    assertThat(FeatureSpec.fromJson(noDrift.toJson()).feature("amount").driftChecked(), is(false));
    assertThat(noDrift.toJson(), containsString("\"drift\" : false"));
    FeatureSpec spec = FeatureSpec.fit(template().build(), training());
    assertThat(spec.toJson(), org.hamcrest.Matchers.not(containsString("\"drift\"")));
    QualityThresholds limits = QualityThresholds.defaults().withMinRecords(1);

    PCollection<RunQuality> bySpec = today("SpecRows", 1000).apply("BySpec", MeasureRunQuality.<String>of(noDrift)
        .withRunInfo(TODAY).withPredictions(noPredictions("None1")));
    PCollection<RunQuality> byJob = today("JobRows", 1000).apply("ByJob", MeasureRunQuality.<String>of(spec)
        .withRunInfo(TODAY).withPredictions(noPredictions("None2")).withoutDrift(List.of("amount", " ")));
    for (PCollection<RunQuality> q : List.of(bySpec, byJob)) {
      PAssert.thatSingleton(q.getName(), q).satisfies(r -> {
        FeatureQuality amount = r.feature("amount");
        assertThat(amount.getCounts(), contains(0L, 0L, 0L, 144L)); // still profiled
        assertThat(amount.getPsi(), nullValue());
        assertThat(amount.getDriftSkipped(), notNullValue());
        assertThat(limits.violations(r), empty());
        return null;
      });
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MeasureRunQuality.<String>of(spec).withoutDrift(Collections.singletonList("amonut")));
    assertThat(e.getMessage(), containsString("no feature 'amonut' to exclude from drift"));
    p.run().waitUntilFinish();
  }

  @Test
  public void aWeeklyRunComparesWeekdaysButNeverMonths() {
    assertThat(MeasureRunQuality.AssembleFn.covers(RunInfo.Interval.HOURLY, DatePart.HOUR), is(false));
    assertThat(MeasureRunQuality.AssembleFn.covers(RunInfo.Interval.DAILY, DatePart.HOUR), is(true));
    assertThat(MeasureRunQuality.AssembleFn.covers(RunInfo.Interval.DAILY, DatePart.DAY_OF_WEEK), is(false));
    assertThat(MeasureRunQuality.AssembleFn.covers(RunInfo.Interval.WEEKLY, DatePart.DAY_OF_WEEK), is(true));
    assertThat(MeasureRunQuality.AssembleFn.covers(RunInfo.Interval.WEEKLY, DatePart.MONTH), is(false));
  }
}
