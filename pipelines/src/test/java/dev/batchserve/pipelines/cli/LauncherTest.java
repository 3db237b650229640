package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.testing.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * {@code bin/batchserve} as an operator runs it: a separate JVM on the class path the build wrote
 * (pipelines/target/classpath.txt), with a PATH that holds no Maven. Score, lookup and
 * check-staleness succeed; a missing input, a missing model directory, an unreachable Redis and a
 * tripped circuit breaker each print one line naming the cause and exit with the documented code.
 * Published files are found only through {@code _LATEST}.
 */
@RunWith(JUnit4.class)
public class LauncherTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final RedisServer REDIS = new RedisServer();

  private static final Path REPO = Path.of("").toAbsolutePath().getParent();
  private static Path work;
  private static Path pathDir;
  private static Path model;
  private static Path csv;
  private static Path shiftedCsv;

  @BeforeClass
  public static void setUp() throws Exception {
    work = TMP.newFolder("work").toPath();
    model = work.resolve("model");
    TrainFraudModel.train(model, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(300, 11);
    csv = work.resolve("in/accounts.csv");
    FraudSample.writeCsv(rows, csv);
    for (Map<String, Object> row : rows) {
      for (String amount : List.of("amount_mean_30d", "amount_max_30d", "amount_std_30d")) {
        if (row.get(amount) != null) {
          row.put(amount, ((Double) row.get(amount)) * 10);
        }
      }
    }
    shiftedCsv = work.resolve("shifted/accounts.csv");
    FraudSample.writeCsv(rows, shiftedCsv);
    // The only commands the script needs besides java (given as JAVA): no mvn anywhere on this PATH.
    pathDir = TMP.newFolder("path").toPath();
    for (String tool : List.of("bash", "cat", "dirname")) {
      Files.createSymbolicLink(pathDir.resolve(tool), which(tool));
    }
  }

  private static Path which(String tool) {
    for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(tool + " is not on the PATH");
  }

  /** The exit code, stdout and stderr of one launcher command. */
  private static final class Result {
    final int code;
    final String out;
    final String err;

    Result(int code, String out, String err) {
      this.code = code;
      this.out = out;
      this.err = err;
    }

    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).filter(l -> !isNativeTensorFlowLine(l)).collect(Collectors.toList());
    }

    String lastOutLine() {
      List<String> lines = out.lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
      return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** TensorFlow's native (absl) start-up lines, which precede any Java logging configuration. */
  private static boolean isNativeTensorFlowLine(String l) {
    return l.startsWith("WARNING: All log messages before absl::InitializeLog()") || l.matches("^[IW]0000 .*");
  }

  private static Result batchserve(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(pathDir.resolve("bash").toString(),
        REPO.resolve("bin/batchserve").toString()));
    command.addAll(Arrays.asList(args));
    // The same runner whether or not `make build` wrote the Flink class path (the default runner
    // then): these tests are about the launcher; DefaultRunnerTest covers the choice of runner.
    if (args.length > 0 && args[0].equals("score") && Arrays.stream(args).noneMatch(a -> a.startsWith("--runner"))) {
      command.add("--runner=DirectRunner");
    }
    Path out = Files.createTempFile(work, "out", ".txt");
    Path err = Files.createTempFile(work, "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("PATH", pathDir.toString());
    pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment().put("JAVA_OPTS", "-Xmx1g");
    pb.environment().put("BATCHSERVE_LOG_DIR", work.resolve("logs").toString());
    pb.environment().remove("BATCHSERVE_VERBOSE");
    Process p = pb.start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("batchserve " + String.join(" ", args) + " did not finish in 10 minutes");
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort(); // closed again when this returns: nothing listens there
    }
  }

  /** A failed run leaves no staged shards: no {@code _staging} directory anywhere under its output. */
  private static void assertNoStagingLeft(Path output) throws IOException {
    if (!Files.exists(output)) {
      return;
    }
    try (Stream<Path> all = Files.walk(output)) {
      List<Path> staging = all.filter(f -> f.getFileName().toString().equals("_staging")).collect(Collectors.toList());
      assertThat("staging left behind by a failed run: " + staging, staging.isEmpty(), is(true));
    }
  }

  private static void assertOneLineWithoutStackTrace(Result r) {
    assertThat(r.toString(), r.errLines().size(), is(1));
    assertThat(r.toString(), r.err, not(containsString("\tat ")));
    assertThat(r.toString(), r.err, not(containsString("[ERROR]")));
  }

  @Test
  public void thePathOfTheseTestsHoldsNoMaven() throws IOException {
    try (Stream<Path> tools = Files.list(pathDir)) {
      assertThat(tools.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("mvn"))
          .collect(Collectors.toList()), is(empty()));
    }
  }

  /** The JSON object a verb printed on a line of its own. */
  private static com.fasterxml.jackson.databind.JsonNode jsonLine(String out) throws Exception {
    for (String line : out.split("\\R")) {
      if (line.startsWith("{")) {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
      }
    }
    throw new AssertionError("no JSON line in: " + out);
  }

  @Test
  public void scoreLookupAndCheckStalenessRunWithoutMaven() throws Exception {
    Path output = work.resolve("predictions/fraud");
    String yesterday = LocalDate.now(ZoneOffset.UTC).minusDays(1).toString();
    Result score = batchserve("score", "--input=" + csv, "--model=" + model, "--output=" + output,
        "--runDate=" + yesterday, "--formats=jsonl", "--redisHost=127.0.0.1", "--redisPort=" + REDIS.port(),
        "--redisPrefix=fraud");
    assertThat(score.toString(), score.code, is(0));
    assertThat(score.toString(), score.out, containsString("predictions    300"));
    // the summary is the last thing printed
    assertThat(score.toString(), score.lastOutLine().trim(), startsWith("report"));
    assertThat(score.toString(), score.err, not(containsString("org.apache.flink")));
    assertThat(score.toString(), score.err, not(containsString("org.apache.beam")));
    String latest = Files.readString(output.resolve("_LATEST")).trim();
    assertThat(Files.exists(output.resolve(latest).resolve("_SUCCESS")), is(true));

    Result lookup = batchserve("lookup", "acct-000001", "--redis", "127.0.0.1:" + REDIS.port(), "--prefix", "fraud");
    assertThat(lookup.toString(), lookup.code, is(0));
    assertThat(lookup.toString(), lookup.out, containsString("\"source\":\"store\""));
    // The age counts from the publish, moments ago: small, never negative, in whole seconds and for people.
    com.fasterxml.jackson.databind.JsonNode found = jsonLine(lookup.out);
    assertThat(lookup.toString(), found.get("age_seconds").asLong() >= 0 && found.get("age_seconds").asLong() < 600,
        is(true));
    assertThat(lookup.toString(), found.get("age").asText().matches("(\\d+[dhms] ?)+"), is(true));

    Result fresh = batchserve("check-staleness", "--output=" + output, "--interval=daily");
    assertThat(fresh.toString(), fresh.code, is(0));
    assertThat(fresh.toString(), fresh.out, startsWith("FRESH: "));
    assertThat(fresh.toString(), fresh.out.matches("(?s)FRESH: fraud-daily-\\d{8} published (\\d+m )?\\d+s ago .*"),
        is(true));
    Result json = batchserve("check-staleness", "--output=" + output, "--json");
    assertThat(json.toString(), json.code, is(0));
    long age = jsonLine(json.out).get("age_seconds").asLong();
    assertThat(json.toString(), age >= 0 && age < 600, is(true));
  }

  @Test
  public void aMissingInputIsOneLineAndExit10() throws Exception {
    Result r = batchserve("score", "--input=" + work.resolve("nope/accounts.csv"), "--model=" + model,
        "--output=" + work.resolve("out-missing"));
    assertThat(r.toString(), r.code, is(Failure.INPUT_OR_CONFIG.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("nope/accounts.csv matches no file"));
    assertNoStagingLeft(work.resolve("out-missing"));
  }

  @Test
  public void aMissingModelDirectoryIsReportedAsSuchWithExit11() throws Exception {
    Result r = batchserve("score", "--input=" + csv, "--model=" + work.resolve("models/none/1"),
        "--output=" + work.resolve("out-nomodel"));
    assertThat(r.toString(), r.code, is(Failure.MODEL.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("the model directory " + work.resolve("models/none/1") + " does not exist"));
  }

  @Test
  public void anUnknownOptionIsOneLineAndExit10() throws Exception {
    Result r = batchserve("score", "--inptu=x.csv");
    assertThat(r.toString(), r.code, is(Failure.INPUT_OR_CONFIG.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("inptu"));
  }

  @Test
  public void lookupWithoutRedisIsStoreUnreachableExit12() throws Exception {
    int port = closedPort();
    Result r = batchserve("lookup", "acct-000001", "--redis", "127.0.0.1:" + port);
    assertThat(r.toString(), r.code, is(Failure.STORE_UNREACHABLE.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("store unreachable"));
  }

  @Test
  public void aRunWithoutRedisIsStoreUnreachableExit12WithItsSummary() throws Exception {
    int port = closedPort();
    Result r = batchserve("score", "--input=" + csv, "--model=" + model, "--output=" + work.resolve("out-noredis"),
        "--runDate=2026-11-20", "--formats=jsonl", "--redisHost=127.0.0.1", "--redisPort=" + port);
    assertThat(r.toString(), r.code, is(Failure.STORE_UNREACHABLE.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("store unreachable"));
    assertThat(r.toString(), r.out, containsString("Run fraud-daily-20261120 failed"));
    assertThat(r.toString(), r.lastOutLine().trim(), startsWith("log"));
    assertNoStagingLeft(work.resolve("out-noredis"));
  }

  @Test
  public void aTrippedBreakerIsOneLineExit13AndTheSummaryComesLast() throws Exception {
    Path output = work.resolve("out-tripped");
    Result r = batchserve("score", "--input=" + shiftedCsv, "--model=" + model, "--output=" + output,
        "--runDate=2026-11-21", "--formats=jsonl");
    assertThat(r.toString(), r.code, is(Failure.BREAKER_TRIPPED.code));
    assertOneLineWithoutStackTrace(r);
    assertThat(r.err, containsString("circuit breaker tripped"));
    assertThat(r.err, containsString("amount_mean_30d"));
    assertThat(r.toString(), r.out, containsString("Run fraud-daily-20261121 tripped: nothing published"));
    assertThat(r.toString(), r.lastOutLine().trim(), startsWith("log"));
    assertThat(Files.exists(output.resolve("_LATEST")), is(false));
    assertNoStagingLeft(output);
    // the stack trace is in the log file the summary names
    String log = r.lastOutLine().trim().substring("log".length()).trim();
    assertThat(Files.readString(Path.of(log)), containsString("\tat "));
  }

  @Test
  public void scoreHelpListsTheJobsOptionsPlainly() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = Launcher.run(new String[] {"score", "--help"}, work.resolve("help.log"), out, out);
    String help = bytes.toString(StandardCharsets.UTF_8);
    assertThat(code, is(0));
    assertThat(help, containsString("--input="));
    assertThat(help, containsString("--model="));
    assertThat(help, containsString("--maxPsi="));
    assertThat(help, not(containsString("bigQueryServices")));
  }

  /** Key -> score of the published run under {@code output} (its JSON lines, found through _LATEST). */
  private static Map<String, Double> publishedScores(Path output) throws Exception {
    Path runDir = output.resolve(Files.readString(output.resolve("_LATEST")).trim());
    Map<String, Double> scores = new java.util.HashMap<>();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    try (Stream<Path> files = Files.list(runDir.resolve("jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          com.fasterxml.jackson.databind.JsonNode n = json.readTree(line);
          scores.put(n.get("key").asText(), n.get("score").asDouble());
        }
      }
    }
    return scores;
  }

  @Test
  public void onnxAndXGBoostModelsScoreOnTheShippedClassPath() throws Exception {
    // The engines batchserve-models keeps optional must be on the launcher's class path (classpath.txt).
    dev.batchserve.pipelines.EngineModels models = dev.batchserve.pipelines.EngineModels.fit(2000, 7);
    Path onnx = work.resolve("models/fraud-onnx");
    models.writeOnnx(onnx);
    Path xgboost = work.resolve("models/fraud-xgb");
    models.writeXGBoost(xgboost);
    List<Map<String, Object>> rows = FraudSample.generate(300, 11); // the rows of accounts.csv
    Map<Path, Map<String, Float>> expected = Map.of(
        onnx, dev.batchserve.pipelines.EngineModels.onnxScores(onnx, rows),
        xgboost, dev.batchserve.pipelines.EngineModels.xgboostScores(xgboost, rows));
    for (Map.Entry<Path, Map<String, Float>> m : expected.entrySet()) {
      Path output = work.resolve("predictions/" + m.getKey().getFileName());
      Result r = batchserve("score", "--input=" + csv, "--model=" + m.getKey(), "--output=" + output,
          "--runDate=2026-11-20", "--formats=jsonl");
      assertThat(r.toString(), r.code, is(0));
      Map<String, Double> published = publishedScores(output);
      assertThat(r.toString(), published.keySet(), is(m.getValue().keySet()));
      for (Map.Entry<String, Float> e : m.getValue().entrySet()) {
        assertThat(m.getKey() + " " + e.getKey(), published.get(e.getKey()),
            org.hamcrest.Matchers.closeTo(e.getValue(), 1e-6));
      }
    }
  }

  @Test
  public void theToolVerbsRunFromBatchserveToolsOnTheLaunchersClassPath() throws Exception {
    // --help only: writing the sample's Parquet file runs Hadoop's shell commands, absent from this PATH.
    Result sample = batchserve("sample", "--help");
    assertThat(sample.toString(), sample.code, is(0));
    assertThat(sample.toString(), sample.out, containsString("--accounts"));
    Result train = batchserve("train", "--input=x.csv", "--help");
    assertThat(train.toString(), train.code, is(0));
    assertThat(train.toString(), train.out, containsString("--label"));
    Result help = batchserve("--help");
    assertThat(help.toString(), help.code, is(0));
    for (String verb : List.of("sample", "train", "flink")) {
      assertThat(help.toString(), help.out, containsString("  " + verb + " "));
    }
  }

  @Test
  public void helpListsTheVerbsAndTheExitCodes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    assertThat(Launcher.run(new String[] {"--help"}, work.resolve("help.log"), out, out), is(0));
    String help = bytes.toString(StandardCharsets.UTF_8);
    for (Failure f : Failure.values()) {
      assertThat(help, containsString("  " + f.code + "  "));
    }
    for (String verb : List.of("score", "job", "lookup", "check-staleness", "model", "sample", "train", "flink")) {
      assertThat(help, containsString("  " + verb + " "));
    }
  }
}
