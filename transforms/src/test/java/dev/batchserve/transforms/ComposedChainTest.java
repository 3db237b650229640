package dev.batchserve.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.batchserve.models.CodeModel;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import dev.batchserve.transforms.features.AnalyzeFeatures;
import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.keys.DuplicateKeyPolicy;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunCounts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The four transforms composed by hand, as a user who brings their own step and model would (issue
 * 16): fit and apply features in one pipeline, edit the vectors in the user's own DoFn, score with a
 * {@link Model} class defined here (no service file, no manifest), join back to the expected keys
 * (cold start and a duplicate included) and publish files, with both invariants holding.
 */
public class ComposedChainTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private static final Schema SCHEMA = Schema.builder()
      .addNullableField("amount", Schema.FieldType.DOUBLE)
      .addNullableField("n", Schema.FieldType.INT64)
      .build();

  /** min/max only: a fit gives the same statistics whatever the bundles, so expectations are exact. */
  private static FeatureSpec template() {
    return FeatureSpec.builder()
        .numeric("amount").range(0, 1000).minMax()
        .integer("n").range(0, 100).passthrough()
        .build();
  }

  private static Row row(Double amount, Long n) {
    return Row.withSchema(SCHEMA).addValues(amount, n).build();
  }

  private static List<Row> training() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      rows.add(row(10.0 + (i * 23) % 400, (long) (i % 9)));
    }
    return rows;
  }

  private static List<KV<String, Row>> scoring() {
    return List.of(
        KV.of("k1", row(50.0, 2L)),
        KV.of("k2", row(300.0, 7L)),
        KV.of("k3", row(5000.0, 1L)), // out of range: a feature dead letter, the key gets its fallback
        KV.of("d", row(20.0, 1L)), // one key, two records: both scored, then neither served
        KV.of("d", row(40.0, 3L)));
  }

  /** The user's own step between features and model: appends amount x n as a third feature. */
  static final class AddInteraction extends DoFn<KV<String, FeatureVector>, KV<String, FeatureVector>> {
    @ProcessElement
    public void process(@Element KV<String, FeatureVector> kv, OutputReceiver<KV<String, FeatureVector>> out) {
      out.output(KV.of(kv.getKey(), edit(kv.getValue())));
    }

    static FeatureVector edit(FeatureVector v) {
      return FeatureVector.of(new float[] {v.get(0), v.get(1), v.get(0) * v.get(1)});
    }
  }

  /** The user's model, known only to this test: a weighted sum of three features. */
  static final class MyModel implements Model {
    @Override
    public ModelSignature signature() {
      return new ModelSignature("mine",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 3})),
          List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        out[i] = new float[] {score(batch[i])};
      }
      return out;
    }

    static float score(float[] x) {
      return 0.5f * x[0] + 0.01f * x[1] + 0.1f * x[2];
    }

    @Override
    public void close() {}
  }

  private static Prediction.Builder stamped(String model, String version) {
    return Prediction.builder().model(model, version)
        .predictionTimestampMillis(TestFixtures.RUN.predictionTimestamp().toEpochMilli())
        .runId(TestFixtures.RUN.runId());
  }

  @Test
  public void aHandComposedChainKeepsEveryGuarantee() throws Exception {
    String root = tmp.getRoot().toPath().resolve("predictions").toString();

    // The same fit, on the host, for the expectations.
    List<Map<String, Object>> maps = new ArrayList<>();
    training().forEach(r -> maps.add(asMap(r)));
    FeatureSpec fitted = FeatureSpec.fit(template(), maps);
    FeatureOutcome outOfRange = fitted.transform(asMap(row(5000.0, 1L)));
    assertThat(outOfRange.kind(), is(FeatureOutcome.Kind.INVALID));
    String rangeReason = outOfRange.reason();

    // 1. Fit and apply in one pipeline.
    PCollection<FeatureSpec> spec = p.apply("Training", Create.of(training()).withCoder(RowCoder.of(SCHEMA)))
        .apply("Fit", AnalyzeFeatures.of(template()));
    PCollection<KV<String, Row>> rows = p.apply("Scoring",
        Create.of(scoring()).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA))));
    FeatureTransform.Result<String> features =
        rows.apply("Features", FeatureTransform.<String>of(AnalyzeFeatures.asView(spec)));
    // 2. The user's own step.
    PCollection<KV<String, FeatureVector>> edited = features.vectors()
        .apply("MyStep", ParDo.of(new AddInteraction()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), FeatureVector.FeatureVectorCoder.of()));
    // 3. The user's model from code.
    BatchInfer.Result<String> inferred = edited.apply("Infer",
        BatchInfer.<String>withModel(CodeModel.of("mine", "1", MyModel::new)).withRunInfo(TestFixtures.RUN));
    // 4. Back to the expected keys, with a cold-start key.
    PCollection<String> expected = p.apply("Expected",
        Create.of(List.of("k1", "k2", "k3", "d", "cold")).withCoder(StringUtf8Coder.of()));
    PCollection<DeadLetter> upstream = PCollectionList.of(features.deadLetters()).and(features.skipped())
        .and(inferred.deadLetters()).apply("Upstream", Flatten.pCollections());
    KeyedPrediction.Result<String> keyed = inferred.predictions().apply("Keys",
        KeyedPrediction.<String>fromPredictions()
            .withRunInfo(TestFixtures.RUN)
            .withModelVersion("1")
            .withInputRecords(rows)
            .withDeadLetters(upstream)
            .withExpectedKeys(expected)
            .withDuplicateKeyPolicy(DuplicateKeyPolicy.ERROR)
            .withFallback(Fallback.constant(0.02f)));
    // 5. Publish after the invariant.
    keyed.predictions().apply("Publish", SinkWithMetadata.<String>files(root)
        .withRunInfo(TestFixtures.RUN)
        .withDeadLetters(keyed.deadLetters())
        .publishAfter(keyed.counts()));

    Prediction fallbackDup = stamped("fallback-constant", "1").scores(new float[] {0.02f})
        .fallbackReason("duplicate_key").build();
    Prediction fallbackRange = stamped("fallback-constant", "1").scores(new float[] {0.02f})
        .fallbackReason("features:" + rangeReason + ":amount").build();
    Prediction fallbackCold = stamped("fallback-constant", "1").scores(new float[] {0.02f})
        .fallbackReason("cold_start").build();
    PAssert.that(keyed.predictions()).containsInAnyOrder(
        KV.of("k1", modelScore(fitted, row(50.0, 2L))),
        KV.of("k2", modelScore(fitted, row(300.0, 7L))),
        KV.of("k3", fallbackRange),
        KV.of("d", fallbackDup),
        KV.of("cold", fallbackCold));
    PAssert.that(keyed.deadLetters()).satisfies(dead -> {
      Map<String, List<String>> byKey = new TreeMap<>();
      dead.forEach(d -> byKey.computeIfAbsent(d.getKey(), k -> new ArrayList<>()).add(d.getStep() + ":" + d.getReason()));
      assertThat(byKey, is(Map.of(
          "k3", List.of("features:" + rangeReason),
          "d", List.of("keys:duplicate_key", "keys:duplicate_key"))));
      return null;
    });
    // input records 5 = predictions 2 + dead letters 3; expected keys 5 = predictions 2 + fallbacks 3.
    PAssert.that(keyed.counts()).containsInAnyOrder(new RunCounts(5, 5, 2, 3, 3));

    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));

    // The published run holds exactly one line per expected key.
    Path published = Path.of(FileSink.latestDirectory(root));
    TreeSet<String> keys = new TreeSet<>();
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(published.resolve("jsonl"))) {
      for (Path f : files.sorted().collect(Collectors.toList())) {
        lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
      }
    }
    lines.forEach(l -> keys.add(Prediction.fromJson(l).getKey()));
    assertThat(lines.size(), is(5));
    assertThat(keys, is(new TreeSet<>(List.of("k1", "k2", "k3", "d", "cold"))));
  }

  /** A row as the map {@link FeatureSpec#transform} reads (the fields by name). */
  private static Map<String, Object> asMap(Row row) {
    Map<String, Object> map = new java.util.HashMap<>();
    for (int i = 0; i < row.getSchema().getFieldCount(); i++) {
      map.put(row.getSchema().getField(i).getName(), row.getValue(i));
    }
    return map;
  }

  private static Prediction modelScore(FeatureSpec fitted, Row row) {
    FeatureOutcome o = fitted.transform(asMap(row));
    float[] x = AddInteraction.edit(FeatureVector.of(o.vector())).toArray();
    return stamped("mine", "1").scores(new float[] {MyModel.score(x)}).build();
  }
}
