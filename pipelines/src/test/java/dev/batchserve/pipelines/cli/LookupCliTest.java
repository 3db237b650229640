package dev.batchserve.pipelines.cli;

import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link LookupCli} reading what the Redis sink published (the store itself: RedisPredictionStoreTest). */
@RunWith(JUnit4.class)
public class LookupCliTest {
  @ClassRule public static final RedisServer REDIS = new RedisServer();

  private static final String PREFIX = "churn";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private static void publish(RunInfo run, int n) {
    StoreTestData.publish(run, n,
        RedisSink.<String>to(REDIS.host(), REDIS.port()).withRunInfo(run).withKeyPrefix(PREFIX));
  }

  private static String[] run(int expectedStatus, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = LookupCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(status, equalTo(expectedStatus));
    return new String[] {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  public void theCliPrintsTheLookupAsJson() throws Exception {
    publish(day(28), 3);
    String redis = REDIS.host() + ":" + REDIS.port();
    JsonNode found = JSON.readTree(run(0, "lookup", key(0), "--redis", redis, "--prefix", PREFIX)[0]);
    assertThat(found.get("key").asText(), equalTo(key(0)));
    assertThat(found.get("source").asText(), equalTo("store"));
    assertThat(found.get("served_run_id").asText(), equalTo(day(28).runId()));
    assertThat(found.get("fallback_reason").isNull(), equalTo(true));
    assertThat(found.get("computed_because").isNull(), equalTo(true));
    assertThat(found.get("prediction"), equalTo(JSON.readTree(prediction(day(28), 0).toJson(key(0)))));

    assertThat(found.get("age_seconds").asLong(), org.hamcrest.Matchers.greaterThanOrEqualTo(0L));
    assertThat(found.get("age").asText(), org.hamcrest.Matchers.matchesPattern("(\\d+[dhms] ?)+"));

    JsonNode missing = JSON.readTree(run(1, "lookup", "nope", "--redis", redis, "--prefix", PREFIX)[0]);
    assertThat(missing.get("source").asText(), equalTo("fallback"));
    assertThat(missing.get("fallback_reason").asText(), equalTo("not_found"));
    assertThat(missing.get("prediction").isNull(), equalTo(true));
    assertThat(missing.get("age_seconds").isNull(), equalTo(true));
    assertThat(missing.get("age").isNull(), equalTo(true));

    assertThat(run(2, "lookup", "x")[1],
        equalTo("--redis host:port is required\n" + LookupCli.USAGE + "\n"));
    assertThat(run(2, "get", "x")[1], equalTo("expected 'lookup KEY'\n" + LookupCli.USAGE + "\n"));
  }

  @Test
  public void aRunWhoseInputWindowEndsInTheFutureStillHasAPositiveAgeInTheCli() throws Exception {
    // Today's run: its prediction timestamp (the end of its window) is tomorrow.
    RunInfo today = RunInfo.of("churn", LocalDate.now(ZoneOffset.UTC), RunInfo.Interval.DAILY);
    publish(today, 3);
    Thread.sleep(1100);
    String redis = REDIS.host() + ":" + REDIS.port();
    JsonNode found = JSON.readTree(run(0, "lookup", key(1), "--redis", redis, "--prefix", PREFIX)[0]);
    long seconds = found.get("age_seconds").asLong();
    assertThat(found.get("age_seconds").isIntegralNumber(), equalTo(true));
    assertThat(seconds, org.hamcrest.Matchers.greaterThanOrEqualTo(1L));
    assertThat(seconds, org.hamcrest.Matchers.lessThan(120L));
    assertThat(found.get("age").asText(), equalTo(Age.human(Duration.ofSeconds(seconds))));
    assertThat(Instant.parse(found.get("published_at").asText()).isBefore(Instant.now()), equalTo(true));
  }
}
