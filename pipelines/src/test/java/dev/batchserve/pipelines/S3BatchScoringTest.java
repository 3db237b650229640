package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.aws.testing.S3ProxyServer;
import dev.batchserve.transforms.sink.FileSink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The scoring job with everything on S3 (a real S3 API: S3Proxy): {@code s3://} input, {@code s3://}
 * model directory, {@code s3://} prediction files. Readers follow {@code _LATEST} and the manifest
 * only, never a path built from the run id.
 */
public class S3BatchScoringTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final S3ProxyServer S3 = new S3ProxyServer();

  private static final int ACCOUNTS = 1000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LAKE = "lake";
  private static final String OUT = "predictions";
  private static Set<String> sampleKeys;

  @BeforeClass
  public static void stageInputAndModel() throws Exception {
    Path modelDir = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    TrainFraudModel.train(modelDir, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 11);
    Path csv = TMP.getRoot().toPath().resolve("sample/accounts.csv");
    FraudSample.writeCsv(rows, csv);
    sampleKeys = new TreeSet<>();
    for (Map<String, Object> row : rows) {
      sampleKeys.add((String) row.get(FraudSample.KEY));
    }
    // Drifted input for the run that must not publish: amounts x10 trip the circuit breaker (PSI).
    for (Map<String, Object> row : rows) {
      for (String amount : List.of("amount_mean_30d", "amount_max_30d", "amount_std_30d")) {
        if (row.get(amount) != null) {
          row.put(amount, ((Double) row.get(amount)) * 10);
        }
      }
    }
    Path shifted = TMP.getRoot().toPath().resolve("shifted/accounts.csv");
    FraudSample.writeCsv(rows, shifted);

    S3.createBucket(LAKE);
    S3.createBucket(OUT);
    S3.upload(csv.getParent(), LAKE, "input/day1");
    S3.upload(shifted.getParent(), LAKE, "input/day2");
    S3.upload(modelDir, LAKE, "models/fraud-mlp/1");
  }

  private static BatchScoringOptions options(String input, String runDate) {
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--input=" + input,
        "--model=s3://" + LAKE + "/models/fraud-mlp/1", "--output=s3://" + OUT + "/fraud",
        "--runDate=" + runDate, "--numShards=2", "--progressEvery=0",
        // Both formats: a Parquet shard's channel used to be closed twice, which S3 refuses.
        "--formats=parquet,jsonl"));
    args.addAll(S3.pipelineArgs());
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  /** The published run's directory, relative to the bucket: what {@code _LATEST} names, under the root. */
  private static String latestRunDir() {
    String latest = new String(S3.get(OUT, "fraud/" + FileSink.LATEST), StandardCharsets.UTF_8).trim();
    assertThat("_LATEST names a path under the root: " + latest, latest.startsWith("/") || latest.contains(".."), is(false));
    return "fraud/" + (latest.endsWith("/") ? latest.substring(0, latest.length() - 1) : latest);
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /**
   * Checks the run {@code _LATEST} names: it has {@code _SUCCESS}, every file of its manifest exists
   * with the manifest's sha256 and size, and its JSON lines hold every sample key exactly once.
   * Returns the predictions by key.
   */
  private static Map<String, JsonNode> assertPublished(String runId) throws Exception {
    String runDir = latestRunDir();
    List<String> keys = S3.keys(OUT);
    assertThat(keys, hasItem(runDir + "/" + FileSink.SUCCESS));
    JsonNode manifest = JSON.readTree(S3.get(OUT, runDir + "/" + FileSink.MANIFEST));
    assertThat(manifest.get("run_id").asText(), equalTo(runId));
    assertThat(manifest.get("records").asLong(), equalTo((long) ACCOUNTS));
    int files = 0;
    Map<String, JsonNode> byKey = new TreeMap<>();
    for (java.util.Iterator<Map.Entry<String, JsonNode>> it = manifest.get("files").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> format = it.next();
      for (JsonNode f : format.getValue()) {
        String key = runDir + "/" + f.get("path").asText();
        byte[] bytes = S3.get(OUT, key);
        assertThat(key, sha256(bytes), equalTo(f.get("sha256").asText()));
        assertThat(key, (long) bytes.length, equalTo(f.get("bytes").asLong()));
        files++;
        if (format.getKey().equals("jsonl")) {
          for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) {
              continue;
            }
            JsonNode n = JSON.readTree(line);
            JsonNode before = byKey.put(n.get("key").asText(), n);
            assertTrue("key " + n.get("key") + " written twice in " + runDir, before == null);
            assertThat(n.get("run_id").asText(), equalTo(runId));
          }
        }
      }
    }
    assertThat(manifest.get("files").get("jsonl").size(), equalTo(2)); // --numShards=2
    assertThat(manifest.get("files").get("parquet").size(), equalTo(2)); // written whole on S3 too
    assertThat(files >= 2, is(true)); // plus any dead letters' file, checked the same way
    assertThat(byKey.keySet(), equalTo(sampleKeys));
    return byKey;
  }

  @Test
  public void readsS3InputAndModelPublishesToS3AndAFailedLaterRunLeavesItServed() throws Exception {
    RunSummary first = BatchScoringPipeline.run(options("s3://" + LAKE + "/input/day1/accounts.csv", "2026-11-28"));
    assertThat(first.runId, equalTo("fraud-daily-20261128"));
    Map<String, JsonNode> served = assertPublished("fraud-daily-20261128");
    String servedDir = latestRunDir();
    Map<String, String> objectsBefore = new TreeMap<>();
    for (String k : S3.keys(OUT)) {
      if (k.startsWith(servedDir + "/")) {
        objectsBefore.put(k, sha256(S3.get(OUT, k)));
      }
    }

    // The next day's run stops before its publish step (the circuit breaker trips on drifted input):
    // the previous run stays served, every byte of it unchanged.
    RuntimeException e = assertThrows(RuntimeException.class, () -> BatchScoringPipeline.run(
        options("s3://" + LAKE + "/input/day2/accounts.csv", "2026-11-29")));
    String messages = StoreTestMessages.of(e);
    assertThat(messages, containsString("circuit breaker tripped for run fraud-daily-20261129"));
    // It got as far as writing to the bucket (its quality file and failure report at least).
    assertThat("the failed run wrote objects before it stopped",
        S3.keys(OUT).stream().anyMatch(k -> k.contains("fraud-daily-20261129")), is(true));

    assertThat(latestRunDir(), equalTo(servedDir));
    assertThat(assertPublished("fraud-daily-20261128"), equalTo(served));
    for (Map.Entry<String, String> o : objectsBefore.entrySet()) {
      assertThat(o.getKey(), sha256(S3.get(OUT, o.getKey())), equalTo(o.getValue()));
    }
    assertThat(S3.keys(OUT).stream().anyMatch(k -> k.startsWith("fraud/" + FileSink.LATEST + ".tmp")), is(false));

    // A clean re-run of the next day publishes it, every key once.
    RunSummary third = BatchScoringPipeline.run(options("s3://" + LAKE + "/input/day1/accounts.csv", "2026-11-29"));
    assertThat(third.runId, equalTo("fraud-daily-20261129"));
    assertPublished("fraud-daily-20261129");
    assertThat(latestRunDir(), not(equalTo(servedDir)));
  }

  /** The messages of an exception and its causes, one per line. */
  static final class StoreTestMessages {
    static String of(Throwable e) {
      StringBuilder all = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause()) {
        all.append(t).append('\n');
      }
      return all.toString();
    }
  }
}
