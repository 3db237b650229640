package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Checks that the latest published run under an output root is fresh: reads {@code _LATEST}, then
 * when that run was published ({@link FileSink#publishedAt}: its {@code _PUBLISHED.json}, else the
 * time of its {@code _SUCCESS}), and compares how long ago that was with the SLA (default 1.5 times
 * the interval). The age counts from the publish, never from the run's prediction timestamp (the end
 * of its input window, which for a run of the current interval lies in the future), and is never
 * negative ({@link Age}). Exit status 0 when fresh, {@value #STALE} when stale or when nothing is
 * published (the message says which, and an alert is posted when a webhook is given), {@value #USAGE}
 * for bad arguments. The line for people gives the age as {@code 3h 12m}; {@code --json} prints one
 * JSON object instead, with {@code age_seconds} in whole seconds.
 *
 * <pre>
 * java -cp batchserve-pipelines.jar dev.batchserve.pipelines.monitoring.CheckStaleness \
 *     --output=/data/predictions/fraud --interval=daily [--sla=PT36H] [--alertWebhook=https://...] [--json]
 * </pre>
 */
public final class CheckStaleness {
  public static final int FRESH = 0;
  public static final int STALE = 2;
  public static final int USAGE = 64;

  private CheckStaleness() {}

  public static void main(String[] args) {
    System.exit(run(args, Clock.systemUTC(), System.out, System.err));
  }

  /** Parses {@code --output --interval [--sla] [--alertWebhook] [--json]} and checks; returns the exit status. */
  public static int run(String[] args, Clock clock, PrintStream out, PrintStream err) {
    Map<String, String> a = new HashMap<>();
    boolean json = false;
    for (String arg : args) {
      if (arg.equals("--json")) {
        json = true;
        continue;
      }
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        err.println("arguments are --name=value (and --json), but got '" + arg + "'");
        return USAGE;
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String output = a.get("output");
    if (output == null || output.isEmpty()) {
      err.println("--output=<root of the prediction files> is required");
      return USAGE;
    }
    Duration sla;
    try {
      RunInfo.Interval interval = RunInfo.Interval.parse(a.getOrDefault("interval", "daily"));
      sla = a.containsKey("sla") ? Duration.parse(a.get("sla")) : defaultSla(interval);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      err.println(e.getMessage());
      return USAGE;
    }
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    return check(output, sla, clock, a.get("alertWebhook"), json, out, err);
  }

  /** 1.5 times the interval: one missed run is tolerated for half an interval. */
  public static Duration defaultSla(RunInfo.Interval interval) {
    return interval.length().multipliedBy(3).dividedBy(2);
  }

  /** The check with the line for people; posts an alert to {@code webhook} (when set) if stale. */
  public static int check(String output, Duration sla, Clock clock, @Nullable String webhook, PrintStream out,
      PrintStream err) {
    return check(output, sla, clock, webhook, false, out, err);
  }

  /**
   * The check itself; with {@code json}, prints one JSON object to {@code out} ({@code status},
   * {@code run_id}, {@code published_at}, {@code age_seconds}, {@code age}, {@code prediction_timestamp},
   * {@code sla_seconds}, {@code output}, {@code problem}) instead of the line for people. Posts an alert
   * to {@code webhook} (when set) if stale.
   */
  public static int check(String output, Duration sla, Clock clock, @Nullable String webhook, boolean json,
      PrintStream out, PrintStream err) {
    String root = output.endsWith("/") ? output.substring(0, output.length() - 1) : output;
    String dir = FileSink.latestDirectory(root);
    String problem;
    String runId = "";
    Instant publishedAt = null;
    Instant ts = null;
    Age age = null;
    if (dir == null) {
      problem = "STALE: nothing published under " + root + " (no " + FileSink.LATEST + ")";
    } else {
      runId = FileSink.runIdOf(dir);
      String manifest = RunFiles.readIfExists(RunFiles.join(dir, FileSink.MANIFEST));
      ts = manifest == null ? null : predictionTimestamp(manifest);
      if (!RunFiles.exists(RunFiles.join(dir, FileSink.SUCCESS))) {
        problem = "STALE: " + dir + ", which " + FileSink.LATEST + " names, is not complete (no " + FileSink.SUCCESS
            + "): readers get no complete run; re-run " + runId;
      } else if ((publishedAt = FileSink.publishedAt(dir)) == null) {
        problem = "STALE: cannot tell when " + runId + " was published: " + dir + " has no " + FileSink.PUBLISHED
            + " and its " + FileSink.SUCCESS + " no modification time";
      } else {
        age = Age.since(publishedAt, clock.instant());
        String what = runId + " published " + age.human() + " ago (at " + publishedAt
            + (ts == null ? "" : "; predictions as of " + ts) + ")";
        if (age.duration().compareTo(sla) <= 0) {
          if (json) {
            out.println(json("fresh", runId, publishedAt, age, ts, sla, root, null));
          } else {
            out.println("FRESH: " + what + ", within the SLA " + Age.human(sla));
          }
          return FRESH;
        }
        problem = "STALE: " + what + ", more than the SLA " + Age.human(sla) + " (" + root + ")";
      }
    }
    if (json) {
      out.println(json("stale", runId, publishedAt, age, ts, sla, root, problem));
    }
    err.println(problem);
    ObjectNode alert = AlertWebhook.alert("stale", runId, problem);
    if (age != null) {
      alert.put("age_seconds", age.seconds());
    }
    AlertWebhook.sendIfConfigured(webhook, alert);
    return STALE;
  }

  private static String json(String status, String runId, @Nullable Instant publishedAt, @Nullable Age age,
      @Nullable Instant ts, Duration sla, String root, @Nullable String problem) {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("status", status);
    n.put("run_id", runId.isEmpty() ? null : runId);
    n.put("published_at", publishedAt == null ? null : publishedAt.toString());
    if (age == null) {
      n.putNull("age_seconds");
    } else {
      n.put("age_seconds", age.seconds());
    }
    n.put("age", age == null ? null : age.human());
    n.put("prediction_timestamp", ts == null ? null : ts.toString());
    n.put("sla_seconds", sla.getSeconds());
    n.put("output", root);
    n.put("problem", problem);
    try {
      return new ObjectMapper().writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static @Nullable Instant predictionTimestamp(String manifest) {
    try {
      JsonNode ts = RunReport.JSON.readTree(manifest).get("prediction_timestamp");
      return ts == null || !ts.isTextual() ? null : Instant.parse(ts.asText());
    } catch (IOException | DateTimeParseException e) {
      return null;
    }
  }
}
