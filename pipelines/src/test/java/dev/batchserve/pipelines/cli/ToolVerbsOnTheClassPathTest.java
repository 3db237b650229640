package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The development tools, the training and exporting code and the demo jobs stay out of
 * batchserve-pipelines: its compiled main classes (what its jar and bundled jar hold) contain none of
 * them and refer to none of batchserve-tools, batchserve-training or batchserve-examples, and the launcher reaches them only as
 * {@link dev.batchserve.models.cli.LauncherVerb}s: listed when found, and named with the module to
 * add when not.
 */
public class ToolVerbsOnTheClassPathTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  /**
   * Class files (and the cluster's log settings), relative to pipelines' main classes directory, that
   * now live in batchserve-tools, batchserve-training or batchserve-examples.
   */
  private static final List<String> MOVED = List.of(
      "dev/batchserve/pipelines/runners/LocalFlinkCluster.class",
      "dev/batchserve/pipelines/runners/FlinkClusterClasspath.class",
      "dev/batchserve/pipelines/runners/FlinkClusterCli.class",
      "dev/batchserve/pipelines/fraud/FraudSample.class",
      "dev/batchserve/pipelines/fraud/GenerateFraudSample.class",
      "dev/batchserve/pipelines/fraud/TrainFraudModel.class",
      "dev/batchserve/pipelines/TrainingSet.class",
      "dev/batchserve/pipelines/cli/OwnModelTools$Train.class",
      "dev/batchserve/pipelines/runners/log4j-cluster.properties",
      "dev/batchserve/pipelines/churn/ChurnSample.class",
      "dev/batchserve/pipelines/churn/TrainChurnModel.class",
      "dev/batchserve/pipelines/churn/ChurnPipeline.class",
      "dev/batchserve/pipelines/recommend/RecommendSample.class",
      "dev/batchserve/pipelines/recommend/TopKExporter.class",
      "dev/batchserve/pipelines/recommend/RecommendPipeline.class",
      "dev/batchserve/pipelines/fraud/ScoreFraudTransactions.class",
      "dev/batchserve/pipelines/fraud/FraudTransactions.class");

  /** What no main class of pipelines may refer to: batchserve-tools, -training (trainer, exporters) and -examples. */
  private static final List<String> OUT_OF_PRODUCTION = List.of(
      "dev/batchserve/tools/", "dev/batchserve/models/training/", "dev/batchserve/examples/");

  private static Path mainClasses() throws URISyntaxException {
    return Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  @Test
  public void pipelinesMainClassesHoldNoTool() throws Exception {
    Path classes = mainClasses();
    assertThat(classes.toString(), Files.isDirectory(classes.resolve("dev/batchserve/pipelines/cli")), is(true));
    for (String moved : MOVED) {
      assertThat(moved, Files.exists(classes.resolve(moved)), is(false));
    }
    assertThat(Files.exists(classes.resolve("dev/batchserve/tools")), is(false));
    assertThat(Files.exists(classes.resolve("dev/batchserve/examples")), is(false));
    assertThat(Files.exists(classes.resolve("dev/batchserve/models/training")), is(false));
    assertThat(Files.exists(classes.resolve("META-INF/services/dev.batchserve.models.cli.LauncherVerb")), is(false));
    // No main class refers to them (the constant pool names every class a class uses).
    try (Stream<Path> files = Files.walk(classes)) {
      List<Path> referring = files.filter(f -> f.toString().endsWith(".class"))
          .filter(ToolVerbsOnTheClassPathTest::refersToTools).collect(Collectors.toList());
      assertThat(referring.toString(), referring, empty());
    }
  }

  private static boolean refersToTools(Path classFile) {
    try {
      String constants = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
      return OUT_OF_PRODUCTION.stream().anyMatch(constants::contains);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  public void helpListsTheToolVerbsFoundOnTheClassPath() {
    String help = Launcher.usage(Launcher.foundVerbs());
    for (String verb : List.of("sample", "train", "flink")) {
      assertThat(help, containsString("  " + verb + " "));
    }
    assertThat(help, not(containsString("(in batchserve-tools, not on the class path")));
  }

  @Test
  public void aToolVerbWithoutBatchserveToolsSaysWhereItIsAndExits10() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path log = tmp.getRoot().toPath().resolve("launcher.log");
    for (String verb : List.of("sample", "train", "flink")) {
      bytes.reset();
      assertThat(verb, Launcher.run(new String[] {verb, "--help"}, log, out, out, Map.of()),
          is(Failure.INPUT_OR_CONFIG.code));
      assertThat(bytes.toString(StandardCharsets.UTF_8), containsString("verb '" + verb + "' is in batchserve-tools"));
      assertThat(bytes.toString(StandardCharsets.UTF_8), containsString("make build"));
    }
    bytes.reset();
    assertThat(Launcher.run(new String[] {"--help"}, log, out, out, Map.of()), is(0));
    assertThat(bytes.toString(StandardCharsets.UTF_8),
        containsString("flink, sample, train   (in batchserve-tools, not on the class path: make build)"));
    bytes.reset();
    assertThat(Launcher.run(new String[] {"no-such-verb"}, log, out, out, Map.of()), is(Failure.INPUT_OR_CONFIG.code));
    assertThat(bytes.toString(StandardCharsets.UTF_8), containsString("unknown verb 'no-such-verb'"));
  }
}
