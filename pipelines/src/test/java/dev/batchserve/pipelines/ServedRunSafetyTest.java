package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.pipelines.monitoring.CheckStaleness;
import dev.batchserve.pipelines.monitoring.QualityFile;
import dev.batchserve.pipelines.monitoring.RunReport;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The promise that the served run stays served until a new attempt is complete and passed every gate,
 * at its edges (issue 15, items 2, 5, 6), with the real job on the Direct runner: a re-run of the served
 * run id that the breaker rejects, or that is killed between staging and publishing, leaves every
 * served file as it was; two concurrent runs of one run id cannot both publish; a failed attempt leaves
 * no staged files behind.
 */
public class ServedRunSafetyTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ACCOUNTS = 400;
  private static final String DATE = "2026-11-28";

  private static Path model;
  private static Path clean;
  private static Path fewer;
  private static Path shifted;

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    model = TMP.newFolder("model").toPath();
    TrainFraudModel.train(model, 3000, 7, "1");
    List<Map<String, Object>> rows = FraudSample.generate(ACCOUNTS, 42);
    clean = TMP.getRoot().toPath().resolve("clean/accounts.csv");
    FraudSample.writeCsv(rows, clean);
    fewer = TMP.getRoot().toPath().resolve("fewer/accounts.csv");
    FraudSample.writeCsv(rows.subList(0, 300), fewer);
    // Two amount features ten times larger: the breaker's PSI limit trips against the training data.
    List<Map<String, Object>> shift = new ArrayList<>();
    for (Map<String, Object> row : FraudSample.generate(ACCOUNTS, 42)) {
      for (String amount : List.of("amount_mean_30d", "amount_max_30d")) {
        if (row.get(amount) != null) {
          row.put(amount, ((Double) row.get(amount)) * 10);
        }
      }
      shift.add(row);
    }
    shifted = TMP.getRoot().toPath().resolve("shifted/accounts.csv");
    FraudSample.writeCsv(shift, shifted);
  }

  private static List<String> args(Path input, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of("--runner=DirectRunner", "--input=" + input, "--model=" + model,
        "--output=" + out, "--runDate=" + DATE));
    a.addAll(List.of(more));
    if (a.stream().noneMatch(arg -> arg.startsWith("--numShards="))) {
      a.add("--numShards=2");
    }
    return a;
  }

  private static BatchScoringOptions options(Path input, Path out, String... more) {
    return PipelineOptionsFactory.fromArgs(args(input, out, more).toArray(new String[0]))
        .withValidation().as(BatchScoringOptions.class);
  }

  private static RunInfo run() {
    return BatchScoringPipeline.runInfo(options(clean, Path.of("/unused")));
  }

  /** Every file under {@code dir} (relative path) with its sha256. */
  private static Map<Path, String> contents(Path dir) throws Exception {
    Map<Path, String> m = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path f : walk.filter(Files::isRegularFile).collect(Collectors.toList())) {
        m.put(dir.relativize(f), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
      }
    }
    return m;
  }

  /** What a reader gets: the predictions of the attempt {@code _LATEST} names, by key. */
  private static Map<String, JsonNode> served(Path root) throws Exception {
    String latest = FileSink.latestDirectory(root.toString());
    assertTrue("_LATEST names a complete attempt", Files.exists(Path.of(latest, FileSink.SUCCESS)));
    return PublishedFiles.jsonLines(latest);
  }

  /** The run's attempts other than {@code except}. */
  private static List<Path> otherAttempts(Path root, String except) throws Exception {
    try (Stream<Path> s = Files.list(Path.of(FileSink.runDirectory(root.toString(), run())))) {
      return s.filter(p -> p.getFileName().toString().startsWith(FileSink.ATTEMPT_PREFIX))
          .filter(p -> !p.toString().equals(except)).sorted().collect(Collectors.toList());
    }
  }

  /** Staged shard files ({@code attempt=*}/_staging/<dir>/part-*) under a run's directory, 0 while it changes. */
  private static long staged(Path runDir) throws Exception {
    if (!Files.isDirectory(runDir)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(runDir)) {
      return walk.filter(f -> f.getFileName().toString().startsWith("part-"))
          .filter(f -> f.getParent().getParent().getFileName().toString().equals("_staging"))
          .count();
    } catch (java.io.UncheckedIOException | java.nio.file.NoSuchFileException e) {
      return 0; // a file went away while listing (the job's temporary files): look again
    }
  }

  /** Shard files an attempt still holds, staged or placed, and whether {@code _staging} exists. */
  private static List<Path> shardsAndStaging(Path attempt) throws Exception {
    try (Stream<Path> walk = Files.walk(attempt)) {
      return walk.filter(p -> p.getFileName().toString().startsWith("part-")
              || p.getFileName().toString().equals("_staging"))
          .collect(Collectors.toList());
    }
  }

  /**
   * Waits (up to 30 s) until the failed attempt holds no shard: a shard writer still busy when the run
   * failed removes its own file once it sees {@code _ABORTED}.
   */
  private static void assertNoShardsLeft(Path attempt) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!shardsAndStaging(attempt).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(attempt + " keeps no staged or placed shard", shardsAndStaging(attempt), is(List.of()));
  }

  private static String messages(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t.getMessage()).append('\n');
    }
    return b.toString();
  }

  @Test
  public void aRerunOfTheServedRunThatTheBreakerRejectsLeavesEveryServedFileAsItWas() throws Exception {
    Path root = TMP.newFolder("rejected").toPath();
    RunSummary first = BatchScoringPipeline.run(options(clean, root));
    Path served = Path.of(first.runDirectory);
    Map<Path, String> before = contents(served);
    assertThat(before.keySet(), hasItems(Path.of(FileSink.SUCCESS), Path.of(FileSink.MANIFEST),
        Path.of(RunReport.JSON_FILE), Path.of(RunReport.HTML_FILE), Path.of(RunReport.PROMETHEUS_FILE),
        Path.of(QualityFile.NAME)));
    Map<String, JsonNode> keys = served(root);
    assertThat(keys.size(), is(ACCOUNTS));

    RuntimeException e = assertThrows(RuntimeException.class, () -> BatchScoringPipeline.run(options(shifted, root)));
    assertThat(messages(e), containsString("circuit breaker tripped for run fraud-daily-20261128"));

    assertThat(FileSink.latestDirectory(root.toString()), is(served.toString()));
    assertThat(FileSink.publishedDirectory(root.toString(), run()), is(served.toString()));
    assertThat("report, quality, metrics, manifest, shards of the served attempt", contents(served), is(before));
    assertThat(served(root), is(keys));
    assertFalse("the lock is released", Files.exists(Path.of(RunLock.path(root.toString(), run()))));

    // The rejected attempt keeps its report (why it failed) and no shard (issue 15 item 6).
    List<Path> rejected = otherAttempts(root, served.toString());
    assertThat(rejected.size(), is(1));
    assertThat(JSON.readTree(rejected.get(0).resolve(RunReport.JSON_FILE).toFile()).path("status").asText(), is("tripped"));
    assertTrue(Files.exists(rejected.get(0).resolve(QualityFile.NAME)));
    assertNoShardsLeft(rejected.get(0));
    assertFalse(Files.exists(rejected.get(0).resolve(FileSink.SUCCESS)));
  }

  @Test
  public void aRerunOfTheServedRunKilledBeforeItPublishesLeavesItServed() throws Exception {
    Path root = TMP.newFolder("killed").toPath();
    RunSummary first = BatchScoringPipeline.run(options(clean, root));
    Path served = Path.of(first.runDirectory);
    Map<Path, String> before = contents(served);
    Map<String, JsonNode> keys = served(root);

    // A re-run on other data in a JVM of its own, killed (SIGKILL: no finally, no shutdown hook) as soon
    // as its first shard is staged; with 500 shards, staging the rest takes far longer than noticing it.
    List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), BatchScoringPipeline.class.getName()));
    cmd.addAll(args(fewer, root, "--numShards=500"));
    Path log = TMP.getRoot().toPath().resolve("killed.log");
    Process job = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path runDir = Path.of(FileSink.runDirectory(root.toString(), run()));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (staged(runDir) == 0) {
      if (!job.isAlive()) {
        fail("the re-run ended before it staged a shard: " + Files.readString(log));
      }
      if (System.nanoTime() > deadline) {
        job.destroyForcibly();
        fail("the re-run staged no shard in 5 minutes: " + Files.readString(log));
      }
      Thread.sleep(10);
    }
    job.destroyForcibly();
    assertTrue(job.waitFor(60, TimeUnit.SECONDS));
    List<Path> killed = otherAttempts(root, served.toString());
    assertThat(killed.size(), is(1));
    assertFalse("killed before it published", Files.exists(killed.get(0).resolve(FileSink.SUCCESS)));
    assertThat("the killed attempt had staged shards", shardsAndStaging(killed.get(0)), not(is(List.of())));

    assertThat(FileSink.latestDirectory(root.toString()), is(served.toString()));
    assertThat(FileSink.publishedDirectory(root.toString(), run()), is(served.toString()));
    assertThat(contents(served), is(before));
    assertThat(served(root), is(keys));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = CheckStaleness.check(root.toString(), Duration.ofHours(36),
        Clock.offset(Clock.systemUTC(), Duration.ofHours(1)), null,
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(err.toString(StandardCharsets.UTF_8), status, is(CheckStaleness.FRESH));
    assertThat(out.toString(StandardCharsets.UTF_8), containsString("FRESH: fraud-daily-20261128"));

    // The killed JVM left its lock; the next run takes it over (its pid is dead), removes the killed
    // attempt's staged shards, and publishes; the attempt it replaces stays for readers still on it.
    Path lock = Path.of(RunLock.path(root.toString(), run()));
    assertTrue("the killed run's lock is left behind", Files.exists(lock));
    RunSummary next = BatchScoringPipeline.run(options(fewer, root));
    assertThat(FileSink.latestDirectory(root.toString()), is(next.runDirectory));
    assertThat(served(root).size(), is(300));
    assertFalse(Files.exists(lock));
    assertThat(shardsAndStaging(killed.get(0)), is(List.of()));
    assertTrue(Files.exists(served.resolve(FileSink.SUCCESS)));
  }

  @Test
  public void aSecondConcurrentRunOfTheSameRunIdFailsAtOnceAndTheFirstPublishesAlone() throws Exception {
    Path root = TMP.newFolder("concurrent").toPath();
    Path marker = TMP.getRoot().toPath().resolve("upstream/_SUCCESS");
    Path lock = Path.of(RunLock.path(root.toString(), run()));
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      // The first run takes the lock, then waits for its upstream marker: it holds the lock meanwhile.
      Future<RunSummary> firstRun = pool.submit(() -> BatchScoringPipeline.run(
          options(clean, root, "--waitForMarker=" + marker, "--markerPoll=50ms", "--markerTimeout=5m")));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (!Files.exists(lock)) {
        if (firstRun.isDone()) {
          firstRun.get();
          fail("the first run ended before taking its lock");
        }
        assertTrue("the first run did not take its lock in 2 minutes", System.nanoTime() < deadline);
        Thread.sleep(20);
      }

      RunLock.Held held = assertThrows(RunLock.Held.class, () -> BatchScoringPipeline.run(options(fewer, root)));
      assertThat(held.getMessage(), containsString("run fraud-daily-20261128 is already running (pid "
          + ProcessHandle.current().pid() + " on host "));
      assertThat(held.getMessage(), containsString("its lock " + lock + " exists"));
      assertThat(held.getMessage(), containsString("if it is dead (killed, its machine gone), delete " + lock));

      Files.createDirectories(marker.getParent());
      Files.writeString(marker, "");
      RunSummary winner = firstRun.get(5, TimeUnit.MINUTES);
      assertThat(FileSink.latestDirectory(root.toString()), is(winner.runDirectory));
      assertThat("the winner's data, complete", served(root).size(), is(ACCOUNTS));
      assertThat("the second run wrote nothing", otherAttempts(root, winner.runDirectory), is(List.of()));
      assertFalse(Files.exists(lock));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  public void aRunThatFailsAfterStagingLeavesNoShardsOnlyItsReport() throws Exception {
    Path root = TMP.newFolder("failed").toPath();
    String attempt = "fails-to-publish";
    // A directory where the attempt's manifest goes: the publish fails after every shard was staged and moved.
    Files.createDirectories(Path.of(FileSink.attemptDirectory(root.toString(), run(), attempt), FileSink.MANIFEST));
    RuntimeException e = assertThrows(RuntimeException.class,
        () -> BatchScoringPipeline.run(options(clean, root), attempt));
    assertThat(messages(e), containsString(FileSink.MANIFEST));

    assertFalse("nothing published", Files.exists(root.resolve(FileSink.LATEST)));
    List<Path> failed = otherAttempts(root, "");
    assertThat(failed, is(List.of(Path.of(FileSink.attemptDirectory(root.toString(), run(), attempt)))));
    assertNoShardsLeft(failed.get(0));
    assertThat(JSON.readTree(failed.get(0).resolve(RunReport.JSON_FILE).toFile()).path("status").asText(), is("failed"));
    assertTrue(Files.exists(failed.get(0).resolve(FileSink.ABORTED)));
    assertFalse(Files.exists(Path.of(RunLock.path(root.toString(), run()))));
  }
}
