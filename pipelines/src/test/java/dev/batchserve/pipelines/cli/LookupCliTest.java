package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.matchesPattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link LookupCli} reading what the Redis sink published (moved with the CLI from RedisPredictionStoreTest). */
@RunWith(JUnit4.class)
public class LookupCliTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();

  private static final String PREFIX = "churn";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private static RunInfo day(LocalDate d) {
    return RunInfo.of("churn", d, RunInfo.Interval.DAILY);
  }

  private static Prediction prediction(RunInfo run, int i) {
    return Prediction.builder()
        .scores(new float[] {run.runDate().getDayOfMonth() + i / 1000f, 0.25f})
        .items(List.of("stay", "leave"))
        .label(i % 2 == 0 ? "stay" : null)
        .confidence(i % 2 == 0 ? 0.8 : null)
        .model("churn-gbt", "12")
        .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
        .runId(run.runId())
        .build();
  }

  private static void publish(RunInfo run, int n) {
    List<KV<String, Prediction>> in = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      in.add(KV.of("cust-" + i, prediction(run, i)));
    }
    Pipeline q = Pipeline.create(PipelineOptionsFactory.create());
    q.apply(Create.of(in).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
        .apply(RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX)
            .withKeepVersions(2).withBatchSize(7));
    q.run().waitUntilFinish();
  }

  private static String[] run(int expectedStatus, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = LookupCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String[] printed = {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    assertThat(String.join("\n---\n", printed), status, equalTo(expectedStatus));
    return printed;
  }

  @Test
  public void theCliPrintsTheLookupAsJson() throws Exception {
    RunInfo run = day(LocalDate.of(2026, 11, 28));
    publish(run, 3);
    String redis = REDIS.host() + ":" + REDIS.port();
    JsonNode found = JSON.readTree(run(0, "lookup", "cust-0", "--redis", redis, "--prefix", PREFIX)[0]);
    assertThat(found.get("key").asText(), equalTo("cust-0"));
    assertThat(found.get("source").asText(), equalTo("store"));
    assertThat(found.get("served_run_id").asText(), equalTo("churn-daily-20261128"));
    assertThat(found.get("fallback_reason").isNull(), equalTo(true));
    assertThat(found.get("computed_because").isNull(), equalTo(true));
    assertThat(found.get("prediction"), equalTo(JSON.readTree(prediction(run, 0).toJson("cust-0"))));
    assertThat(found.get("age_seconds").asLong(), greaterThanOrEqualTo(0L));
    assertThat(found.get("age").asText(), matchesPattern("(\\d+[dhms] ?)+"));

    // both spellings of an option: --prefix=p as well as --prefix p
    JsonNode missing = JSON.readTree(run(1, "lookup", "nope", "--redis=" + redis, "--prefix=" + PREFIX)[0]);
    assertThat(missing.get("source").asText(), equalTo("fallback"));
    assertThat(missing.get("fallback_reason").asText(), equalTo("not_found"));
    assertThat(missing.get("prediction").isNull(), equalTo(true));
    assertThat(missing.get("age_seconds").isNull(), equalTo(true));
    assertThat(missing.get("age").isNull(), equalTo(true));
  }

  @Test
  public void usageErrorsExit2NamingWhatIsWrong() {
    // (the hand parser said "--redis host:port is required" and "expected 'lookup KEY'")
    assertThat(run(2, "lookup", "x")[1], containsString("Missing required option: '--redis=host:port'"));
    assertThat(run(2, "get", "x")[1], containsString("Unmatched arguments from index 0: 'get', 'x'"));
    assertThat(run(2, "lookup", "x", "--redis", "h:1", "--password-env", "A", "--password-file", "f")[1],
        containsString("mutually exclusive"));
    assertThat(run(2, "lookup", "x", "--redis", "no-port")[1], containsString("no-port"));
    assertThat(run(0, "lookup", "--help")[0], containsString("--password-env"));
  }

  @Test
  public void aRunWhoseInputWindowEndsInTheFutureStillHasAPositiveAgeInTheJson() throws Exception {
    // Today's run: its prediction timestamp (the end of its window) is tomorrow.
    publish(day(LocalDate.now(ZoneOffset.UTC)), 3);
    Thread.sleep(1100);
    String redis = REDIS.host() + ":" + REDIS.port();
    JsonNode found = JSON.readTree(run(0, "lookup", "cust-1", "--redis", redis, "--prefix", PREFIX)[0]);
    long seconds = found.get("age_seconds").asLong();
    assertThat(found.get("age_seconds").isIntegralNumber(), equalTo(true));
    assertThat(seconds, greaterThanOrEqualTo(1L));
    assertThat(seconds, lessThan(120L));
    assertThat(found.get("age").asText(), equalTo(Age.human(Duration.ofSeconds(seconds))));
    assertThat(Instant.parse(found.get("published_at").asText()).isBefore(Instant.now()), equalTo(true));
  }
}
