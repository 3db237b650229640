package dev.batchserve.pipelines.cli;

import dev.batchserve.models.cli.LauncherVerb;
import dev.batchserve.models.cli.ModelCli;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.OptionArgs;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.pipelines.config.ConfigJob;
import dev.batchserve.pipelines.monitoring.CheckStaleness;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.options.Hidden;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One entry point for every verb, run by {@code bin/batchserve} with the class path the build
 * wrote (no Maven at run time). Each subcommand calls the existing main's logic; a failure prints
 * one line naming its cause and what to do, then the run's summary, and exits with the code of its
 * {@link Failure} class; the stack trace goes to the log file ({@link LauncherLogging}). Verbs of other
 * modules ({@code sample}, {@code train}, {@code flink} from batchserve-tools) are {@link LauncherVerb}s
 * found on the class path; this module's main code never refers to them.
 *
 * <pre>
 * bin/batchserve score --input=my.csv --model=work/models/fraud-mlp/1 --output=work/predictions/fraud
 * bin/batchserve lookup acct-7 --redis 127.0.0.1:6379 --prefix fraud
 * bin/batchserve check-staleness --output=work/predictions/fraud --interval=daily
 * bin/batchserve --help
 * </pre>
 */
public final class Launcher {
  /** The verbs that live in batchserve-tools, out of the production artifacts ({@link LauncherVerb}). */
  static final Map<String, String> TOOL_VERBS = Map.of("sample", "batchserve-tools", "train", "batchserve-tools",
      "flink", "batchserve-tools");

  private static final List<String> VERBS = List.of(
      "score [--input=... --model=... --output=... --runDate=YYYY-MM-DD ...]",
      "                  score a file (or JDBC/BigQuery source) with a model; publishes under --output",
      "                  runs on Flink embedded (parallelism = cores) unless --runner=DirectRunner (or another) is given",
      "                  `batchserve score --help` lists every option with its default",
      "job --config=FILE [--runDate=...] [overrides]   the config-driven job (a YAML job file)",
      "lookup KEY --redis host:port [--prefix p] [--db n] [--password-env VAR | --password-file F] [--tls]",
      "                  a served prediction from Redis, with how long ago its run was published (JSON)",
      "check-staleness --output=DIR [--interval=daily|hourly] [--sla=PT36H] [--alertWebhook=URL] [--json]",
      "                  whether the latest run was published within the SLA (age since its publish)",
      "model inspect|verify DIR        show / check a model directory",
      "fit-spec --input=FILE --template=T.json --out=feature-spec.json [--format=csv|jsonl|parquet]",
      "                  fit a feature-spec template on your data file",
      "manifest DIR [--name=N --version=V --format=onnx|tensorflow|linear|xgboost] [--inputFeatures=a,b]",
      "                  write the manifest of a model made elsewhere, or re-hash an existing one");

  private static final String EXIT_CODES = String.join(System.lineSeparator(),
      "exit codes:",
      "  0   success (lookup: the key has a prediction; check-staleness: fresh)",
      "  1   lookup: the lookup fell back (the JSON says why)",
      "  2   check-staleness: stale or nothing published; lookup: usage error",
      "  10  bad input or configuration (unknown option, input that matches no file, bad job file,",
      "      a verb whose module is not on the class path)",
      "  11  model problem (missing or incomplete model directory, failed integrity check, load failure)",
      "  12  store unreachable (Redis or PostgreSQL did not answer)",
      "  13  circuit breaker tripped (quality or drift out of bounds; nothing published)",
      "  14  the run failed otherwise (runner error; see the log)",
      "  64  check-staleness: usage error",
      "",
      "The terminal gets batchserve's own lines and the run summary; everything else (Flink, Beam, Hadoop,",
      "TensorFlow) and every stack trace goes to the log file named at the start",
      "(BATCHSERVE_LOG_DIR, default work/logs). --verbose (or BATCHSERVE_VERBOSE=1) shows it all.");

  /**
   * The help text: the launcher's own verbs, then each {@link LauncherVerb} found on the class path
   * (batchserve-tools adds sample, train and flink), then the tool verbs that are missing.
   */
  static String usage(Map<String, LauncherVerb> found) {
    List<String> lines = new ArrayList<>(List.of("usage: batchserve [--verbose] <verb> [arguments]", "", "verbs:"));
    VERBS.forEach(v -> lines.add("  " + v));
    found.values().forEach(v -> v.summary().forEach(l -> lines.add("  " + l)));
    List<String> missing = TOOL_VERBS.keySet().stream().filter(v -> !found.containsKey(v)).sorted()
        .collect(java.util.stream.Collectors.toList());
    if (!missing.isEmpty()) {
      lines.add("  " + String.join(", ", missing) + "   (in batchserve-tools, not on the class path: make build)");
    }
    lines.add("  help              this text");
    lines.add("  VERB --help       that verb's options and their defaults (--name=value and --name value both work)");
    lines.add("");
    lines.add(EXIT_CODES);
    return String.join(System.lineSeparator(), lines);
  }

