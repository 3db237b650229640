package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.matchesPattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Fresh / stale around the SLA with a fixed clock, the age counted from the publish; missing runs and
 * bad arguments; runs published by the real sink, also one whose input window ends in the future.
 */
@RunWith(JUnit4.class)
public class CheckStalenessTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final Instant AS_OF = Instant.parse("2026-11-28T00:00:00Z");
  private static final Instant PUBLISHED = AS_OF.plus(Duration.ofHours(2));
  private Path root;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Before
  public void publishedRun() throws Exception {
    root = tmp.newFolder("fraud").toPath();
    Path run = root.resolve("run_date=2026-11-27/run_id=fraud-daily-20261127");
    Files.createDirectories(run);
    Files.writeString(run.resolve("_MANIFEST.json"),
        "{\"run_id\":\"fraud-daily-20261127\",\"prediction_timestamp\":\"2026-11-28T00:00:00Z\"}");
    // Published two hours after its window ended: the age counts from here.
    Files.writeString(run.resolve("_PUBLISHED.json"),
        "{\"run_id\":\"fraud-daily-20261127\",\"published_at\":\"" + PUBLISHED + "\"}");
    Files.writeString(run.resolve("_SUCCESS"), "");
    Files.writeString(root.resolve("_LATEST"), "run_date=2026-11-27/run_id=fraud-daily-20261127\n");
  }

  private int check(Instant now, String... args) {
    return CheckStaleness.run(args, Clock.fixed(now, ZoneOffset.UTC),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  public void defaultSlaIsOneAndAHalfIntervals() {
    assertThat(CheckStaleness.defaultSla(dev.batchserve.transforms.values.RunInfo.Interval.DAILY),
        is(Duration.ofHours(36)));
    assertThat(CheckStaleness.defaultSla(dev.batchserve.transforms.values.RunInfo.Interval.HOURLY),
        is(Duration.ofMinutes(90)));
  }

  @Test
  public void freshUpToTheSlaCountedFromThePublish() {
    assertThat(check(PUBLISHED.plus(Duration.ofHours(36)), "--output=" + root, "--interval=daily"), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8), is("FRESH: fraud-daily-20261127 published 1d 12h ago"
        + " (at 2026-11-28T02:00:00Z; predictions as of 2026-11-28T00:00:00Z), within the SLA 1d 12h\n"));
  }

  @Test
  public void theJsonFormGivesTheAgeInWholeSeconds() throws Exception {
    assertThat(check(PUBLISHED.plus(Duration.ofMinutes(192)).plusMillis(900), "--output=" + root, "--json"), is(0));
    JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(n.get("status").asText(), is("fresh"));
    assertThat(n.get("run_id").asText(), is("fraud-daily-20261127"));
    assertThat(n.get("age_seconds").isIntegralNumber(), is(true));
    assertThat(n.get("age_seconds").asLong(), is(11_520L));
    assertThat(n.get("age").asText(), is("3h 12m"));
    assertThat(n.get("published_at").asText(), is("2026-11-28T02:00:00Z"));
    assertThat(n.get("prediction_timestamp").asText(), is("2026-11-28T00:00:00Z"));
    assertThat(n.get("sla_seconds").asLong(), is(36 * 3600L));
    assertThat(n.get("problem").isNull(), is(true));
  }

  @Test
  public void aClockBehindThePublishIsAgeZeroNeverNegative() throws Exception {
    assertThat(check(PUBLISHED.minusSeconds(90), "--output=" + root, "--json"), is(0));
    JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(n.get("age_seconds").asLong(), is(0L));
    assertThat(n.get("age").asText(), is("0s"));
  }

  @Test
  public void aRunPublishedBeforePublishedAtWasRecordedIsAgedFromItsSuccessMarker() throws Exception {
    Path run = root.resolve("run_date=2026-11-27/run_id=fraud-daily-20261127");
    Files.delete(run.resolve("_PUBLISHED.json"));
    Files.setLastModifiedTime(run.resolve("_SUCCESS"), FileTime.from(PUBLISHED.plus(Duration.ofHours(1))));
    assertThat(check(PUBLISHED.plus(Duration.ofHours(5)), "--output=" + root), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("published 4h ago (at 2026-11-28T03:00:00Z"));
  }

  @Test
  public void staleJustAfterTheSlaAndAlerts() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver(200)) {
      int code = check(PUBLISHED.plus(Duration.ofHours(36)).plusSeconds(1), "--output=" + root, "--interval=daily",
          "--alertWebhook=" + receiver.url());
      assertThat(code, is(2));
      assertThat(err.toString(StandardCharsets.UTF_8), containsString(
          "STALE: fraud-daily-20261127 published 1d 12h 1s ago (at 2026-11-28T02:00:00Z; predictions as of"
              + " 2026-11-28T00:00:00Z), more than the SLA 1d 12h"));
      String alert = receiver.bodies.poll(5, TimeUnit.SECONDS);
      assertThat(alert, containsString("\"kind\" : \"stale\""));
      assertThat(alert, containsString("\"run_id\" : \"fraud-daily-20261127\""));
      assertThat(alert, containsString("\"age_seconds\" : " + (36 * 3600 + 1)));
    }
  }

  @Test
  public void anExplicitSlaWins() {
    assertThat(check(PUBLISHED.plus(Duration.ofHours(2)), "--output=" + root, "--sla=PT1H"), is(2));
    assertThat(check(PUBLISHED.plus(Duration.ofMinutes(59)), "--output=" + root, "--sla=PT1H"), is(0));
  }

  @Test
  public void aLatestAttemptWithoutItsSuccessMarkerIsStale() throws Exception {
    Path attempt = root.resolve("run_date=2026-11-27/run_id=fraud-daily-20261127/attempt=20261128T010000.000Z-abcdef");
    Files.createDirectories(attempt);
    Files.writeString(attempt.resolve("_MANIFEST.json"),
        "{\"run_id\":\"fraud-daily-20261127\",\"prediction_timestamp\":\"2026-11-28T00:00:00Z\"}");
    Files.writeString(attempt.resolve("_PUBLISHED.json"), "{\"published_at\":\"" + PUBLISHED + "\"}");
    Files.writeString(root.resolve("_LATEST"), root.relativize(attempt) + "\n");
    assertThat(check(AS_OF.plus(Duration.ofHours(1)), "--output=" + root), is(2));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString(
        "STALE: " + attempt + ", which _LATEST names, is not complete (no _SUCCESS)"));

    Files.writeString(attempt.resolve("_SUCCESS"), "");
    assertThat(check(PUBLISHED.plus(Duration.ofHours(1)), "--output=" + root), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("FRESH: fraud-daily-20261127 "));
  }

  /** Publishes {@code run} under {@code root} through the real sink, as a job does. */
  private static void publish(String root, RunInfo run) {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    p.apply(Create.of(KV.of("acct-1", Prediction.builder().scores(new float[] {0.5f}).model("m", "1")
            .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli()).runId(run.runId()).build()))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
        .apply(SinkWithMetadata.<String>files(root).withRunInfo(run).withNumShards(1));
    p.run().waitUntilFinish();
  }

  @Test
  public void aFreshRunHasASmallPositiveAgeAlsoWhenItsInputWindowEndsInTheFuture() throws Exception {
    // Today's run: its prediction timestamp, the end of its window, is tomorrow 00:00 UTC.
    RunInfo today = RunInfo.of("fraud", LocalDate.now(ZoneOffset.UTC), RunInfo.Interval.DAILY);
    String fresh = tmp.newFolder("fresh").toString();
    publish(fresh, today);
    Thread.sleep(1100);
    assertThat(CheckStaleness.run(new String[] {"--output=" + fresh, "--json"}, Clock.systemUTC(),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)), is(0));
    JsonNode n = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(n.get("run_id").asText(), is(today.runId()));
    assertThat(n.get("age_seconds").asLong(), greaterThanOrEqualTo(1L));
    assertThat(n.get("age_seconds").asLong(), lessThan(120L));
    assertThat(Instant.parse(n.get("prediction_timestamp").asText()).isAfter(Instant.now()), is(true));

    out.reset();
    assertThat(CheckStaleness.run(new String[] {"--output=" + fresh}, Clock.systemUTC(),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8),
        matchesPattern("FRESH: " + today.runId() + " published (\\d+m )?\\d+s ago \\(at .*\\n"));
  }

  @Test
  public void nothingPublishedIsStale() throws Exception {
    assertThat(check(AS_OF, "--output=" + tmp.newFolder("empty")), is(2));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString("STALE: nothing published under"));
  }

  @Test
  public void badArgumentsAreAUsageError() {
    assertThat(check(AS_OF, "--interval=daily"), is(CheckStaleness.USAGE));
    assertThat(check(AS_OF, "--output=" + root, "--interval=monthly"), is(CheckStaleness.USAGE));
    assertThat(err.toString(StandardCharsets.UTF_8),
        containsString("interval must be one of hourly, daily, weekly, but was 'monthly'"));
    assertThat(check(AS_OF, "--output=" + root, "--sla=36h"), is(CheckStaleness.USAGE));
  }
}
