package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.Assume.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
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
    Path html = tmp.getRoot().toPath().resolve("_REPORT.html");
    Files.writeString(html, RunReportTest.fullReport(tmp.getRoot().toPath()), StandardCharsets.UTF_8);

    Path profile = tmp.newFolder("profile").toPath();
    String dom = run(chromium(profile, "--dump-dom", html.toUri().toString()),
        tmp.getRoot().toPath().resolve("dom.html"), tmp.getRoot().toPath().resolve("dom.err"));
    assertThat(dom.split("<svg", -1).length - 1, is(2));
    assertThat(dom, containsString("fraud-daily-20261128"));
    assertThat(dom, containsString("amount"));
    // what a person needs is page text, not only SVG tooltips
    String text = RunReportTest.visibleText(dom);
    for (String needed : List.of("Model: fraud-mlp:1", "previous run fraud-daily-20261127", "x: prediction score",
        "limit: maxPsi 0.25", "drift: PSI or L-infinity", "Circuit breaker passed", "max_psi 0.25",
        "batch latency (µs)")) {
      assertThat(text, containsString(needed));
    }
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
