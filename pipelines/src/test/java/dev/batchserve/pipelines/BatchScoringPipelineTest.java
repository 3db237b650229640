package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The walking slice end to end: generated sample -> demo TF model trained by project code ->
 * features -> batched inference -> keyed predictions -> Parquet and JSON lines.
 */
public class BatchScoringPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final int ACCOUNTS = 400;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path modelDir;
  private static Path csv;
  private static Path shuffledCsv;
  private static Path parquet;
  private static dev.batchserve.tools.training.TrainingSet.Trained trained;
  /** Scores computed outside Beam: the saved spec's transform, then the MLP's plain-Java forward pass. */
  private static HashMap<String, Float> reference;
  private static List<Map<String, Object>> sample;

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    modelDir = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    trained = TrainFraudModel.train(modelDir, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    sample = rows;
    csv = TMP.getRoot().toPath().resolve("sample/accounts.csv");
    parquet = TMP.getRoot().toPath().resolve("sample/accounts.parquet");
    FraudSample.writeCsv(rows, csv);
    FraudSample.writeParquet(rows, parquet);
    List<Map<String, Object>> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(11));
    shuffledCsv = TMP.getRoot().toPath().resolve("shuffled/accounts.csv");
    FraudSample.writeCsv(shuffled, shuffledCsv);

    // The reference uses the spec as saved in the model directory, exactly what the pipeline reads.
    FeatureSpec saved = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    reference = new HashMap<>();
    for (Map<String, Object> row : rows) {
      float[] x = saved.transform(row).vector();
      reference.put((String) row.get(FraudSample.KEY), trained.weights.predict(x)[0]);
    }
  }

  private BatchScoringOptions options(Path input, String output, String runDate) {
    BatchScoringOptions o = PipelineOptionsFactory.fromArgs(
        "--runner=DirectRunner", "--input=" + input, "--model=" + modelDir, "--output=" + output,
        "--runDate=" + runDate, "--numShards=2").as(BatchScoringOptions.class);
    return o;
  }

  private static Map<String, JsonNode> readJsonl(String runDir) throws Exception {
    Map<String, JsonNode> byKey = new HashMap<>();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = JSON.readTree(line);
          JsonNode before = byKey.put(n.get("key").asText(), n);
          assertTrue("key " + n.get("key") + " appears twice", before == null);
        }
      }
    }
    return byKey;
  }

  @Test
  public void keyedPredictionScoresEverySampleKeyOnceAsComputedOutsideBeam() {
    RunInfo run = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    ReadRecords.Result in = p.apply(ReadRecords.csv(csv.toString()).withKeyColumns(FraudSample.KEY));
    KeyedPrediction.Result<String> r = in.records().apply(
        KeyedPrediction.<String>of(spec, modelDir.toString()).withRunInfo(run).withMaxBatchSize(64));
    HashMap<String, Float> expected = reference;
    PAssert.that(r.predictions()).satisfies(predictions -> {
      Map<String, Prediction> byKey = new HashMap<>();
      for (KV<String, Prediction> kv : predictions) {
        assertTrue("duplicate key " + kv.getKey(), byKey.put(kv.getKey(), kv.getValue()) == null);
      }
      assertThat(byKey.keySet(), is(expected.keySet()));
      for (Map.Entry<String, Prediction> e : byKey.entrySet()) {
        Prediction pr = e.getValue();
        assertThat(e.getKey(), (double) pr.getScores()[0], closeTo(expected.get(e.getKey()), 1e-5));
        assertThat(pr.getModelName(), is("fraud-mlp"));
        assertThat(pr.getModelVersion(), is("1"));
        assertThat(pr.getRunId(), is("fraud-daily-20261128"));
        assertThat(pr.getPredictionTimestampMillis(), is(run.predictionTimestamp().toEpochMilli()));
        assertThat(pr.getFallbackReason(), is((String) null));
      }
      return null;
    });
    PAssert.that(r.deadLetters()).empty();
    PAssert.that(in.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void theJobWritesParquetAndJsonLinesForEveryKeyWithItsMetadata() throws Exception {
    String out = TMP.getRoot() + "/out-main";
    RunSummary s = BatchScoringPipeline.run(options(csv, out, "2026-11-28"));
    assertThat(s.recordsRead, is((long) ACCOUNTS));
    assertThat(s.predictions, is((long) ACCOUNTS));
    assertThat(s.fallbacks, is(0L));
    assertThat(s.deadLetters, is(0L));
    assertThat(s.render(), containsString("Run fraud-daily-20261128 finished"));

    Map<String, JsonNode> rows = readJsonl(s.runDirectory);
    assertThat(rows.keySet(), is(reference.keySet()));
    for (Map.Entry<String, JsonNode> e : rows.entrySet()) {
      JsonNode n = e.getValue();
      assertThat(n.get("score").asDouble(), closeTo(reference.get(e.getKey()), 1e-5));
      assertThat(n.get("model_name").asText(), is("fraud-mlp"));
      assertThat(n.get("model_version").asText(), is("1"));
      double p = reference.get(e.getKey());
      assertThat(n.get("confidence").asDouble(), closeTo(Math.max(p, 1 - p), 1e-5));
      assertThat(n.get("run_id").asText(), is("fraud-daily-20261128"));
      assertThat(n.get("prediction_timestamp").asText(), is("2026-11-29T00:00:00Z"));
      assertThat(n.has("pass_through"), is(false));
    }
    try (Stream<Path> parquetFiles = Files.list(Path.of(s.runDirectory, "parquet"))) {
      assertThat(parquetFiles.count(), is(2L));
    }
    assertTrue(Files.exists(Path.of(s.runDirectory, "_SUCCESS")));
  }

  @Test
  public void shuffledAndParquetInputsGiveTheSamePredictions() throws Exception {
    RunSummary fromCsv = BatchScoringPipeline.run(options(csv, TMP.getRoot() + "/out-a", "2026-11-20"));
    RunSummary fromShuffled = BatchScoringPipeline.run(options(shuffledCsv, TMP.getRoot() + "/out-b", "2026-11-20"));
    RunSummary fromParquet = BatchScoringPipeline.run(options(parquet, TMP.getRoot() + "/out-c", "2026-11-20"));
    Map<String, JsonNode> a = readJsonl(fromCsv.runDirectory);
    assertSamePredictions("shuffled CSV", a, readJsonl(fromShuffled.runDirectory));
    assertSamePredictions("Parquet", a, readJsonl(fromParquet.runDirectory));
  }

  /** Same keys, same scores bit for bit, same metadata. */
  private static void assertSamePredictions(String what, Map<String, JsonNode> want, Map<String, JsonNode> got) {
    assertThat(what + " keys", got.keySet(), is(want.keySet()));
    for (Map.Entry<String, JsonNode> e : want.entrySet()) {
      assertThat(what + " " + e.getKey(), got.get(e.getKey()), is(e.getValue()));
    }
  }

  @Test
  public void theSameRunTwiceWritesByteIdenticalPredictionFiles() throws Exception {
    RunSummary a = BatchScoringPipeline.run(options(csv, TMP.getRoot() + "/twice-a", "2026-11-19"));
    RunSummary b = BatchScoringPipeline.run(options(shuffledCsv, TMP.getRoot() + "/twice-b", "2026-11-19"));
    for (String dir : List.of("jsonl", "parquet")) {
      try (Stream<Path> files = Files.list(Path.of(a.runDirectory, dir))) {
        for (Path f : files.collect(Collectors.toList())) {
          Path g = Path.of(b.runDirectory, dir, f.getFileName().toString());
          assertTrue(dir + "/" + f.getFileName() + " differs",
              java.util.Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(g)));
        }
      }
    }
    assertThat(Files.readString(Path.of(b.runDirectory, "_MANIFEST.json")),
        is(Files.readString(Path.of(a.runDirectory, "_MANIFEST.json"))));
  }

  @Test
  public void passThroughColumnsAreCopiedIntoEveryJsonLineFromCsvAndJsonLines() throws Exception {
    // JSON lines keep only the columns they are told to: the pass-through ones must be among them.
    Path jsonl = TMP.getRoot().toPath().resolve("sample-jsonl/accounts.jsonl");
    Files.createDirectories(jsonl.getParent());
    List<String> lines = new ArrayList<>();
    for (Map<String, Object> row : sample) {
      lines.add(JSON.writeValueAsString(row));
    }
    Files.write(jsonl, lines, StandardCharsets.UTF_8);
    for (Path input : List.of(csv, jsonl)) {
      String out = TMP.getRoot() + "/out-pass-through-" + input.getFileName();
      BatchScoringOptions o = options(input, out, "2026-11-28");
      o.setPassThroughColumns(List.of(FraudSample.LABEL, " home_country"));
      RunSummary s = BatchScoringPipeline.run(o);
      assertThat(s.predictions, is((long) ACCOUNTS));
      Map<String, JsonNode> rows = readJsonl(s.runDirectory);
      assertThat(rows.size(), is(ACCOUNTS));
      for (Map<String, Object> row : sample) {
        JsonNode n = rows.get((String) row.get(FraudSample.KEY));
        String want = "{\"" + FraudSample.LABEL + "\":\"" + row.get(FraudSample.LABEL) + "\",\"home_country\":\""
            + row.get("home_country") + "\"}";
        assertThat(input + " " + row.get(FraudSample.KEY), JSON.writeValueAsString(n.get("pass_through")), is(want));
        assertThat(n.get("score").asDouble(), closeTo(reference.get((String) row.get(FraudSample.KEY)), 1e-5));
      }
      // Parquet: the record pass_through, the same values for every key.
      Map<String, String> parquetValues = new java.util.HashMap<>();
      try (Stream<Path> files = Files.list(Path.of(s.runDirectory, "parquet"))) {
        for (Path f : files.collect(Collectors.toList())) {
          try (org.apache.parquet.hadoop.ParquetReader<org.apache.avro.generic.GenericRecord> r =
              org.apache.parquet.avro.AvroParquetReader.<org.apache.avro.generic.GenericRecord>builder(
                  org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()),
                      new org.apache.hadoop.conf.Configuration())).build()) {
            for (org.apache.avro.generic.GenericRecord rec; (rec = r.read()) != null; ) {
              org.apache.avro.generic.GenericRecord pt = (org.apache.avro.generic.GenericRecord) rec.get("pass_through");
              parquetValues.put(rec.get("key").toString(), pt.get(FraudSample.LABEL) + "|" + pt.get("home_country"));
            }
          }
        }
      }
      assertThat(parquetValues.size(), is(ACCOUNTS));
      for (Map<String, Object> row : sample) {
        assertThat(input + " parquet " + row.get(FraudSample.KEY), parquetValues.get((String) row.get(FraudSample.KEY)),
            is(row.get(FraudSample.LABEL) + "|" + row.get("home_country")));
      }
    }
    BatchScoringOptions missing = options(csv, TMP.getRoot() + "/out-pass-through-missing", "2026-11-28");
    missing.setPassThroughColumns(List.of("row_id"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> BatchScoringPipeline.run(missing)).getMessage(),
        containsString("--passThroughColumns names 'row_id', which " + csv + " does not have"));
    BatchScoringOptions blank = BatchScoringPipeline.options("--input=" + csv, "--passThroughColumns=row_id,,label",
        "--model=" + modelDir, "--output=" + TMP.getRoot() + "/out-pass-through-blank");
    assertThat(blank.getPassThroughColumns(), is(List.of("row_id", "", "label")));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.build(Pipeline.create(blank), blank)).getMessage(),
        containsString("--passThroughColumns: pass-through columns must be non-empty names, but were [row_id, , label]"));
  }

  @Test
  public void aRerunOfTheSameRunDateWritesNoDuplicates() throws Exception {
    String out = TMP.getRoot() + "/out-rerun";
    BatchScoringPipeline.run(options(csv, out, "2026-11-21"));
    RunSummary again = BatchScoringPipeline.run(options(csv, out, "2026-11-21"));
    assertThat(readJsonl(again.runDirectory).size(), is(ACCOUNTS));
  }

  @Test
  public void badOptionsFailWithAMessageNamingTheOption() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.runInfo(options(csv, "/tmp/x", "28/11/2026"))).getMessage(),
        containsString("--runDate must be yyyy-mm-dd"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.options("--fallback=median")).getMessage(),
        containsString("--fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]'"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.options("--fallback=previous_run:previous_run")).getMessage(),
        containsString("--fallback previous_run takes an optional"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.options("--duplicateKeys=first")).getMessage(),
        containsString("--duplicateKeys must be one of error, last_wins, but was 'first'"));
    p.enableAbandonedNodeEnforcement(false);
  }

  /**
   * The default graph's full shuffles are counted, so no change adds one silently (issue 16). The
   * bound is today's count: DESIGN.md ("Shuffles of the default graph") lists where each comes from
   * and which ones Core v2's single shuffle removes; lower it as they go, never raise it without a
   * note there.
   */
  @Test
  public void theDefaultGraphHasNoMoreGroupByKeysThanDesignMdAllows() {
    Pipeline graph = Pipeline.create(options(csv, TMP.getRoot() + "/graph-out", "2026-11-28"));
    BatchScoringPipeline.build(graph, graph.getOptions().as(BatchScoringOptions.class));
    Map<String, Integer> byStep = new java.util.TreeMap<>();
    List<String> all = new ArrayList<>();
    graph.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        if (node.getTransform() instanceof GroupByKey) {
          String name = node.getFullName();
          all.add(name);
          byStep.merge(name.contains("/") ? name.substring(0, name.indexOf('/')) : name, 1, Integer::sum);
        }
      }
    });
    int total = byStep.values().stream().mapToInt(Integer::intValue).sum();
    assertTrue("GroupByKey primitives per top-level step: " + byStep + " (" + total + "): " + all,
        total <= MAX_GROUP_BY_KEYS);
  }

  /**
   * Issue 16 item 4: the join back writes the files' shards as it resolves the keys, so the files sink
   * has no regroup by shard of its own.
   */
  @Test
  public void theJoinBackWritesTheShardsAndTheFilesSinkDoesNotRegroup() {
    Pipeline graph = Pipeline.create(options(csv, TMP.getRoot() + "/one-shuffle-out", "2026-11-28"));
    BatchScoringPipeline.build(graph, graph.getOptions().as(BatchScoringOptions.class));
    List<String> names = new ArrayList<>();
    graph.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        names.add(node.getFullName());
        return CompositeBehavior.ENTER_TRANSFORM;
      }

      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        names.add(node.getFullName());
      }
    });
    assertTrue(names.toString(), names.stream().anyMatch(n -> n.endsWith("/JoinBack/ResolveKeysAndWriteShards")));
    assertTrue(names.toString(), names.stream().noneMatch(n -> n.contains("GroupShards") || n.contains("ResolveKeys/")));
    assertTrue(names.toString(), names.stream().anyMatch(n -> n.startsWith("WriteFiles/") && n.contains("CheckWrittenFiles")));
  }

  @Test
  public void theShardCountFollowsTheInputSizeUnlessItIsGiven() throws Exception {
    Path big = TMP.newFolder("sized").toPath().resolve("big.csv");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(100L << 20); // sparse: 100 MiB of size, no data written
    }
    BatchScoringOptions o = PipelineOptionsFactory.fromArgs("--input=" + big, "--model=m", "--output=o")
        .as(BatchScoringOptions.class);
    assertThat("100 MiB / 4 MiB per shard", OptionValues.numShards(o, ReadRecords.Format.CSV), is(25));
    assertThat("100 MiB / 512 KiB per shard", OptionValues.numShards(o, ReadRecords.Format.PARQUET), is(200));
    o.setPartitions(10);
    o.setPartition(1);
    assertThat("a partition's share, at least 4", OptionValues.numShards(o, ReadRecords.Format.CSV), is(4));
    o.setPartitions(2);
    assertThat("a partition's share", OptionValues.numShards(o, ReadRecords.Format.CSV), is(13));
    o.setPartition(-1);
    o.setInput(csv.toString());
    assertThat("a small input", OptionValues.numShards(o, ReadRecords.Format.CSV), is(4));
    assertThat("size unknown", OptionValues.numShards(o, ReadRecords.Format.JDBC), is(4));
    o.setNumShards(9);
    assertThat("given", OptionValues.numShards(o, ReadRecords.Format.CSV), is(9));
    o.setNumShards(-1);
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> OptionValues.numShards(o, ReadRecords.Format.CSV)).getMessage(),
        containsString("--numShards must be 0 (auto: from the run's size) or in [1, 10000], but was -1"));
  }

  @Test
  public void adaptiveBatchSizesReachTheModelStep() {
    assertThat(OptionValues.adaptiveBatchSize(""), is((int[]) null));
    assertThat(OptionValues.adaptiveBatchSize(" 16..4096 "), is(new int[] {16, 4096}));
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.adaptiveBatchSize("4096"))
        .getMessage(), containsString("--adaptiveBatchSize must be <min>..<max>, e.g. 16..4096, but was '4096'"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> OptionValues.adaptiveBatchSize("64..8"))
        .getMessage(), containsString("--adaptiveBatchSize=64..8: adaptive max batch size must be in [min=64"));

    BatchScoringOptions o = options(csv, TMP.getRoot() + "/adaptive-out", "2026-11-28");
    o.setAdaptiveBatchSize("8..64");
    Pipeline graph = Pipeline.create(o);
    BatchScoringPipeline.build(graph, o);
    List<String> adaptive = new ArrayList<>();
    graph.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        if (node.getTransform() instanceof dev.batchserve.transforms.inference.BatchInfer
            && ((dev.batchserve.transforms.inference.BatchInfer<?>) node.getTransform()).isAdaptiveBatchSize()) {
          adaptive.add(node.getFullName());
        }
        return CompositeBehavior.ENTER_TRANSFORM;
      }
    });
    assertEquals(List.of("KeyedPrediction/Infer"), adaptive);
  }

  /**
   * Issue 16 item 5: every input record is parsed once. The only step of the default graph that
   * reads raw rows as features is FeatureTransform's encoder; the quality report takes its feature
   * profile from there (the quality ledger merges them) and never profiles the rows again.
   */
  @Test
  public void theDefaultGraphParsesEachRecordOnce() {
    Pipeline graph = Pipeline.create(options(csv, TMP.getRoot() + "/parse-once-out", "2026-11-28"));
    BatchScoringPipeline.build(graph, graph.getOptions().as(BatchScoringOptions.class));
    List<String> encoders = new ArrayList<>();
    List<String> names = new ArrayList<>();
    graph.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        names.add(node.getFullName());
        return CompositeBehavior.ENTER_TRANSFORM;
      }

      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        names.add(node.getFullName());
        if (node.getTransform() instanceof ParDo.MultiOutput
            && ((ParDo.MultiOutput<?, ?>) node.getTransform()).getFn().getClass().getName()
                .endsWith("FeatureTransform$EncodeFn")) {
          encoders.add(node.getFullName());
        }
      }
    });
    assertEquals(List.of("KeyedPrediction/Features/Encode"), encoders);
    assertTrue(names.toString(), names.stream().anyMatch(n -> n.startsWith("Quality/QualityLedgerTagFeatureProfiles")));
    assertTrue(names.toString(), names.stream().noneMatch(n -> n.contains("ProfileRows")));
  }

  /**
   * Issue 16 item 5: the previous run is read once, though the job uses it twice (the
   * previous-run fallback and the change rate of the quality report).
   */
  @Test
  public void thePreviousRunIsReadOnce() throws Exception {
    String out = TMP.getRoot() + "/read-once-out";
    BatchScoringPipeline.run(options(csv, out, "2026-11-27"));
    BatchScoringOptions next = options(csv, out, "2026-11-28");
    next.setFallback(dev.batchserve.transforms.keys.Fallback.parse("previous_run"));
    Pipeline graph = Pipeline.create(next);
    BatchScoringPipeline.build(graph, next);
    List<String> reads = new ArrayList<>();
    graph.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        if (node.getTransform() instanceof org.apache.beam.sdk.io.TextIO.Read) {
          reads.add(node.getFullName());
        }
        return CompositeBehavior.ENTER_TRANSFORM;
      }
    });
    assertEquals(List.of("ReadPreviousPredictions"), reads);
  }

  /** See DESIGN.md, "Shuffles of the default graph". */
  static final int MAX_GROUP_BY_KEYS = 8;
}