  /** Every {@link LauncherVerb} on the launcher's class path, by name (the first one of a name wins). */
  static Map<String, LauncherVerb> foundVerbs() {
    Map<String, LauncherVerb> verbs = new LinkedHashMap<>();
    for (LauncherVerb v : ServiceLoader.load(LauncherVerb.class, Launcher.class.getClassLoader())) {
      verbs.putIfAbsent(v.name(), v);
    }
    return verbs;
  }

  private Launcher() {}

  public static void main(String[] args) {
    boolean verbose = "1".equals(System.getenv("BATCHSERVE_VERBOSE"));
    if (args.length > 0 && args[0].equals("--verbose")) {
      verbose = true;
      args = Arrays.copyOfRange(args, 1, args.length);
    }
    Path logDir = Path.of(System.getProperty("batchserve.logDir",
        Optional.ofNullable(System.getenv("BATCHSERVE_LOG_DIR")).orElse("work/logs")));
    Path log;
    try {
      log = LauncherLogging.configure(logDir, verbose);
    } catch (UncheckedIOException e) {
      System.err.println("batchserve: " + e.getMessage());
      System.exit(Failure.INPUT_OR_CONFIG.code);
      return;
    }
    int code = run(args, log, System.out, System.err);
    System.out.flush();
    System.exit(code);
  }

  /**
   * Runs one verb with the {@link LauncherVerb}s on the class path; returns its exit code. Every
   * verb but {@code score} (Beam's options) is a picocli command ({@link dev.batchserve.models.cli.Tools})
   * with its own {@code --help}.
   */
  static int run(String[] args, Path log, PrintStream out, PrintStream err) {
    return run(args, log, out, err, foundVerbs());
  }

  /** {@link #run(String[], Path, PrintStream, PrintStream)} with the given plug-in verbs. */
  static int run(String[] args, Path log, PrintStream out, PrintStream err, Map<String, LauncherVerb> verbs) {
    if (args.length == 0 || Arrays.asList("help", "--help", "-h").contains(args[0])) {
      (args.length == 0 ? err : out).println(usage(verbs));
      return args.length == 0 ? Failure.INPUT_OR_CONFIG.code : 0;
    }
    String verb = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    Score score = null;
    try {
      switch (verb) {
        case "score":
          if (wantsHelp(rest)) {
            out.print(optionsHelp());
            return 0;
          }
          score = new Score(withDefaultRunner(rest, flinkAvailable(), Runtime.getRuntime().availableProcessors()),
              log, out);
          return score.run();
        case "job":
          err.println("==> Running the job; log: " + log);
          return usageIsInputError(ConfigJob.run(rest, out, err));
        case "lookup":
          return LookupCli.run(args, out, err); // 0, 1 or 2
        case "check-staleness":
          return CheckStaleness.run(rest, Clock.systemUTC(), out, err);
        case "model":
          int m = ModelCli.run(rest, out, err);
          return m == ModelCli.OK ? 0 : m == ModelCli.INVALID ? Failure.MODEL.code : Failure.INPUT_OR_CONFIG.code;
        case "fit-spec":
          return usageIsInputError(OwnModelTools.fitSpec(rest, out, err));
        case "manifest":
          return usageIsInputError(OwnModelTools.manifest(rest, out, err));
        default:
          LauncherVerb plugged = verbs.get(verb);
          if (plugged != null) {
            return usageIsInputError(plugged.run(rest, out, err));
          }
          if (TOOL_VERBS.containsKey(verb)) {
            err.println("batchserve: verb '" + verb + "' is in " + TOOL_VERBS.get(verb) + ", which is not on the"
                + " class path: build with 'make build' (bin/batchserve then adds tools/target/classes) or put "
                + TOOL_VERBS.get(verb) + " on the class path (exit " + Failure.INPUT_OR_CONFIG.code + ")");
            return Failure.INPUT_OR_CONFIG.code;
          }
          err.println("batchserve: unknown verb '" + verb + "'");
          err.println(usage(verbs));
          return Failure.INPUT_OR_CONFIG.code;
      }
    } catch (LaunchException e) {
      LauncherLogging.FAILURES.log(Level.SEVERE, verb + ": " + e.getMessage(), e);
      err.println("batchserve " + verb + ": " + e.failure.title + ": " + sentence(e.getMessage()) + "; "
          + e.failure.advice + " (exit " + e.failure.code + ")");
      return e.failure.code;
    } catch (Exception | LinkageError e) {
      LauncherLogging.FAILURES.log(Level.SEVERE, verb + " failed", e);
      Failure.Classified c = Failure.cause(e);
      err.println("batchserve " + verb + ": " + c.failure.title + ": " + sentence(c.message()) + "; "
          + c.failure.advice + " (exit " + c.failure.code + "; stack trace in " + log + ")");
      if (score != null) {
        err.flush();
        out.println(score.failedSummary(c.failure));
      }
      return c.failure.code;
    }
  }

