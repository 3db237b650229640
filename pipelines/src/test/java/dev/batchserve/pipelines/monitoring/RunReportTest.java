package dev.batchserve.pipelines.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.values.RunInfo;
import java.io.StringReader;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;

/** The report renders without a pipeline: a run that failed early, and text that needs escaping. */
@RunWith(JUnit4.class)
public class RunReportTest {
  private static final RunInfo RUN = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  private static Document parse(String html) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    return f.newDocumentBuilder().parse(new InputSource(new StringReader(html)));
  }

  @Test
  public void aRunThatFailedBeforeAnyQualityStillGetsAReport() throws Exception {
    RunReport r = RunReport.builder(RUN, "/out/run_date=2026-11-28/run_id=fraud-daily-20261128")
        .status("failed").error("java.lang.IllegalStateException: model <v2> & \"friends\" missing")
        .timing(Instant.parse("2026-11-29T01:00:00Z"), Instant.parse("2026-11-29T01:00:04Z"))
        .build();
    assertThat(r.json().path("status").asText(), is("failed"));
    assertThat(r.json().path("duration_seconds").asDouble(), is(4.0));
    assertThat(r.json().path("completeness").path("holds").isNull(), is(true));
    assertThat(r.json().path("quality").isNull(), is(true));
    Document doc = parse(r.toHtml());
    assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength(), is(0));
    assertThat(r.toHtml(), containsString("model &lt;v2&gt; &amp; &quot;friends&quot; missing"));
    List<String> prom = r.toPrometheus().lines().toList();
    assertThat(prom, hasItem("batchserve_run_success{run_id=\"fraud-daily-20261128\"} 0"));
    assertThat(prom, hasItem("batchserve_run_duration_seconds{run_id=\"fraud-daily-20261128\"} 4"));
    assertThat(prom, hasItem("batchserve_run_finished_timestamp_seconds{run_id=\"fraud-daily-20261128\"} 1795914004"));
    assertThat(r.toPrometheus(), not(containsString("batchserve_records_read_total")));
  }

  /** The page's text a person reads: tags stripped, without tooltips ({@code <title>}) and CSS. */
  static String visibleText(String html) {
    return html.replaceAll("(?s)<title>.*?</title>", " ").replaceAll("(?s)<style>.*?</style>", " ")
        .replaceAll("<[^>]+>", " ").replace("&#183;", "·").replace("&#181;", "µ").replaceAll("\\s+", " ");
  }

  /** A report with a previous run, a published model and a violation-free feature. */
  static String fullReport(java.nio.file.Path runDir) throws Exception {
    java.nio.file.Files.writeString(runDir.resolve("_MANIFEST.json"), "{\"models\":[\"fraud-mlp:1\"]}");
    RunQuality q = RunQuality.fromJson("{\"run_id\":\"fraud-daily-20261128\",\"input_records\":202,"
        + "\"dead_letters\":5,\"dead_letter_rate\":0.024752475247524754,"
        + "\"features\":[{\"name\":\"amount\",\"kind\":\"NUMERIC\",\"count\":200,\"edges\":[0.0,1.0,2.0],"
        + "\"training_counts\":[100,100],\"counts\":[150,50],\"psi\":0.1438,\"js_divergence\":0.0488}],"
        + "\"predictions\":{\"count\":200,\"mean\":0.25,\"edges\":[0.0,0.5,1.0],\"counts\":[150,50]},"
        + "\"previous_run_id\":\"fraud-daily-20261127\","
        + "\"previous_predictions\":{\"count\":200,\"mean\":0.2,\"edges\":[0.0,0.5,1.0],\"counts\":[160,40]}}");
    return RunReport.builder(RUN, runDir.toString()).status("published").quality(q)
        .thresholds(QualityThresholds.defaults()).build().toHtml();
  }

  @org.junit.Rule public final org.junit.rules.TemporaryFolder tmp = new org.junit.rules.TemporaryFolder();

  @Test
  public void thePageShowsLegendsAxesModelThresholdsAndLatencyAsTextInOneNumberFormat() throws Exception {
    String html = fullReport(tmp.getRoot().toPath());
    parse(html); // still well-formed
    String text = visibleText(html);
    assertThat(text, containsString("Model: fraud-mlp:1"));
    assertThat(text, containsString("this run previous run fraud-daily-20261127"));
    assertThat(text, containsString("x: prediction score"));
    assertThat(text, containsString("prediction score"));
    assertThat(text, containsString("limit: maxPsi 0.25 for numeric features (PSI), maxCategoryShift 0.2"));
    assertThat(text, containsString("drift: PSI or L-infinity against the training statistics"));
    assertThat(text, containsString("Circuit breaker passed"));
    assertThat(text, containsString("max_dead_letter_rate"));
    assertThat(text, containsString("max_psi 0.25"));
    assertThat(text, containsString("batch latency (µs)"));
    assertThat(text, containsString("amount numeric 200"));
    assertThat(text, containsString(" none "));
    assertThat(text, not(containsString("{}")));
    // one number format: at most 4 significant digits, no padding zeros
    assertThat(text, containsString("0.1438"));
    assertThat(text, containsString("0.0488"));
    assertThat(text, not(containsString("0.2000")));
    assertThat(text, not(containsString("0.000 ")));
    assertThat(ReportHtml.num(0.024752475247524754), is("0.02475"));
    assertThat(ReportHtml.num(0.2), is("0.2"));
    assertThat(ReportHtml.num(0.0), is("0"));
    assertThat(ReportHtml.num(1234.0), is("1234"));
  }

  @Test
  public void featureNamesAreEscapedInHtmlAndPrometheusLabels() throws Exception {
    RunQuality q = RunQuality.fromJson("{\"run_id\":\"fraud-daily-20261128\",\"input_records\":200,"
        + "\"features\":[{\"name\":\"a\\\"b<c>\",\"kind\":\"NUMERIC\",\"count\":200,\"edges\":[0.0,1.0,2.0],"
        + "\"training_counts\":[100,100],\"counts\":[150,50],\"psi\":0.1438,\"js_divergence\":0.0488}],"
        + "\"predictions\":{\"count\":200,\"mean\":0.25,\"edges\":[0.0,0.5,1.0],\"counts\":[150,50]}}");
    RunReport r = RunReport.builder(RUN, "/out/x").quality(q).thresholds(QualityThresholds.defaults()).build();
    String html = r.toHtml();
    Document doc = parse(html);
    assertThat(doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "svg").getLength(), is(2));
    assertThat(html, containsString("a&quot;b&lt;c&gt;"));
    assertThat(r.toPrometheus().lines().toList(),
        hasItem("batchserve_feature_psi{run_id=\"fraud-daily-20261128\",feature=\"a\\\"b<c>\"} 0.1438"));
    assertThat(r.json().path("circuit_breaker").path("tripped").asBoolean(), is(false));
  }
}
