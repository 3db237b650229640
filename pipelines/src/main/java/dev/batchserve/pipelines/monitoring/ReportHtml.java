package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import dev.batchserve.transforms.monitoring.FeatureQuality;
import dev.batchserve.transforms.monitoring.PredictionDistribution;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.monitoring.RunQuality;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The HTML run report: one self-contained, well-formed (XHTML-compatible) page with inline CSS and
 * SVG charts (prediction histogram against the previous run, drift per feature against its
 * threshold) and the counts, completeness and quality tables; no scripts, no external resources.
 */
final class ReportHtml {
  private static final int W = 640;
  private static final int H = 220;

  private final StringBuilder h = new StringBuilder();

  private ReportHtml() {}

  static String render(JsonNode r, @Nullable RunQuality q, QualityThresholds t) {
    ReportHtml page = new ReportHtml();
    page.page(r, q, t);
    return page.h.toString();
  }

  private void page(JsonNode r, @Nullable RunQuality q, QualityThresholds t) {
    String runId = r.path("run_id").asText();
    h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
        .append("<meta charset=\"utf-8\"/>\n<title>Run report ").append(esc(runId)).append("</title>\n")
        .append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
            + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
            + "td.l,th.l{text-align:left}.bad{color:#b00020;font-weight:bold}.ok{color:#1b7f3b;font-weight:bold}"
            + ".legend{font-size:0.9em;margin:0.3em 0 1em}.key{display:inline-block;width:12px;height:12px;"
            + "vertical-align:middle;margin:0 4px 0 12px}</style>\n")
        .append("</head>\n<body>\n");
    String status = r.path("status").asText();
    h.append("<h1>Run ").append(esc(runId)).append("</h1>\n<p>Status: <span class=\"")
        .append("published".equals(status) ? "ok" : "bad").append("\">").append(esc(status)).append("</span>");
    h.append(" &#183; ").append(num(r.path("duration_seconds").asDouble())).append(" s &#183; ")
        .append(num(r.path("throughput_records_per_second").asDouble())).append(" records/s &#183; prediction timestamp ")
        .append(esc(r.path("prediction_timestamp").asText())).append("</p>\n");
    List<String> models = new ArrayList<>();
    r.path("models").forEach(m -> models.add(m.asText()));
    h.append("<p id=\"model\">Model: ").append(models.isEmpty() ? "- (not published)" : esc(String.join(", ", models)))
        .append("</p>\n");
    if (r.hasNonNull("error")) {
      h.append("<p class=\"bad\">").append(esc(r.get("error").asText())).append("</p>\n");
    }

    h.append("<h2>Counts</h2>\n<table id=\"counts\"><tr><th class=\"l\">stage</th><th>records</th></tr>\n");
    r.path("counts").fields().forEachRemaining(e -> {
      if (e.getValue().isValueNode()) {
        row(e.getKey(), value(e.getValue()));
      }
    });
    r.path("counts").path("dead_letters_by_reason").fields().forEachRemaining(
        e -> row("dead letters: " + e.getKey(), e.getValue().asText()));
    r.path("counts").path("fallbacks_by_reason").fields().forEachRemaining(
        e -> row("fallbacks: " + e.getKey(), e.getValue().asText()));
    r.path("counts").path("predictions_by_model").fields().forEachRemaining(
        e -> row("predictions: " + e.getKey(), e.getValue().asText()));
    h.append("</table>\n");
    JsonNode c = r.path("completeness");
    h.append("<p>Completeness invariant: ");
    if (c.path("holds").isBoolean()) {
      h.append(c.get("holds").asBoolean() ? "<span class=\"ok\">holds</span>" : "<span class=\"bad\">violated</span>");
      c.fields().forEachRemaining(e -> {
        if (!e.getKey().equals("holds")) {
          h.append(" &#183; ").append(esc(e.getKey())).append(": ").append(esc(e.getValue().asText()));
        }
      });
    } else {
      h.append("not checked");
    }
    h.append("</p>\n");

