package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.ChurnSample;
import dev.batchserve.tools.training.TrainChurnModel;
import dev.batchserve.pipelines.monitoring.RunReport;
import dev.batchserve.transforms.features.FeatureSpec;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The churn job with a model per region in one run ({@code --segmentColumn=region
 * --segmentModels=eu=...,us=...}, {@code --model} for the other regions): every customer is scored
 * by its region's model, as that model scores it outside Beam, and the report counts each model.
 */
public class SegmentModelsPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] REGIONS = {"eu", "us", "apac"};
  private static final int CUSTOMERS = 90;

  private static Path global;
  private static Path eu;
  private static Path us;
  private static Path csv;
  private static final Map<String, Float> REFERENCE = new HashMap<>();
  private static final Map<String, String> VERSION = new HashMap<>();

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    Path models = TMP.getRoot().toPath().resolve("models");
    global = models.resolve("churn/1");
    eu = models.resolve("churn-eu/1");
    us = models.resolve("churn-us/1");
    Map<Path, dev.batchserve.models.training.MlpWeights> trained = new LinkedHashMap<>();
    trained.put(global, TrainChurnModel.train(global, 1500, 7, "1"));
    trained.put(eu, TrainChurnModel.train(eu, 1500, 11, "eu-1"));
    trained.put(us, TrainChurnModel.train(us, 1500, 13, "us-1"));

    List<Map<String, Object>> rows = new ArrayList<>();
    for (int i = 0; i < CUSTOMERS; i++) {
      Map<String, Object> c = ChurnSample.customer(i, 3);
      c.remove(ChurnSample.LABEL);
      c.put("region", REGIONS[i % 3]);
      rows.add(c);
    }
    csv = TMP.getRoot().toPath().resolve("sample/customers.csv");
    writeCsv(rows, csv);

    for (Map<String, Object> row : rows) {
      String region = (String) row.get("region");
      Path model = region.equals("eu") ? eu : region.equals("us") ? us : global;
      // Each model's own spec, as saved in its directory.
      FeatureSpec spec = FeatureSpec.read(model.resolve(TrainChurnModel.SPEC_FILE).toString());
      String key = (String) row.get(ChurnSample.KEY);
      REFERENCE.put(key, trained.get(model).predict(spec.transform(row).vector())[0]);
      VERSION.put(key, dev.batchserve.models.ModelManifest.read(model).getVersion());
    }
  }

  private static void writeCsv(List<Map<String, Object>> rows, Path file) throws Exception {
    Files.createDirectories(file.getParent());
    List<String> columns = new ArrayList<>(rows.get(0).keySet());
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(String.join(",", columns) + "\n");
      for (Map<String, Object> row : rows) {
        w.write(columns.stream().map(c -> row.get(c) == null ? "" : String.valueOf(row.get(c)))
            .collect(Collectors.joining(",")) + "\n");
      }
    }
  }

  private static BatchScoringOptions options(String output, String... extra) {
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--input=" + csv,
        "--keyColumns=" + ChurnSample.KEY, "--model=" + global, "--output=" + output, "--pipelineName=churn",
        "--runDate=2026-11-28", "--numShards=1", "--formats=jsonl", "--targetParallelism=4"));
    args.addAll(List.of(extra));
    return BatchScoringPipeline.options(args.toArray(new String[0]));
  }

  private static Map<String, JsonNode> readJsonl(String runDir) throws Exception {
    Map<String, JsonNode> byKey = new HashMap<>();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = JSON.readTree(line);
          assertTrue("key " + n.get("key") + " appears twice", byKey.put(n.get("key").asText(), n) == null);
        }
      }
    }
    return byKey;
  }

  @Test
  public void eachRegionIsScoredByItsOwnModelInOneRun() throws Exception {
    RunSummary s = BatchScoringPipeline.run(options(TMP.getRoot() + "/out",
        "--segmentColumn=region", "--segmentModels=eu=" + eu + ",us=" + us));
    assertThat(s.predictions, is((long) CUSTOMERS));
    assertThat(s.fallbacks, is(0L));
    Map<String, JsonNode> got = readJsonl(s.runDirectory);
    assertThat(got.keySet(), equalTo(REFERENCE.keySet()));
    for (Map.Entry<String, JsonNode> e : got.entrySet()) {
      JsonNode n = e.getValue();
      assertThat(e.getKey(), n.get("model_version").asText(), is(VERSION.get(e.getKey())));
      assertThat(e.getKey(), n.get("scores").get(0).asDouble(), closeTo(REFERENCE.get(e.getKey()), 1e-5));
    }
    JsonNode report = JSON.readTree(Path.of(s.runDirectory, RunReport.JSON_FILE).toFile());
    JsonNode byModel = report.path("counts").path("predictions_by_model");
    assertThat(byModel.toString(), byModel.path(TrainChurnModel.MODEL_NAME + ":eu-1").asLong(), is(30L));
    assertThat(byModel.toString(), byModel.path(TrainChurnModel.MODEL_NAME + ":us-1").asLong(), is(30L));
    assertThat(byModel.toString(), byModel.path(TrainChurnModel.MODEL_NAME + ":1").asLong(), is(30L));
    assertThat(report.path("models").toString(), containsString(TrainChurnModel.MODEL_NAME + ":eu-1"));
    String prom = Files.readString(Path.of(s.runDirectory, RunReport.PROMETHEUS_FILE));
    assertThat(prom, containsString("batchserve_predictions_by_model_total"));
    // The run's manifest (what readers of the files see) counts the rows of each model too.
    JsonNode manifest = JSON.readTree(Path.of(s.runDirectory, "_MANIFEST.json").toFile());
    JsonNode inManifest = manifest.path("predictions_by_model");
    assertThat(inManifest.toString(), inManifest.path(TrainChurnModel.MODEL_NAME + ":eu-1").asLong(), is(30L));
    assertThat(inManifest.toString(), inManifest.path(TrainChurnModel.MODEL_NAME + ":us-1").asLong(), is(30L));
    assertThat(inManifest.toString(), inManifest.path(TrainChurnModel.MODEL_NAME + ":1").asLong(), is(30L));
  }

  @Test
  public void aPartitionedRunsFingerprintCoversTheSegmentModels() {
    String out = TMP.getRoot() + "/fp";
    String plain = InputFingerprint.of(options(out)).sha256();
    String segmented = InputFingerprint.of(options(out, "--segmentColumn=region", "--segmentModels=eu=" + eu)).sha256();
    assertThat(segmented.equals(plain), is(false));
    assertThat(InputFingerprint.of(options(out, "--segmentColumn=region", "--segmentModels=eu=" + eu)).sha256(),
        is(segmented));
    assertThat(InputFingerprint.of(options(out, "--segmentColumn=region", "--segmentModels=eu=" + us)).sha256()
        .equals(segmented), is(false));
    assertThat(InputFingerprint.of(options(out, "--segmentColumn=plan", "--segmentModels=eu=" + eu)).sha256()
        .equals(segmented), is(false));
  }

  @Test
  public void theOptionsAreCheckedNamingThem() {
    IllegalArgumentException noRule = assertThrows(IllegalArgumentException.class,
        () -> SegmentModels.of(options(TMP.getRoot() + "/x", "--segmentModels=eu=" + eu)));
    assertThat(noRule.getMessage(), containsString("exactly one of --segmentColumn"));
    IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
        () -> SegmentModels.of(options(TMP.getRoot() + "/x", "--segmentModels=eu=" + eu, "--segmentColumn=region",
            "--segmentKeySeparator=:")));
    assertThat(both.getMessage(), containsString("but got both"));
    IllegalArgumentException noModels = assertThrows(IllegalArgumentException.class,
        () -> SegmentModels.of(options(TMP.getRoot() + "/x", "--segmentColumn=region")));
    assertThat(noModels.getMessage(), containsString("need --segmentModels"));
    IllegalArgumentException malformed = assertThrows(IllegalArgumentException.class,
        () -> SegmentModels.parse("eu=/m/eu,us"));
    assertThat(malformed.getMessage(), containsString("the entry 'us' of 'eu=/m/eu,us' is not"));
    assertThat(SegmentModels.parse("eu = /m/eu, us=gs://b/m=2"), equalTo(Map.of("eu", "/m/eu", "us", "gs://b/m=2")));
    assertThat(SegmentModels.of(options(TMP.getRoot() + "/x")), is((Object) null));
  }
}
