package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.transforms.values.DeadLetter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Fitting a spec and applying it in one pipeline ({@link FeatureTransform#of(PCollectionView)})
 * gives what fitting, saving and then applying the saved spec gives.
 */
@RunWith(JUnit4.class)
public class FitAndApplyTest {
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

  /**
   * Every statistic this template's transforms use (min, max, vocabulary, median) comes out of the
   * fit the same whatever the bundle split, so two fits give bit-identical vectors and the
   * expectations below can be exact. (Mean-based transforms agree to rounding only: the merge
   * order of moments varies.)
   */
  private static FeatureSpec template() {
    return FeatureSpec.builder()
        .numeric("amount").range(0, 1000).log1p().minMax()
        .integer("n").range(0, 100).onInvalid(InvalidPolicy.SKIP).passthrough()
        .categorical("country").oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .numeric("opt").optional().imputeMedian().withMissingIndicator().passthrough()
        .build();
  }

  private static Row r(Double amount, Long n, String country, Double opt) {
    return Row.withSchema(SCHEMA).addValues(amount, n, country, opt, "ignored").build();
  }

  private static List<Row> training() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      rows.add(r(3.0 + (i * 37) % 500, (long) (i % 10), new String[] {"DE", "FR", "IT"}[i % 3],
          i % 4 == 0 ? null : (double) (i % 7)));
    }
    return rows;
  }

  private static List<Map<String, Object>> trainingMaps() {
    List<Map<String, Object>> maps = new ArrayList<>();
    for (Row row : training()) {
      maps.add(FeatureTransform.asMap(row));
    }
    return maps;
  }

  private static List<KV<String, Row>> scoring() {
    List<KV<String, Row>> rows = new ArrayList<>();
    rows.add(KV.of("k1", r(12.0, 3L, "DE", 2.0)));
    rows.add(KV.of("k2", r(0.0, 0L, "JP", null))); // unknown category kept (OOV), opt imputed
    rows.add(KV.of("k3", r(5000.0, 3L, "DE", 1.0))); // out of range: dead letter
    rows.add(KV.of("k4", r(12.0, 500L, "FR", 1.0))); // n out of range under skip: skipped
    rows.add(KV.of("k5", r(null, 3L, "DE", 1.0))); // missing required: dead letter
    rows.add(KV.of("k6", r(999.0, 100L, "IT", 0.0)));
    rows.add(KV.of("k7", r(499.5, 7L, "FR", 6.0)));
    return rows;
  }

  private PCollection<KV<String, Row>> scoringInput() {
    return p.apply("Scoring", Create.of(scoring()).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
  }

  private PCollection<FeatureSpec> fitInPipeline() {
    return p.apply("Training", Create.of(training()).withCoder(RowCoder.of(SCHEMA)))
        .apply("Fit", AnalyzeFeatures.of(template()));
  }

  /** The three outputs FeatureTransform must produce for {@code spec}, written out by hand. */
  private static final class Expected {
    final List<KV<String, FeatureVector>> vectors = new ArrayList<>();
    final List<DeadLetter> deadLetters = new ArrayList<>();
    final List<DeadLetter> skipped = new ArrayList<>();

    Expected(FeatureSpec spec) {
      for (KV<String, Row> kv : scoring()) {
        FeatureOutcome o = spec.transform(FeatureTransform.asMap(kv.getValue()));
        if (o.kind() == FeatureOutcome.Kind.VALID) {
          vectors.add(KV.of(kv.getKey(), FeatureVector.of(o.vector())));
          continue;
        }
        DeadLetter letter = DeadLetter.of(FeatureTransform.STEP, kv.getKey(), DeadLetter.rowRecord(kv.getValue()),
            o.field(), o.reason(), o.message());
        (o.kind() == FeatureOutcome.Kind.INVALID ? deadLetters : skipped).add(letter);
      }
    }
  }

  static String messages(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append(" | ");
    }
    return all.toString();
  }

  @Test
  public void fitAndApplyInOnePipelineGivesExactlyTheOutputsOfFitSaveThenApply() throws IOException {
    List<String> layout = FeatureSpec.fit(template(), trainingMaps()).outputNames();

    // Two steps, as before: a training pipeline fits and saves the spec into the model directory,
    // the scoring pipeline reads it from there.
    Path twoStepModel = SaveSpecToModelTest.exportModel(tmp.getRoot().toPath().resolve("two-step"), layout);
    Pipeline training = Pipeline.create(PipelineOptionsFactory.create());
    training.apply(Create.of(training()).withCoder(RowCoder.of(SCHEMA)))
        .apply(AnalyzeFeatures.of(template()))
        .apply(SaveSpecToModel.into(twoStepModel.toString()));
    assertThat(training.run().waitUntilFinish(), is(PipelineResult.State.DONE));
    String savedSpec = twoStepModel.resolve(SaveSpecToModel.FILE_NAME).toString();
    Expected expected = new Expected(FeatureSpec.read(savedSpec));
    assertThat("the data exercise every outcome", expected.vectors.size(), is(4));
    assertThat(expected.deadLetters.size(), is(2));
    assertThat(expected.skipped.size(), is(1));

    // One pipeline: fit, apply the fitted spec as a side input, and save it.
    Path oneStepModel = SaveSpecToModelTest.exportModel(tmp.getRoot().toPath().resolve("one-step"), layout);
    PCollection<KV<String, Row>> scoring = scoringInput();
    PCollection<FeatureSpec> fitted = fitInPipeline();
    FeatureTransform.Result<String> oneStep = scoring.apply("OneStep",
        FeatureTransform.<String>of(AnalyzeFeatures.asView(fitted)).withModelFeatures(layout));
    fitted.apply("SaveSpec", SaveSpecToModel.into(oneStepModel.toString()));
    // And the second step of the old way, on the same input, for good measure.
    FeatureTransform.Result<String> twoStep =
        scoring.apply("TwoStep", FeatureTransform.<String>fromSpec(savedSpec).withModelFeatures(layout));

    PAssert.that("one-step vectors", oneStep.vectors()).containsInAnyOrder(expected.vectors);
    PAssert.that("one-step dead letters", oneStep.deadLetters()).containsInAnyOrder(expected.deadLetters);
    PAssert.that("one-step skipped", oneStep.skipped()).containsInAnyOrder(expected.skipped);
    PAssert.that("two-step vectors", twoStep.vectors()).containsInAnyOrder(expected.vectors);
    PAssert.that("two-step dead letters", twoStep.deadLetters()).containsInAnyOrder(expected.deadLetters);
    PAssert.that("two-step skipped", twoStep.skipped()).containsInAnyOrder(expected.skipped);
    p.run().waitUntilFinish();

    ModelManifest.read(oneStepModel).verify(oneStepModel);
    Expected fromOneStepSave = new Expected(FeatureSpec.read(oneStepModel.resolve(SaveSpecToModel.FILE_NAME).toString()));
    assertThat(fromOneStepSave.vectors, equalTo(expected.vectors));
  }

  @Test
  public void theSideInputFormSetsTheSameCodersAtConstruction() {
    p.enableAbandonedNodeEnforcement(false);
    PCollectionView<FeatureSpec> view = AnalyzeFeatures.asView(fitInPipeline());
    FeatureTransform<String> t = FeatureTransform.of(view);
    FeatureTransform.Result<String> result = scoringInput().apply(t);
    assertThat(result.vectors().getCoder(),
        equalTo(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of())));
    assertThat(result.deadLetters().getCoder(), equalTo(DeadLetter.DeadLetterCoder.of()));
    assertThat(result.skipped().getCoder(), equalTo(DeadLetter.DeadLetterCoder.of()));
    assertThat(t.specView(), sameInstance(view));
    IllegalStateException e = assertThrows(IllegalStateException.class, t::spec);
    assertThat(e.getMessage(), containsString("only known when the pipeline runs: use specView()"));
  }

  @Test
  public void aLayoutThatDiffersFromTheModelFailsTheRunWhenTheSpecArrives() {
    List<String> model = new ArrayList<>(FeatureSpec.fit(template(), trainingMaps()).outputNames());
    String first = model.get(0);
    model.set(0, "amount_log");
    FeatureTransform.Result<String> result = scoringInput().apply(
        FeatureTransform.<String>of(AnalyzeFeatures.asView(fitInPipeline())).withModelFeatures(model));
    PAssert.that(result.vectors()).empty(); // never reached: the run fails first

    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());

    assertThat(messages(e), containsString("the feature spec fitted in this pipeline cannot be used: feature layout"
        + " differs from the model at position 0: spec has '" + first + "', model expects 'amount_log'"));
  }

  @Test
  public void anUnfittedSpecInTheViewFailsTheRun() {
    PCollectionView<FeatureSpec> view = AnalyzeFeatures.asView(
        p.apply("Template", Create.of(template()).withCoder(FeatureSpec.FeatureSpecCoder.of())));
    scoringInput().apply(FeatureTransform.<String>of(view));

    RuntimeException e = assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());

    assertThat(messages(e), containsString("needs a fitted FeatureSpec"));
    assertThat(messages(e), containsString("fit it with AnalyzeFeatures or FeatureSpec.fit first"));
  }

  @Test
  public void aWindowedSpecIsRefusedAsAView() {
    p.enableAbandonedNodeEnforcement(false);
    PCollection<FeatureSpec> windowed = fitInPipeline()
        .apply(Window.<FeatureSpec>into(FixedWindows.of(Duration.standardMinutes(1))));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> AnalyzeFeatures.asView(windowed));
    assertThat(e.getMessage(), containsString("must be in the global window"));
  }
}