    JsonNode b = r.path("circuit_breaker");
    h.append("<h2>Circuit breaker</h2>\n<p id=\"breaker\">");
    if (b.path("tripped").isBoolean()) {
      h.append(b.get("tripped").asBoolean() ? "<span class=\"bad\">tripped: nothing published</span>"
          : "<span class=\"ok\">passed</span>");
    } else {
      h.append("not reached");
    }
    h.append("</p>\n");
    if (b.path("violations").size() > 0) {
      h.append("<ul>\n");
      b.path("violations").forEach(v -> h.append("<li class=\"bad\">").append(esc(v.asText())).append("</li>\n"));
      h.append("</ul>\n");
    }
    h.append("<table id=\"thresholds\"><tr><th class=\"l\">threshold</th><th>limit</th></tr>\n");
    r.path("thresholds").fields().forEachRemaining(e -> row(e.getKey(), value(e.getValue())));
    h.append("</table>\n");

    JsonNode inf = r.path("inference");
    if (inf.isObject()) {
      h.append("<h2>Inference</h2>\n<table id=\"inference\"><tr><th class=\"l\">measure</th><th>count</th>"
          + "<th>mean</th><th>min</th><th>max</th></tr>\n");
      for (String[] m : new String[][] {{"batch_latency_us", "batch latency (&#181;s)"}, {"batch_size", "batch size"},
          {"model_load_ms", "model load (ms)"}}) {
        JsonNode d = inf.path(m[0]);
        h.append("<tr><td class=\"l\">").append(m[1]).append("</td><td>").append(value(d.path("count")))
            .append("</td><td>").append(value(d.path("mean"))).append("</td><td>").append(value(d.path("min")))
            .append("</td><td>").append(value(d.path("max"))).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }

    if (q != null) {
      h.append("<h2>Predictions</h2>\n");
      PredictionDistribution d = q.getPredictions();
      h.append(String.format(Locale.ROOT, "<p>%d scored, mean %s, p50 %s, p90 %s, p99 %s",
          d.getCount(), num(d.getMean()), num(d.quantile(50)), num(d.quantile(90)), num(d.quantile(99))));
      if (q.getPreviousRunId() != null) {
        h.append(" &#183; against ").append(esc(q.getPreviousRunId())).append(": mean shift ")
            .append(num(q.getPredictionMeanShift())).append(", histogram PSI ").append(num(q.getPredictionPsi()));
        if (q.getChange() != null) {
          h.append(String.format(Locale.ROOT, ", %d of %d keys moved by more than %s (rate %s)",
              q.getChange().getChanged(), q.getChange().getCompared(), num(q.getChange().getEpsilon()),
              num(q.getChange().getChangeRate())));
        }
      }
      h.append("</p>\n");
      histogram(d, q.getPreviousPredictions());
      h.append("<p class=\"legend\" id=\"histogram-legend\"><span class=\"key\" style=\"background:#4c78a8\"></span>this run")
          .append(q.getPreviousPredictions() != null && q.getPreviousRunId() != null
              ? "<span class=\"key\" style=\"border:2px solid #e45756\"></span>previous run " + esc(q.getPreviousRunId())
              : " (no previous run to compare)")
          .append(" &#183; x: prediction score &#183; y: share of the run's predictions per bucket</p>\n");

      h.append("<h2>Drift per feature</h2>\n");
      drift(q, t);
      h.append("<p class=\"legend\" id=\"drift-legend\"><span class=\"key\" style=\"background:#54a24b\"></span>within its limit"
          + "<span class=\"key\" style=\"background:#e45756\"></span>over its limit"
          + "<span class=\"key\" style=\"border-left:2px dashed #222;width:2px\"></span>limit: maxPsi ")
          .append(num(t.maxPsi())).append(" for numeric features (PSI), maxCategoryShift ").append(num(t.maxCategoryShift()))
          .append(" for categorical ones (L-infinity)</p>\n");
      h.append("<table id=\"features\"><tr><th class=\"l\">feature</th><th class=\"l\">kind</th><th>rows</th>"
          + "<th>nulls</th><th>null rate</th><th>training null rate</th><th>unreadable</th>"
          + "<th class=\"l\">violations</th><th>PSI</th><th>JS</th><th>L-inf</th></tr>\n");
      for (FeatureQuality f : q.getFeatures()) {
        h.append("<tr><td class=\"l\">").append(esc(f.getName())).append("</td><td class=\"l\">")
            .append(f.getKind().name().toLowerCase(Locale.ROOT)).append("</td><td>").append(f.getCount())
            .append("</td><td>").append(f.getNulls()).append("</td><td>").append(num(f.getNullRate()))
            .append("</td><td>").append(num(f.getTrainingNullRate())).append("</td><td>").append(f.getUnreadable())
            .append("</td><td class=\"l\">").append(esc(violations(f.getViolations()))).append("</td><td>")
            .append(num(f.getPsi())).append("</td><td>").append(num(f.getJsDivergence())).append("</td><td>")
            .append(num(f.getLInfinity())).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }
    h.append("</body>\n</html>\n");
  }

  /** Bars of this run's score shares per bucket, with the previous run's as outlines. */
  private void histogram(PredictionDistribution d, @Nullable PredictionDistribution prev) {
    double[] now = shares(d.getCounts());
    double[] before = prev == null || prev.getCounts().size() != now.length ? null : shares(prev.getCounts());
    double top = 1e-9;
    for (int i = 0; i < now.length; i++) {
      top = Math.max(top, Math.max(now[i], before == null ? 0 : before[i]));
    }
    int left = 40;
    int bottom = H - 30;
    double bw = (W - left - 10.0) / Math.max(1, now.length);
    h.append("<svg id=\"prediction-histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W)
        .append("\" height=\"").append(H).append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\">\n")
        .append("<title>Prediction score histogram (shares); outlines: previous run</title>\n");
    axis(left, bottom, top);
    for (int i = 0; i < now.length; i++) {
      double x = left + i * bw;
      double bh = now[i] / top * (bottom - 10);
      h.append(String.format(Locale.ROOT,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4c78a8\"><title>%s: %.4f</title></rect>\n",
          x + 1, bottom - bh, bw - 2, bh, esc(bucketLabel(d.getEdges(), i)), now[i]));
      if (before != null) {
        double ph = before[i] / top * (bottom - 10);
        h.append(String.format(Locale.ROOT,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#e45756\" stroke-width=\"2\"/>\n",
            x + 1, bottom - ph, bw - 2, ph));
      }
    }
    List<Double> edges = d.getEdges();
    for (int i = 0; i < edges.size(); i += Math.max(1, (edges.size() - 1) / 5)) {
      // The last label is right-aligned so that it stays inside the chart.
      String anchor = i == edges.size() - 1 ? "end" : i == 0 ? "start" : "middle";
      h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"%s\">%s</text>\n",
          left + i * bw, bottom + 14, anchor, num(edges.get(i))));
    }
    h.append(String.format(Locale.ROOT,
        "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">prediction score</text>\n"
            + "<text x=\"12\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">share</text>\n",
        (left + W) / 2, H - 3, bottom / 2, bottom / 2));
    h.append("</svg>\n");
  }

  /** One horizontal bar per compared feature: PSI (numeric) or L-infinity (categorical), against its limit. */
  private void drift(RunQuality q, QualityThresholds t) {
    List<FeatureQuality> fs = new ArrayList<>();
    for (FeatureQuality f : q.getFeatures()) {
      if (f.getPsi() != null || f.getLInfinity() != null) {
        fs.add(f);
      }
    }
    int rowH = 22;
    int height = 36 + rowH * Math.max(1, fs.size());
    int left = 190;
    double top = 1e-9;
    for (FeatureQuality f : fs) {
      top = Math.max(top, Math.max(value(f), limit(f, t)));
    }
    if (Double.isInfinite(top)) {
      top = 1;
    }
    double scale = (W - left - 70.0) / top;
    h.append("<svg id=\"drift-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W)
        .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(W).append(' ').append(height)
        .append("\">\n<title>Drift per feature: PSI (numeric) or L-infinity (categorical); line: limit</title>\n");
    for (int i = 0; i < fs.size(); i++) {
      FeatureQuality f = fs.get(i);
      double v = value(f);
      double lim = limit(f, t);
      int y = 10 + i * rowH;
      boolean bad = v > lim;
      h.append(String.format(Locale.ROOT,
          "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s (%s)</text>\n",
          left - 6, y + 13, esc(f.getName()), f.getPsi() != null ? "PSI" : "L-inf"));
      h.append(String.format(Locale.ROOT,
          "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n",
          left, y + 2, Math.max(1, v * scale), rowH - 6, bad ? "#e45756" : "#54a24b"));
      h.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>\n",
          left + Math.max(1, v * scale) + 4, y + 13, num(v)));
      if (Double.isFinite(lim)) {
        h.append(String.format(Locale.ROOT,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#222\" stroke-dasharray=\"3,2\"/>\n",
            left + lim * scale, y, left + lim * scale, y + rowH - 2));
      }
    }
    h.append(String.format(Locale.ROOT,
        "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">drift: PSI or L-infinity against the training statistics</text>\n",
        (left + W) / 2, height - 4));
    h.append("</svg>\n");
  }

  /** A JSON value in the page's one number format; integers as they are. */
  private static String value(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) {
      return "-";
    }
    if (v.isIntegralNumber()) {
      return v.asText();
    }
    if (v.isNumber()) {
      return num(v.asDouble());
    }
    return v.asText();
  }

  /** {@code none}, or {@code reason: count} pairs. */
  static String violations(java.util.Map<String, Long> v) {
    if (v.isEmpty()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    new java.util.TreeMap<>(v).forEach((k, n) -> parts.add(k + ": " + n));
    return String.join(", ", parts);
  }

  private static double value(FeatureQuality f) {
    return f.getPsi() != null ? f.getPsi() : f.getLInfinity();
  }

  private static double limit(FeatureQuality f, QualityThresholds t) {
    return f.getPsi() != null ? t.maxPsi() : t.maxCategoryShift();
  }

  private void axis(int left, int bottom, double top) {
    h.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#222\"/>\n<line x1=\"%d\" y1=\"10\" x2=\"%d\" y2=\"%d\" stroke=\"#222\"/>\n"
            + "<text x=\"%d\" y=\"14\" font-size=\"10\" text-anchor=\"end\">%s</text>\n",
        left, bottom, W - 10, bottom, left, left, bottom, left - 4, num(top)));
  }

  private void row(String k, String v) {
    h.append("<tr><td class=\"l\">").append(esc(k)).append("</td><td>").append(esc(v)).append("</td></tr>\n");
  }

  private static String bucketLabel(List<Double> edges, int i) {
    return "[" + num(edges.get(i)) + ", " + num(edges.get(i + 1)) + ")";
  }

  private static double[] shares(List<Long> counts) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    double[] s = new double[counts.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = total == 0 ? 0 : (double) counts.get(i) / total;
    }
    return s;
  }

  static String num(@Nullable Double v) {
    if (v == null) {
      return "-";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (v == 0) {
      return "0";
    }
    double a = Math.abs(v);
    if (a >= 1e-4 && a < 1e9) {
      // One format everywhere: 4 significant digits, no trailing zeros (0.2, 0.02475, 1234, 0.0001).
      return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }
    return String.format(Locale.ROOT, "%.3e", v);
  }

  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(ch < 0x20 && ch != '\n' && ch != '\t' ? ' ' : ch);
      }
    }
    return b.toString();
  }
}