  /**
   * Beam's help for {@link BatchScoringOptions} without the options marked {@link Hidden} (Beam's
   * printer lists them): every option of the job, its type, default and description. A typed
   * option's choices and default are shown as the command line takes them
   * ({@code --duplicateKeys=<error | last_wins>}, {@code Default: parquet,jsonl}), not as Beam
   * names them (the enum constants, the default factory's class).
   */
  static String optionsHelp() {
    java.util.Set<String> hidden = new java.util.HashSet<>();
    for (java.lang.reflect.Method m : BatchScoringOptions.class.getMethods()) {
      if (m.isAnnotationPresent(Hidden.class) && m.getName().startsWith("get") && m.getName().length() > 3) {
        hidden.add(Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4));
      }
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    PipelineOptionsFactory.printHelp(new PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8),
        BatchScoringOptions.class);
    StringBuilder b = new StringBuilder();
    boolean skipping = false;
    java.lang.reflect.Method getter = null;
    for (String line : bytes.toString(java.nio.charset.StandardCharsets.UTF_8).split("\\R", -1)) {
      if (line.startsWith("  --")) {
        int end = line.indexOf('=');
        String name = line.substring(4, end < 0 ? line.length() : end);
        skipping = hidden.contains(name);
        getter = getter(name);
        if (getter != null && getter.getReturnType().isEnum()) {
          line = "  --" + name + "=<" + Arrays.stream(getter.getReturnType().getEnumConstants())
              .map(OptionArgs::text).collect(java.util.stream.Collectors.joining(" | ")) + ">";
        }
      } else if (!line.startsWith("    ")) {
        skipping = false;
        getter = null;
      } else if (line.startsWith("    Default: ") && getter != null && OptionArgs.defaultText(getter) != null
          && !getter.getReturnType().isPrimitive() && getter.getReturnType() != String.class) {
        line = "    Default: " + OptionArgs.defaultText(getter);
      }
      if (!skipping) {
        b.append(line).append(System.lineSeparator());
      }
    }
    return b.toString().stripTrailing() + System.lineSeparator();
  }

  private static java.lang.reflect.@Nullable Method getter(String option) {
    try {
      java.lang.reflect.Method m =
          BatchScoringOptions.class.getMethod("get" + Character.toUpperCase(option.charAt(0)) + option.substring(1));
      // Beam's own options (runner, ...) are shown as Beam shows them.
      return m.getDeclaringClass().getName().startsWith("dev.batchserve.") ? m : null;
    } catch (NoSuchMethodException | StringIndexOutOfBoundsException e) {
      return null;
    }
  }

  /**
   * The runner a {@code score} without {@code --runner} runs on: Flink embedded (a mini-cluster in
   * this JVM, {@code --flinkMaster=[local]}, parallelism = the machine's cores), which handles
   * millions of rows, when the Flink runner is on the class path (bin/batchserve puts it there after
   * {@code make build}); else the Direct runner. {@code --runner=DirectRunner} (or any runner) wins.
   */
  static String[] withDefaultRunner(String[] args, boolean flink, int cores) {
    boolean runnerGiven = Arrays.stream(args).anyMatch(a -> a.startsWith("--runner=") || a.equals("--runner"));
    if (runnerGiven || !flink || wantsHelp(args)) {
      return args;
    }
    List<String> a = new ArrayList<>(List.of("--runner=FlinkRunner"));
    if (Arrays.stream(args).noneMatch(x -> x.startsWith("--flinkMaster"))) {
      a.add("--flinkMaster=[local]");
    }
    if (Arrays.stream(args).noneMatch(x -> x.startsWith("--parallelism"))) {
      a.add("--parallelism=" + Math.max(1, cores));
    }
    a.addAll(Arrays.asList(args));
    return a.toArray(new String[0]);
  }

  /** Whether Beam's Flink runner is on the class path. */
  static boolean flinkAvailable() {
    try {
      Class.forName("org.apache.beam.runners.flink.FlinkRunner", false, Launcher.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** A tool's usage error (picocli's exit 2, printed by the tool) as the launcher's bad-input code. */
  private static int usageIsInputError(int code) {
    return code == 0 ? 0 : Failure.INPUT_OR_CONFIG.code;
  }

  /** A message without its final full stop(s), so that the advice can follow it. */
  static String sentence(String m) {
    return m.strip().replaceAll("[.]+$", "");
  }

  private static boolean wantsHelp(String[] args) {
    return Arrays.stream(args).anyMatch(a -> a.equals("--help") || a.equals("-h") || a.startsWith("--help="));
  }

  /** {@code score}: options, checks before the pipeline is built, the run, its summary. */
  private static final class Score {
    private final Path log;
    private final PrintStream out;
    private final String[] args;
    private @Nullable BatchScoringOptions options;

    Score(String[] args, Path log, PrintStream out) {
      this.args = args;
      this.log = log;
      this.out = out;
    }

    int run() {
      try {
        options = BatchScoringPipeline.options(args);
      } catch (IllegalArgumentException e) {
        throw new LaunchException(Failure.INPUT_OR_CONFIG, Failure.cause(e).message(), e);
      }
      FileSystems.setDefaultPipelineOptions(options);
      checkInput(options);
      checkModel(options);
      out.println("==> Scoring " + options.getInput() + " with " + options.getModel() + " on the "
          + options.getRunner().getSimpleName() + " for run date "
          + (options.getRunDate() == null ? "today" : options.getRunDate()) + "; log: " + log);
      out.flush();
      RunSummary summary = BatchScoringPipeline.run(options);
      out.println(summary.render());
      return 0;
    }

    /** The run id, report and log of a run that failed (the summary printed last). */
    String failedSummary(Failure failure) {
      StringBuilder b = new StringBuilder();
      String runId = null;
      if (options != null) {
        try {
          runId = BatchScoringPipeline.runInfo(options).runId();
        } catch (RuntimeException e) {
          runId = null; // a bad --runDate: no run to name
        }
      }
      b.append(runId == null ? "Run" : "Run " + runId)
          .append(failure == Failure.BREAKER_TRIPPED ? " tripped: nothing published" : " failed: nothing published");
      if (options != null && runId != null) {
        findReport(options.getOutput(), runId).ifPresent(r -> b.append(System.lineSeparator()).append("  report         ").append(r));
      }
      b.append(System.lineSeparator()).append("  log            ").append(log);
      return b.toString();
    }
  }

  /** A file input must match at least one file; JDBC and BigQuery sources are checked by the run. */
  static void checkInput(BatchScoringOptions o) {
    String input = o.getInput();
    dev.batchserve.transforms.ingest.ReadRecords.Format format = o.getInputFormat();
    if ((format != null && !format.isFile()) || input.startsWith("jdbc:") || input.startsWith("bigquery:")) {
      return;
    }
    boolean found;
    try {
      MatchResult m = FileSystems.match(input);
      found = m.status() == MatchResult.Status.OK && !m.metadata().isEmpty();
    } catch (IOException | IllegalArgumentException e) {
      found = false;
    }
    if (!found) {
      throw new LaunchException(Failure.INPUT_OR_CONFIG, "the input " + input
          + " matches no file (pass --input=<file or glob>; with make: INPUT=...)", null);
    }
  }

  /** A local model directory must exist and, unless --featureSpec is given, hold feature-spec.json. */
  static void checkModel(BatchScoringOptions o) {
    String model = o.getModel();
    if (model.contains("://")) {
      return; // remote: the model loader checks it
    }
    Path dir = Path.of(model.startsWith("file:") ? model.substring("file:".length()) : model);
    if (!Files.isDirectory(dir)) {
      throw new LaunchException(Failure.MODEL, "the model directory " + model
          + " does not exist (pass --model=<model directory>; with make: MODEL=...)", null);
    }
    if (o.getFeatureSpec().isEmpty() && !Files.exists(dir.resolve("feature-spec.json"))) {
      throw new LaunchException(Failure.MODEL, "the model directory " + model
          + " has no feature-spec.json (pass --featureSpec=<file>, or export the model with its spec)", null);
    }
  }

  /** The newest {@code _REPORT.html} of {@code runId} under a local output root. */
  static Optional<Path> findReport(String output, String runId) {
    if (output.contains("://")) {
      return Optional.empty();
    }
    Path root = Path.of(output);
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(p -> p.getFileName().toString().equals("_REPORT.html"))
          .filter(p -> p.toString().contains("run_id=" + runId))
          .max(Comparator.comparing(Launcher::modified));
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /** A failure the launcher found itself, before any run, with its class. */
  static final class LaunchException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final Failure failure;

    LaunchException(Failure failure, String message, @Nullable Throwable cause) {
      super(message, cause);
      this.failure = failure;
    }
  }
}
