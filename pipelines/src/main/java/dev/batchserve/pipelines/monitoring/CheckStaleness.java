package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
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
 * that run's {@code _MANIFEST.json} {@code prediction_timestamp}, and compares its age with the SLA
 * (default 1.5 times the interval). Exit status 0 when fresh, {@value #STALE} when stale or when
 * nothing is published (the message says which, and an alert is posted when a webhook is given),
 * {@value #USAGE} for bad arguments.
 *
 * <pre>
 * java -cp batchserve-pipelines.jar dev.batchserve.pipelines.monitoring.CheckStaleness \
 *     --output=/data/predictions/fraud --interval=daily [--sla=PT36H] [--alertWebhook=https://...]
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

  /** Parses {@code --output --interval [--sla] [--alertWebhook]} and checks; returns the exit status. */
  public static int run(String[] args, Clock clock, PrintStream out, PrintStream err) {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        err.println("arguments are --name=value, but got '" + arg + "'");
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
    return check(output, sla, clock, a.get("alertWebhook"), out, err);
  }

  /** 1.5 times the interval: one missed run is tolerated for half an interval. */
  public static Duration defaultSla(RunInfo.Interval interval) {
    return interval.length().multipliedBy(3).dividedBy(2);
  }

  /** The check itself; posts an alert to {@code webhook} (when set) if stale. */
  public static int check(String output, Duration sla, Clock clock, @Nullable String webhook, PrintStream out,
      PrintStream err) {
    String root = output.endsWith("/") ? output.substring(0, output.length() - 1) : output;
    String dir = FileSink.latestDirectory(root);
    String problem;
    String runId = "";
    if (dir == null) {
      problem = "STALE: nothing published under " + root + " (no " + FileSink.LATEST + ")";
    } else {
      runId = FileSink.runIdOf(dir);
      String manifest = RunFiles.readIfExists(RunFiles.join(dir, FileSink.MANIFEST));
      Instant ts = manifest == null ? null : predictionTimestamp(manifest);
      if (!RunFiles.exists(RunFiles.join(dir, FileSink.SUCCESS))) {
        problem = "STALE: " + dir + ", which " + FileSink.LATEST + " names, is not complete (no " + FileSink.SUCCESS
            + "): readers get no complete run; re-run " + runId;
      } else if (ts == null) {
        problem = "STALE: " + dir + " has no readable " + FileSink.MANIFEST + " with a prediction_timestamp";
      } else {
        Duration age = Duration.between(ts, clock.instant());
        if (age.compareTo(sla) <= 0) {
          out.println("FRESH: " + runId + " predictions as of " + ts + " are " + age + " old (SLA " + sla + ")");
          return FRESH;
        }
        problem = "STALE: " + runId + " predictions as of " + ts + " are " + age + " old, more than the SLA "
            + sla + " (" + root + ")";
      }
    }
    err.println(problem);
    AlertWebhook.sendIfConfigured(webhook, AlertWebhook.alert("stale", runId, problem));
    return STALE;
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
