package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

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
 *
 * <p>{@code --help} lists the options ({@link Tools}); a bad or unknown option exits {@value #USAGE}.
 */
@Command(name = "batchserve check-staleness", sortOptions = false,
    exitCodeOnInvalidInput = CheckStaleness.USAGE,
    description = "Whether the latest run under --output was published within the SLA. Exit 0 when fresh, "
        + CheckStaleness.STALE + " when stale or nothing is published, " + CheckStaleness.USAGE + " for bad arguments.")
public final class CheckStaleness implements Callable<Integer> {
  public static final int FRESH = 0;
  public static final int STALE = 2;
  public static final int USAGE = 64;

  @Option(names = "--output", required = true, paramLabel = "DIR",
      description = "The root of the prediction files (where _LATEST is).")
  private String output;

  @Option(names = "--interval", defaultValue = "daily", paramLabel = "INTERVAL",
      description = "The run interval: hourly, daily or weekly (default: ${DEFAULT-VALUE}).")
  private String interval;

  @Option(names = "--sla", paramLabel = "DURATION",
      description = "The longest age that is fresh, ISO-8601 (PT36H); default 1.5 times the interval.")
  private String sla;

  @Option(names = "--alertWebhook", paramLabel = "URL", description = "Where to post an alert when stale.")
  private String alertWebhook;

  @Option(names = "--json", description = "Print one JSON object instead of the line for people.")
  private boolean json;

  @Spec private CommandSpec spec;

  private final Clock clock;

  private CheckStaleness() {
    this(Clock.systemUTC());
  }

  private CheckStaleness(Clock clock) {
    this.clock = clock;
  }

  public static void main(String[] args) {
    Tools.exit(new CheckStaleness(), args);
  }

  /** Parses {@code --output --interval [--sla] [--alertWebhook] [--json]} and checks; returns the exit status. */
  public static int run(String[] args, Clock clock, PrintStream out, PrintStream err) {
    return Tools.execute(new CheckStaleness(clock), args, out, err);
  }

  @Override
  public Integer call() {
    if (output.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--output=<root of the prediction files> is required");
    }
    Duration limit;
    try {
      RunInfo.Interval i = RunInfo.Interval.parse(interval);
      limit = sla != null ? Duration.parse(sla) : defaultSla(i);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    return check(output, limit, clock, alertWebhook, json, out, err);
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
    PrintWriter o = new PrintWriter(out, true);
    PrintWriter e = new PrintWriter(err, true);
    try {
      return check(output, sla, clock, webhook, json, o, e);
    } finally {
      o.flush();
      e.flush();
    }
  }

  private static int check(String output, Duration sla, Clock clock, @Nullable String webhook, boolean json,
      PrintWriter out, PrintWriter err) {
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
