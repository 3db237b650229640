package dev.batchserve.pipelines.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.flink.FlinkClusterClasspath;
import dev.batchserve.tools.flink.LocalFlinkCluster;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.checkerframework.checker.nullness.qual.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The same fraud scoring job ({@link BatchScoringPipeline}, the input and model of
 * {@link EndToEndBenchmark}) on three runners in turn: the Direct runner, Flink embedded in this JVM
 * ({@code --flinkMaster=[local] --parallelism=2}) and a Flink session cluster on this machine (a
 * JobManager and a TaskManager JVM started by {@link LocalFlinkCluster} from the Maven jars, the job
 * submitted over REST). Prints each run's seconds and rows/s (from submission to the end of the run,
 * as {@link RunSummary} measures it; the cluster's own start is timed apart), checks that all three
 * published the same predictions (the JSON-lines output compared per key: the same keys, the same
 * fields, scores within 1e-6) and writes JSON.
 *
 * <pre>
 * java ... RunnerBenchmark --records=200000 --out=work/bench/runners.json [--workDir=work/bench/e2e]
 *     [--flinkDir=work/bench/flink-cluster] [--flinkPom=flink/pom.xml]
 * </pre>
 *
 * <p>The cluster's jars are copied into {@code <flinkDir>/lib} once (see {@link FlinkClusterClasspath});
 * the job stages this JVM's class path without Flink and the TensorFlow natives, which the cluster has.
 */
