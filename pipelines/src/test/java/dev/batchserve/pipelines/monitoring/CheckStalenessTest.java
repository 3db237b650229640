package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Fresh / stale around the SLA with a fixed clock; missing runs and bad arguments. */
@RunWith(JUnit4.class)
public class CheckStalenessTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final Instant AS_OF = Instant.parse("2026-11-28T00:00:00Z");
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
  public void freshUpToTheSla() {
    assertThat(check(AS_OF.plus(Duration.ofHours(36)), "--output=" + root, "--interval=daily"), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("FRESH: fraud-daily-20261127"));
  }

  @Test
  public void staleJustAfterTheSlaAndAlerts() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver(200)) {
      int code = check(AS_OF.plus(Duration.ofHours(36)).plusSeconds(1), "--output=" + root, "--interval=daily",
          "--alertWebhook=" + receiver.url());
      assertThat(code, is(2));
      assertThat(err.toString(StandardCharsets.UTF_8), containsString(
          "STALE: fraud-daily-20261127 predictions as of 2026-11-28T00:00:00Z are PT36H1S old, more than the SLA PT36H"));
      String alert = receiver.bodies.poll(5, TimeUnit.SECONDS);
      assertThat(alert, containsString("\"kind\" : \"stale\""));
      assertThat(alert, containsString("\"run_id\" : \"fraud-daily-20261127\""));
    }
  }

  @Test
  public void anExplicitSlaWins() {
    assertThat(check(AS_OF.plus(Duration.ofHours(2)), "--output=" + root, "--sla=PT1H"), is(2));
    assertThat(check(AS_OF.plus(Duration.ofMinutes(59)), "--output=" + root, "--sla=PT1H"), is(0));
  }

  @Test
  public void aLatestAttemptWithoutItsSuccessMarkerIsStale() throws Exception {
    Path attempt = root.resolve("run_date=2026-11-27/run_id=fraud-daily-20261127/attempt=20261128T010000.000Z-abcdef");
    Files.createDirectories(attempt);
    Files.writeString(attempt.resolve("_MANIFEST.json"),
        "{\"run_id\":\"fraud-daily-20261127\",\"prediction_timestamp\":\"2026-11-28T00:00:00Z\"}");
    Files.writeString(root.resolve("_LATEST"), root.relativize(attempt) + "\n");
    assertThat(check(AS_OF.plus(Duration.ofHours(1)), "--output=" + root), is(2));
    assertThat(err.toString(StandardCharsets.UTF_8), containsString(
        "STALE: " + attempt + ", which _LATEST names, is not complete (no _SUCCESS)"));

    Files.writeString(attempt.resolve("_SUCCESS"), "");
    assertThat(check(AS_OF.plus(Duration.ofHours(1)), "--output=" + root), is(0));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("FRESH: fraud-daily-20261127 "));
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
