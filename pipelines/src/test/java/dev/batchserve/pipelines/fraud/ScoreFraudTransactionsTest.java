package dev.batchserve.pipelines.fraud;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.Row;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Raw transactions -> 30-day features -> the existing demo model, end to end. */
public class ScoreFraudTransactionsTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final int ACCOUNTS = 80;
  private static Path modelDir;
  private static dev.batchserve.pipelines.TrainingSet.Trained trained;

  @BeforeClass
  public static void train() {
    modelDir = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    trained = TrainFraudModel.train(modelDir, 3000, 7, "1");
  }

  @Test
  public void everyAccountIsScoredByTheDemoModelAsComputedOutsideBeam() throws Exception {
    ScoreFraudTransactions.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner",
        "--accounts=" + ACCOUNTS, "--seed=42", "--model=" + modelDir, "--fraudTxOutput=" + TMP.getRoot() + "/out",
        "--runDate=2026-11-28", "--numShards=2").as(ScoreFraudTransactions.Options.class);
    RunInfo run = ScoreFraudTransactions.runInfo(o);
    Pipeline p = Pipeline.create(o);
    String runDir = ScoreFraudTransactions.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));

    // The reference: the same aggregation in plain Java, the saved spec, the MLP's forward pass.
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainFraudModel.SPEC_FILE).toString());
    long end = run.windowEnd().toEpochMilli();
    Map<String, Float> expected = new HashMap<>();
    for (int i = 0; i < ACCOUNTS; i++) {
      List<Row> inWindow = new java.util.ArrayList<>();
      FraudTransactions.forAccount(i, 42, run, t -> {
        long ts = t.getDateTime("ts").getMillis();
        if (ts < end && ts >= end - 30L * 86_400_000L) {
          inWindow.add(Row.withSchema(AggregateAccountActivity.TXN).addValues(ts, t.getDouble("amount"),
              t.getString("country"), t.getString("merchant")).build());
        }
      });
      if (inWindow.isEmpty()) {
        continue;
      }
      Row features = AggregateAccountActivity.aggregate(FraudSample.accountId(i), inWindow,
          FraudTransactions.account(i, 42, run).getDateTime("opened").getMillis(), end);
      Map<String, Object> raw = new LinkedHashMap<>();
      features.getSchema().getFieldNames().forEach(f -> raw.put(f, features.getValue(f)));
      expected.put(FraudSample.accountId(i), trained.weights.predict(spec.transform(raw).vector())[0]);
    }

    Map<String, JsonNode> byKey = new HashMap<>();
    ObjectMapper json = new ObjectMapper();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = json.readTree(line);
          assertTrue("duplicate " + n.get("key"), byKey.put(n.get("key").asText(), n) == null);
        }
      }
    }
    assertThat(byKey.size(), is(ACCOUNTS)); // every account of the accounts table, exactly once
    assertTrue(Files.exists(Path.of(runDir, "_SUCCESS")));
    int fallbacks = 0;
    for (Map.Entry<String, JsonNode> e : byKey.entrySet()) {
      JsonNode n = e.getValue();
      assertThat(n.get("run_id").asText(), is("fraud-tx-daily-20261128"));
      if (expected.containsKey(e.getKey())) {
        assertThat(e.getKey(), n.get("score").asDouble(), closeTo(expected.get(e.getKey()), 1e-5));
        assertThat(n.get("model_name").asText(), is("fraud-mlp"));
      } else {
        fallbacks++;
        assertThat(n.get("fallback_reason").asText(), is("cold_start"));
      }
    }
    assertThat(byKey.size() - fallbacks, is(expected.size()));
    Path deadDir = Path.of(runDir, "dead_letters");
    String deadLetters = "";
    if (Files.exists(deadDir)) {
      try (Stream<Path> files = Files.list(deadDir)) {
        for (Path f : files.collect(Collectors.toList())) {
          deadLetters += Files.readString(f);
        }
      }
    }
    assertThat(deadLetters, is(""));
  }
}