public final class RunnerBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Scores may differ in the last bits when a record shares its batch with other records. */
  static final double SCORE_TOLERANCE = 1e-6;

  private RunnerBenchmark() {}

  /** Where and how the cluster run happens. */
  public static final class Cluster {
    final Path dir;
    final Path lib;
    final String filesToStage;

    /** A cluster in {@code dir} with the jars of {@code lib}; jobs stage {@code filesToStage}. */
    public Cluster(Path dir, Path lib, String filesToStage) {
      this.dir = dir.toAbsolutePath();
      this.lib = lib.toAbsolutePath();
      this.filesToStage = filesToStage;
    }
  }

  /** One runner's run. */
  static final class RunnerRun {
    final String runner;
    final List<String> args;
    final RunSummary summary;
    final Map<String, String> lines; // key -> JSON line

    RunnerRun(String runner, List<String> args, RunSummary summary, Map<String, String> lines) {
      this.runner = runner;
      this.args = args;
      this.summary = summary;
      this.lines = lines;
    }
  }

  /** How one run's predictions compare with the reference run's. */
  static final class Comparison {
    long keys;
    long identicalLines;
    long otherFieldsDiffer;
    double maxScoreDifference;
    List<String> missingKeys = new ArrayList<>();
    List<String> extraKeys = new ArrayList<>();

    boolean same() {
      return missingKeys.isEmpty() && extraKeys.isEmpty() && otherFieldsDiffer == 0
          && maxScoreDifference <= SCORE_TOLERANCE;
    }
  }

  /** The run's JSON-lines predictions by key; fails on a key written twice. */
  static Map<String, String> readJsonLines(String runDir) throws IOException {
    Map<String, String> byKey = new HashMap<>();
    try (Stream<Path> files = Files.list(Paths.get(runDir, "jsonl"))) {
      for (Path f : files.sorted().collect(Collectors.toList())) {
        try (Stream<String> lines = Files.lines(f, StandardCharsets.UTF_8)) {
          for (String line : (Iterable<String>) lines::iterator) {
            String key = JSON.readTree(line).get("key").asText();
            if (byKey.put(key, line) != null) {
              throw new IllegalStateException("key " + key + " written twice in " + runDir);
            }
          }
        }
      }
    }
    return byKey;
  }

  /** Compares per key: identical lines, else the score, scores and confidence within the tolerance and every other field equal. */
  static Comparison compare(Map<String, String> want, Map<String, String> got) throws IOException {
    Comparison c = new Comparison();
    c.keys = got.size();
    for (Map.Entry<String, String> e : want.entrySet()) {
      String g = got.get(e.getKey());
      if (g == null) {
        c.missingKeys.add(e.getKey());
      } else if (g.equals(e.getValue())) {
        c.identicalLines++;
      } else {
        ObjectNode w = (ObjectNode) JSON.readTree(e.getValue());
        ObjectNode h = (ObjectNode) JSON.readTree(g);
        c.maxScoreDifference = Math.max(c.maxScoreDifference, difference(w.get("score"), h.get("score")));
        c.maxScoreDifference = Math.max(c.maxScoreDifference, difference(w.get("confidence"), h.get("confidence")));
        JsonNode ws = w.get("scores");
        JsonNode hs = h.get("scores");
        if (ws.size() != hs.size()) {
          c.otherFieldsDiffer++;
          continue;
        }
        for (int i = 0; i < ws.size(); i++) {
          c.maxScoreDifference = Math.max(c.maxScoreDifference, difference(ws.get(i), hs.get(i)));
        }
        for (ObjectNode n : List.of(w, h)) {
          n.remove(List.of("score", "scores", "confidence"));
        }
        if (!w.equals(h)) {
          c.otherFieldsDiffer++;
        }
      }
    }
    for (String k : got.keySet()) {
      if (!want.containsKey(k)) {
        c.extraKeys.add(k);
      }
    }
    return c;
  }

  private static double difference(JsonNode a, JsonNode b) {
    if (a == null || a.isNull() || b == null || b.isNull()) {
      return (a == null || a.isNull()) == (b == null || b.isNull()) ? 0 : Double.POSITIVE_INFINITY;
    }
    return Math.abs(a.asDouble() - b.asDouble());
  }

  private static RunnerRun runOn(String runner, Path input, Path model, Path output, int batchSize, long records,
      List<String> args) throws IOException {
    FraudBenchmarkData.deleteRecursively(output);
    BatchScoringOptions o = FraudBenchmarkData.jobOptions(input, model, output, records, batchSize, args);
    RunSummary s = BatchScoringPipeline.run(o);
    if (s.predictions + s.fallbacks != records) {
      throw new IllegalStateException(runner + ": expected " + records + " results, got " + (s.predictions + s.fallbacks));
    }
    return new RunnerRun(runner, args, s, readJsonLines(s.runDirectory));
  }

  /**
   * Runs the job on each runner and compares their predictions; {@code cluster} null skips the
   * cluster run. Throws when any run's predictions differ from the Direct runner's.
   */
  public static ObjectNode run(Path work, long records, int batchSize, int trainingAccounts, @Nullable Cluster cluster,
      Path out, PrintStream table) throws IOException, InterruptedException {
    List<Double> load = RecommendBenchmark.loadAverage();
    int cores = Runtime.getRuntime().availableProcessors();
    table.printf(Locale.ROOT, "The fraud job on three runners, %,d accounts, batch %d; %d cores, load average %s%n",
        records, batchSize, cores, load);
    Path model = FraudBenchmarkData.model(work, trainingAccounts);
    Path input = FraudBenchmarkData.parquetInput(work, records, table);
    Path outputs = work.resolve("runners-" + records).toAbsolutePath();

    List<RunnerRun> runs = new ArrayList<>();
    runs.add(runOn("Direct", input, model, outputs.resolve("direct"), batchSize, records,
        List.of("--runner=DirectRunner")));
    runs.add(runOn("Flink embedded", input, model, outputs.resolve("flink-embedded"), batchSize, records,
        List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2")));
    double clusterStartSeconds = Double.NaN;
    if (cluster != null) {
      long t0 = System.nanoTime();
      try (LocalFlinkCluster flink = LocalFlinkCluster.in(cluster.dir).withLibDir(cluster.lib).withTaskManagers(1)
          .start()) {
        clusterStartSeconds = (System.nanoTime() - t0) / 1e9;
        runs.add(runOn("Flink cluster", input, model, outputs.resolve("flink-cluster"), batchSize, records,
            List.of("--runner=FlinkRunner", "--flinkMaster=" + flink.restAddress(), "--parallelism=2",
                "--filesToStage=" + cluster.filesToStage)));
      }
    }

    ObjectNode root = JSON.createObjectNode();
    ObjectNode machine = root.putObject("machine");
    machine.put("availableProcessors", cores);
    machine.putPOJO("loadAverageAtStart", load);
    machine.put("javaVersion", System.getProperty("java.version"));
    machine.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    root.put("records", records);
    root.put("batchSize", batchSize);
    if (cluster != null) {
      root.put("clusterStartSeconds", clusterStartSeconds);
      root.put("clusterTaskManagers", 1);
    }
    ArrayNode results = root.putArray("results");
    RunnerRun reference = runs.get(0);
    List<String> failures = new ArrayList<>();
    table.println("| runner | seconds | rows/s | keys | same predictions as Direct | identical JSON lines | max score difference |");
    table.println("|---|---:|---:|---:|---|---:|---:|");
    for (RunnerRun r : runs) {
      Comparison c = compare(reference.lines, r.lines);
      double rate = records / r.summary.seconds;
      ObjectNode n = results.addObject();
      n.put("runner", r.runner);
      n.putPOJO("runnerArgs", r.args.stream().map(a -> a.startsWith("--filesToStage=") ? "--filesToStage=..." : a)
          .collect(Collectors.toList()));
      n.put("seconds", r.summary.seconds);
      n.put("rowsPerSecond", rate);
      n.put("predictions", r.summary.predictions);
      n.put("fallbacks", r.summary.fallbacks);
      n.put("keys", c.keys);
      n.put("samePredictionsAsDirect", c.same());
      n.put("identicalJsonLines", c.identicalLines);
      n.put("maxScoreDifference", c.maxScoreDifference);
      n.put("runDirectory", r.summary.runDirectory);
      table.printf(Locale.ROOT, "| %s | %.1f | %,.0f | %,d | %s | %,d | %.2g |%n", r.runner, r.summary.seconds, rate,
          c.keys, c.same() ? "yes" : "NO", c.identicalLines, c.maxScoreDifference);
      if (!c.same()) {
        failures.add(String.format(Locale.ROOT, "%s: %d missing keys (e.g. %s), %d extra keys, %d with other fields"
            + " differing, max score difference %g", r.runner, c.missingKeys.size(),
            c.missingKeys.stream().limit(3).collect(Collectors.toList()), c.extraKeys.size(), c.otherFieldsDiffer,
            c.maxScoreDifference));
      }
    }
    if (cluster != null) {
      table.printf(Locale.ROOT, "(the cluster's start, one JobManager + one TaskManager JVM: %.1f s, not in the job's time)%n",
          clusterStartSeconds);
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
    if (!failures.isEmpty()) {
      throw new IllegalStateException("the runners published different predictions: " + failures);
    }
    return root;
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line. */
  @Command(name = "RunnerBenchmark", sortOptions = false,
      description = "The same job on the Direct runner, Flink embedded and a Flink session cluster; same predictions.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "200000", description = "Records to score (default: ${DEFAULT-VALUE}).")
    private long records;

    @Option(names = "--batchSize", defaultValue = "256", description = "The job's batch size (default: ${DEFAULT-VALUE}).")
    private int batchSize;

    @Option(names = "--out", defaultValue = "work/bench/runners.json", paramLabel = "FILE",
        description = "The JSON report (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/e2e", paramLabel = "DIR",
        description = "Model, data and output (default: ${DEFAULT-VALUE}).")
    private Path work;

    @Option(names = "--flinkDir", defaultValue = "work/bench/flink-cluster", paramLabel = "DIR",
        description = "The session cluster's state and logs (default: ${DEFAULT-VALUE}).")
    private Path flinkDir;

    @Option(names = "--flinkPom", defaultValue = "flink/pom.xml", paramLabel = "FILE",
        description = "The POM listing Flink's jars (default: ${DEFAULT-VALUE}).")
    private Path flinkPom;

    @Override
    public Integer call() throws IOException, InterruptedException {
      Path lib = FlinkClusterClasspath.copy(flinkPom, flinkDir.resolve("lib"));
      RunnerBenchmark.run(work, records, batchSize, FraudBenchmarkData.TRAINING_ACCOUNTS,
          new Cluster(flinkDir, lib, FlinkClusterClasspath.filesToStage()), out, System.out);
      return 0;
    }
  }
}
