package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts an alert as JSON to a webhook (Slack-, PagerDuty- or Alertmanager-style receivers behind an
 * adapter). Sending is best effort: bounded by a timeout, and a receiver that is down, slow or answers
 * with an error is logged, never thrown, so an alert can never fail or hide the run's own outcome.
 *
 * <pre>{@code
 * AlertWebhook.to("https://hooks.example.com/batchserve")
 *     .send(AlertWebhook.alert("breaker_tripped", "fraud-daily-20261128", "maxPsi: ..."));
 * }</pre>
 */
public final class AlertWebhook {
  private static final Logger LOG = LoggerFactory.getLogger(AlertWebhook.class);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final URI uri;
  private final Duration timeout;

  private AlertWebhook(URI uri, Duration timeout) {
    this.uri = uri;
    this.timeout = timeout;
  }

  /** A webhook at {@code url} (http or https), {@link #DEFAULT_TIMEOUT} per attempt. */
  public static AlertWebhook to(String url) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("alertWebhook must be an http(s) URL, but was '" + url + "'", e);
    }
    if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
      throw new IllegalArgumentException("alertWebhook must be an http(s) URL, but was '" + url + "'");
    }
    return new AlertWebhook(u, DEFAULT_TIMEOUT);
  }

  /** Bounds connecting and the whole request (default {@link #DEFAULT_TIMEOUT}). */
  public AlertWebhook withTimeout(Duration t) {
    if (t == null || t.isNegative() || t.isZero()) {
      throw new IllegalArgumentException("timeout must be > 0, but was " + t);
    }
    return new AlertWebhook(uri, t);
  }

  /** The alert document: {@code {"source":"batchserve","kind":...,"run_id":...,"message":...,"at":...}}. */
  public static ObjectNode alert(String kind, String runId, String message) {
    ObjectNode n = RunReport.JSON.createObjectNode();
    n.put("source", "batchserve");
    n.put("kind", kind);
    n.put("run_id", runId);
    n.put("message", message);
    n.put("at", Instant.now().toString());
    return n;
  }

  /** POSTs the alert; true when the receiver answered 2xx. Never throws for delivery problems. */
  public boolean send(ObjectNode alert) {
    String body;
    try {
      body = RunReport.JSON.writeValueAsString(alert);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render alert", e);
    }
    try {
      HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
      HttpRequest request = HttpRequest.newBuilder(uri)
          .timeout(timeout)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
          .build();
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        LOG.warn("alert webhook {} answered HTTP {}: {}", uri, response.statusCode(), abbreviate(response.body()));
        return false;
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("alert to {} interrupted; alert was: {}", uri, body);
      return false;
    } catch (Exception e) {
      LOG.warn("cannot send alert to {} ({}); alert was: {}", uri, e.toString(), body);
      return false;
    }
  }

  /** Sends when {@code url} is set (non-empty); false otherwise. */
  public static boolean sendIfConfigured(@Nullable String url, ObjectNode alert) {
    return url != null && !url.isEmpty() && to(url).send(alert);
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
