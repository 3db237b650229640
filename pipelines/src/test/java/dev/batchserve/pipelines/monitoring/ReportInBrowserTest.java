package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.Assume.assumeTrue;

import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The HTML run report as a person sees it: headless Chromium (Debian's {@code chromium}, which
 * {@code .ci/install-browser.sh} installs on CI) loads it from disk with the network off, the rendered
 * DOM holds both charts, the console reports no error, and a screenshot is drawn.
 */
public class ReportInBrowserTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private static final Path CHROMIUM = Paths.get("/usr/bin/chromium");

  private static List<String> chromium(Path profile, String... args) {
    List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"));
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static String run(List<String> cmd, Path stdout, Path stderr) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 90 s: " + Files.readString(stderr));
    }
    assertThat("chromium exit code; stderr: " + Files.readString(stderr), p.exitValue(), is(0));
    return Files.readString(stdout, StandardCharsets.UTF_8);
  }

  @Test
  public void theReportLoadsWithoutErrorsAndShowsItsCharts() throws Exception {
    assumeTrue("Debian's chromium is not installed (.ci/install-browser.sh installs it)", Files.isExecutable(CHROMIUM));
    RunQuality q = RunQuality.fromJson("{\"run_id\":\"fraud-daily-20261128\",\"input_records\":200,"
        + "\"features\":[{\"name\":\"amount\",\"kind\":\"NUMERIC\",\"count\":200,\"edges\":[0.0,1.0,2.0],"
        + "\"training_counts\":[100,100],\"counts\":[150,50],\"psi\":0.1438,\"js_divergence\":0.0488}],"
        + "\"predictions\":{\"count\":200,\"mean\":0.25,\"edges\":[0.0,0.5,1.0],\"counts\":[150,50]}}");
    RunInfo run = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
    Path html = tmp.getRoot().toPath().resolve("_REPORT.html");
    Files.writeString(html, RunReport.builder(run, tmp.getRoot().toString()).quality(q)
        .thresholds(QualityThresholds.defaults()).build().toHtml(), StandardCharsets.UTF_8);

    Path profile = tmp.newFolder("profile").toPath();
    String dom = run(chromium(profile, "--dump-dom", html.toUri().toString()),
        tmp.getRoot().toPath().resolve("dom.html"), tmp.getRoot().toPath().resolve("dom.err"));
    assertThat(dom.split("<svg", -1).length - 1, is(2));
    assertThat(dom, containsString("fraud-daily-20261128"));
    assertThat(dom, containsString("amount"));
    String log = Files.readString(tmp.getRoot().toPath().resolve("dom.err"));
    assertThat(log, not(containsString("Uncaught")));
    assertThat(log, not(containsString(":CONSOLE(")));

    Path png = tmp.getRoot().toPath().resolve("report.png");
    run(chromium(profile, "--screenshot=" + png, "--window-size=1200,1600", html.toUri().toString()),
        tmp.getRoot().toPath().resolve("shot.out"), tmp.getRoot().toPath().resolve("shot.err"));
    assertThat(Files.size(png), greaterThan(10_000L));
    Path keep = Paths.get("target", "report-screenshot.png");
    Files.copy(png, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
