package dev.batchserve.pipelines.schedule;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class UpstreamMarkerTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void returnsOnceAnotherThreadWritesTheMarker() throws Exception {
    Path upstream = tmp.getRoot().toPath().resolve("transactions/dt=2026-11-28");
    Thread writer = new Thread(() -> {
      try {
        Thread.sleep(400);
        Files.createDirectories(upstream);
        Files.writeString(upstream.resolve("_SUCCESS"), "");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    long t0 = System.nanoTime();
    writer.start();
    UpstreamMarker.await(upstream.toString(), Duration.ofSeconds(20), Duration.ofMillis(25));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    writer.join();
    assertThat(ms, greaterThanOrEqualTo(350L));
    assertThat(ms, lessThan(10_000L));
  }

  @Test
  public void returnsAtOnceWhenTheMarkerExistsAndAcceptsTheMarkerFileItself() throws Exception {
    Path dir = tmp.newFolder("ready").toPath();
    Files.writeString(dir.resolve("_SUCCESS"), "");
    UpstreamMarker.await(dir.toString(), Duration.ZERO, Duration.ofMillis(10));
    UpstreamMarker.await(dir + "/_SUCCESS", Duration.ZERO, Duration.ofMillis(10));
    assertThat(UpstreamMarker.exists(dir + "/"), is(true));
  }

  @Test
  public void timesOutNamingTheMarker() {
    Path dir = tmp.getRoot().toPath().resolve("never/dt=2026-11-28");
    long t0 = System.nanoTime();
    UpstreamMarker.NotReady e = assertThrows(UpstreamMarker.NotReady.class,
        () -> UpstreamMarker.await(dir.toString(), Duration.ofMillis(300), Duration.ofMillis(50)));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(e.getMessage(), containsString(dir + "/_SUCCESS"));
    assertThat(e.getMessage(), containsString("did not appear within PT0.3S"));
    assertThat(e.marker(), is(dir + "/_SUCCESS"));
    assertThat(ms, greaterThanOrEqualTo(280L));
  }

  @Test
  public void aMarkerInAnExistingDirectoryWithoutSuccessIsNotReady() throws Exception {
    Path dir = tmp.newFolder("partial").toPath();
    Files.writeString(dir.resolve("part-00000.parquet"), "x");
    assertThat(UpstreamMarker.exists(dir.toString()), is(false));
  }

  @Test
  public void placeholdersComeFromTheRun() {
    RunInfo daily = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
    assertThat(UpstreamMarker.resolve("gs://lake/tx/dt={run_date}/{yyyymmdd}/{run_id}", daily),
        is("gs://lake/tx/dt=2026-11-28/20261128/fraud-daily-20261128"));
    RunInfo hourly = RunInfo.hourly("clicks", LocalDate.parse("2026-11-28"), 7);
    assertThat(UpstreamMarker.resolve("/lake/clicks/{run_date}/h={hour}", hourly), is("/lake/clicks/2026-11-28/h=07"));
  }

  @Test
  public void rejectsBadArguments() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> UpstreamMarker.await("/x", Duration.ofSeconds(1), Duration.ZERO)).getMessage(),
        is("poll must be > 0, but was PT0S"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> UpstreamMarker.await("/x", Duration.ofSeconds(-1), Duration.ofSeconds(1))).getMessage(),
        is("timeout must be >= 0, but was PT-1S"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> UpstreamMarker.await(" ", Duration.ofSeconds(1), Duration.ofSeconds(1))).getMessage(),
        containsString("markerUri must be set"));
  }
}
