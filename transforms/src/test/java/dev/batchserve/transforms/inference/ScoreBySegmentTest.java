package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.models.linear.LinearModelFile;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.transforms.TestFixtures;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunCounts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Three segments, two segment models and a default: each record scored by its own segment's model
 * (with that model's own feature spec), exactly as the model scores it outside Beam.
 */
public class ScoreBySegmentTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  static final Schema SCHEMA = Schema.builder()
      .addNullableField("region", FieldType.STRING)
      .addNullableField("a", FieldType.STRING)
      .addNullableField("b", FieldType.STRING)
      .addNullableField("c", FieldType.STRING)
      .build();
  private static final KvCoder<String, Row> CODER = KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA));
  private static final List<Map<String, Object>> TRAINING = List.of(
      Map.of("a", 1.0, "b", 2.0, "c", 3.0), Map.of("a", -1.0, "b", 0.0, "c", 5.0), Map.of("a", 4.0, "b", 1.0, "c", 0.0));

  private static String globalModel;
  private static String euModel;
  private static String usModel;
  private static final Map<String, FeatureSpec> SPECS = new HashMap<>();

  @BeforeClass
  public static void setUp() throws Exception {
    FeatureSpec abc = TestFixtures.passthroughSpec(TRAINING);
    // The US model has a spec of its own: a z-scored, b as is, no c.
    FeatureSpec us = FeatureSpec.fit(FeatureSpec.builder().numeric("a").zscore().numeric("b").passthrough().build(),
        TRAINING);
    globalModel = model("global", "churn", "7", new float[] {1f, 2f, -1f}, 0.5f, abc);
    euModel = model("eu", "churn-eu", "3", new float[] {-0.5f, 1f, 3f}, -2f, abc);
    usModel = model("us", "churn-us", "5", new float[] {2f, -4f}, 1f, us);
  }

  /** A linear model with its spec saved into its directory, as the training job leaves it. */
  private static String model(String dirName, String name, String version, float[] w, float bias, FeatureSpec spec)
      throws Exception {
    Path dir = TMP.newFolder(dirName).toPath();
    LinearExporter.export(new LinearModelFile(new float[][] {w}, new float[] {bias}, "identity"), dir,
        ModelManifest.builder().name(name).version(version).inputFeatures(spec.outputNames())
            .outputKind(OutputKind.SCORE).build());
    SaveSpecToModel.write(spec, dir);
    SPECS.put(dir.toString(), spec);
    return dir.toString();
  }

  static KV<String, Row> row(String key, String region, double a, double b, double c) {
    return KV.of(key, Row.withSchema(SCHEMA).addValues(region, Double.toString(a), Double.toString(b),
        Double.toString(c)).build());
  }

  /** 30 records: eu, us and apac (which has no model of its own) in turn. */
  static List<KV<String, Row>> rows() {
    String[] regions = {"eu", "us", "apac"};
    List<KV<String, Row>> rows = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      rows.add(row("k" + i, regions[i % 3], i * 0.5, 1.5 - i, (i % 7) - 3));
    }
    return rows;
  }

  /** What the model at {@code modelUri} says for the row, encoded with its own spec, outside Beam. */
  static Prediction expected(String modelUri, Row row) {
    Map<String, Object> raw = new HashMap<>();
    for (String f : List.of("a", "b", "c")) {
      raw.put(f, row.getString(f));
    }
    float[] vector = SPECS.get(modelUri).transform(raw).vector();
    ModelManifest manifest = ModelManifest.read(Path.of(modelUri));
    try (Model m = Models.load(Path.of(modelUri))) {
      float[] out = m.predict(new float[][] {vector})[0];
      return Prediction.builder().scores(out).model(manifest.getName(), manifest.getVersion())
          .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
          .runId(TestFixtures.RUN.runId()).build();
    }
  }

  static Prediction fallback(String reason, String version) {
    return Prediction.builder().scores(new float[] {0.02f}).model("fallback-constant", version)
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId()).fallbackReason(reason).build();
  }

  private static ScoreBySegment<String> byRegion() {
    return ScoreBySegment.<String>byColumn("region")
        .withModel("eu", euModel)
        .withModel("us", usModel)
        .withRunInfo(TestFixtures.RUN);
  }

  @Test
  public void eachSegmentIsScoredByItsOwnModelAndTheRestByTheDefault() {
    p.getOptions().as(DirectOptions.class).setTargetParallelism(4);
    List<KV<String, Row>> rows = rows();
    List<KV<String, Prediction>> want = new ArrayList<>();
    for (KV<String, Row> kv : rows) {
      String region = kv.getValue().getString("region");
      String model = region.equals("eu") ? euModel : region.equals("us") ? usModel : globalModel;
      want.add(KV.of(kv.getKey(), expected(model, kv.getValue())));
    }
    // The three models really disagree on a record, so a wrong routing cannot pass.
    Row any = rows.get(0).getValue();
    assertThat(expected(euModel, any).equals(expected(globalModel, any)), equalTo(false));

    ScoreBySegment.Result<String> r = p.apply(Create.of(rows).withCoder(CODER))
        .apply(byRegion().withDefaultModel(globalModel).withMaxBatchSize(4));
    PAssert.that(r.predictions()).containsInAnyOrder(want);
    PAssert.that(r.deadLetters()).empty();
    PAssert.that(r.modelCounts()).containsInAnyOrder(
        KV.of("churn-eu:3", 10L), KV.of("churn-us:5", 10L), KV.of("churn:7", 10L));
    assertThat(r.segmentModels(), equalTo(Map.of("eu", "churn-eu:3", "us", "churn-us:5")));
    assertThat(r.defaultModel(), equalTo("churn:7"));

    long loadsBefore = SharedModelCache.loadCount();
    p.run().waitUntilFinish();
    // Four worker threads, three models: each model loaded once, shared by every DoFn instance.
    assertThat(SharedModelCache.loadCount() - loadsBefore, equalTo(3L));
  }

  @Test
  public void aSegmentWithoutAModelGetsItsFallbackWithTheReasonAndTheInvariantHolds() {
    List<KV<String, Row>> rows = rows();
    rows.add(row("nowhere", null, 1, 2, 3));
    PCollection<KV<String, Row>> input = p.apply(Create.of(rows).withCoder(CODER));
    ScoreBySegment.Result<String> scored = input.apply(byRegion());
    KeyedPrediction.Result<String> keyed = scored.predictions().apply(
        KeyedPrediction.<String>fromPredictions()
            .withRunInfo(TestFixtures.RUN)
            .withInputRecords(input)
            .withDeadLetters(scored.deadLetters())
            .withFallback(Fallback.constant(0.02f)));

    List<KV<String, Prediction>> want = new ArrayList<>();
    for (KV<String, Row> kv : rows) {
      String region = kv.getValue().getString("region");
      want.add(KV.of(kv.getKey(),
          region == null ? fallback("segments:missing_segment:region", "unknown")
              : region.equals("eu") ? expected(euModel, kv.getValue())
              : region.equals("us") ? expected(usModel, kv.getValue())
              : fallback("segments:no_model_for_segment:apac", "unknown")));
    }
    PAssert.that(keyed.predictions()).containsInAnyOrder(want);
    PAssert.that(scored.deadLetters()).satisfies(dead -> {
      Map<String, String> reasons = new TreeMap<>();
      for (DeadLetter d : dead) {
        reasons.merge(d.getStep() + ":" + d.getReason() + ":" + d.getField(), "1", (x, y) -> String.valueOf(
            Integer.parseInt(x) + 1));
        assertThat(d.getRecord(), containsString("region"));
      }
      assertThat(reasons, equalTo(Map.of("segments:no_model_for_segment:apac", "10",
          "segments:missing_segment:region", "1")));
      return null;
    });
    PAssert.that(scored.modelCounts()).containsInAnyOrder(KV.of("churn-eu:3", 10L), KV.of("churn-us:5", 10L));
    // input = predictions + dead letters (31 = 20 + 11); expected = predictions + fallbacks (31 = 20 + 11)
    PAssert.that(keyed.counts()).containsInAnyOrder(new RunCounts(31, 31, 20, 11, 11));
    p.run().waitUntilFinish();
  }

  @Test
  public void theSegmentCanBeTheKeyPrefix() {
    List<KV<String, Row>> rows = List.of(
        row("eu:1", null, 1, 2, 3), row("us:2", null, 4, 5, 6), row("apac:3", null, 7, 8, 9), row("plain", null, 1, 1, 1));
    ScoreBySegment.Result<String> r = p.apply(Create.of(rows).withCoder(CODER))
        .apply(ScoreBySegment.<String>byKeyPrefix(":")
            .withModels(Map.of("eu", euModel, "us", usModel))
            .withDefaultModel(globalModel)
            .withRunInfo(TestFixtures.RUN));
    PAssert.that(r.predictions()).containsInAnyOrder(
        KV.of("eu:1", expected(euModel, rows.get(0).getValue())),
        KV.of("us:2", expected(usModel, rows.get(1).getValue())),
        KV.of("apac:3", expected(globalModel, rows.get(2).getValue())),
        KV.of("plain", expected(globalModel, rows.get(3).getValue())));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void oneCallKeyedPredictionUsesItsOwnModelAsTheDefault() {
    List<KV<String, Row>> rows = rows();
    KeyedPrediction.Result<String> r = p.apply(Create.of(rows).withCoder(CODER))
        .apply(KeyedPrediction.<String>of(SPECS.get(globalModel), globalModel)
            .withRunInfo(TestFixtures.RUN)
            .withFallback(Fallback.constant(0.02f))
            .withSegmentModels(ScoreBySegment.<String>byColumn("region").withModel("eu", euModel).withModel("us", usModel)));
    List<KV<String, Prediction>> want = new ArrayList<>();
    for (KV<String, Row> kv : rows) {
      String region = kv.getValue().getString("region");
      String model = region.equals("eu") ? euModel : region.equals("us") ? usModel : globalModel;
      want.add(KV.of(kv.getKey(), expected(model, kv.getValue())));
    }
    PAssert.that(r.predictions()).containsInAnyOrder(want);
    PAssert.that(r.deadLetters()).empty();
    PAssert.that(r.counts()).containsInAnyOrder(new RunCounts(30, 30, 30, 0, 0));
    p.run().waitUntilFinish();
  }

  @Test
  public void twoModelsWithOneNameAndVersionAreRefused() throws Exception {
    String twin = model("twin", "churn-eu", "3", new float[] {1f, 1f, 1f}, 0f, TestFixtures.passthroughSpec(TRAINING));
    PCollection<KV<String, Row>> input = p.apply(Create.of(rows()).withCoder(CODER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> input.apply(byRegion().withModel("apac", twin)));
    assertThat(e.getMessage(), containsString("both call themselves churn-eu:3"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void aModelWithoutItsSpecIsRefusedNamingIt() throws Exception {
    Path dir = TMP.newFolder("nospec").toPath();
    LinearExporter.export(new LinearModelFile(new float[][] {{1f, 1f, 1f}}, new float[] {0f}, "identity"), dir,
        ModelManifest.builder().name("bare").version("1").inputFeatures(List.of("a", "b", "c"))
            .outputKind(OutputKind.SCORE).build());
    PCollection<KV<String, Row>> input = p.apply(Create.of(rows()).withCoder(CODER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> input.apply(byRegion().withModel("apac", dir.toString())));
    assertThat(e.getMessage(), containsString("has no feature spec"));
    assertThat(e.getMessage(), containsString("SaveSpecToModel.write"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void aSegmentColumnMissingFromTheRowsIsRefused() {
    PCollection<KV<String, Row>> input = p.apply(Create.of(rows()).withCoder(CODER));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> input.apply(ScoreBySegment.<String>byColumn("tenant").withModel("eu", euModel).withRunInfo(TestFixtures.RUN)));
    assertThat(e.getMessage(), containsString("segment column 'tenant' is not in the input rows"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void theOneCallFormRefusesASecondDefaultAndAChallenger() {
    KeyedPrediction<String> keyed = KeyedPrediction.<String>of(SPECS.get(globalModel), globalModel)
        .withRunInfo(TestFixtures.RUN);
    IllegalArgumentException twoDefaults = assertThrows(IllegalArgumentException.class,
        () -> keyed.withSegmentModels(byRegion().withDefaultModel(euModel)));
    assertThat(twoDefaults.getMessage(), containsString("KeyedPrediction's own model (" + globalModel
        + ") is the segments' default"));
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> keyed.withSegmentModels(ScoreBySegment.<String>byColumn("region")));
    assertThat(none.getMessage(), containsString("at least one segment model"));
    PCollection<KV<String, Row>> input = p.apply(Create.of(rows()).withCoder(CODER));
    IllegalStateException challenger = assertThrows(IllegalStateException.class,
        () -> input.apply(keyed.withChallenger(euModel).withSegmentModels(byRegion())));
    assertThat(challenger.getMessage(), containsString("withChallenger cannot be combined with withSegmentModels"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void settingsAreCheckedAtOnce() {
    assertThrows(IllegalArgumentException.class, () -> ScoreBySegment.<String>byColumn(" "));
    assertThrows(IllegalArgumentException.class, () -> ScoreBySegment.<String>byKeyPrefix(""));
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> ScoreBySegment.<String>byColumn("region").withModel("eu", "/m/a").withModel("eu", "/m/b"));
    assertThat(twice.getMessage(), containsString("segment 'eu' has a model already (/m/a)"));
    assertThrows(IllegalArgumentException.class, () -> ScoreBySegment.<String>byColumn("region").withMaxBatchSize(0));
  }
}
