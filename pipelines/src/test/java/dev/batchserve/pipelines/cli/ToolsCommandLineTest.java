package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.batchserve.pipelines.config.ConfigJob;
import dev.batchserve.pipelines.monitoring.CheckStaleness;
import dev.batchserve.pipelines.templates.WriteFlexTemplate;
import dev.batchserve.tools.flink.FlinkClusterCli;
import dev.batchserve.tools.samples.GenerateFraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Every tool of the pipelines module (the benchmarks: BenchCommandLineTest) answers {@code --help} (and {@code -h}) with exit 0 and a
 * usage naming its options, and refuses an unknown option with a non-zero status naming it, before
 * doing any work; both {@code --name=value} and {@code --name value} are accepted.
 */
@RunWith(JUnit4.class)
public class ToolsCommandLineTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  /** One tool's entry point that returns the exit code. */
  interface Tool {
    int run(String[] args, PrintStream out, PrintStream err);
  }

  /**
   * A tool, the arguments before its options (a subcommand), its options, its usage-error code and
   * the arguments it requires (given with the unknown option, so that the unknown one is the error).
   */
  private static final class Case {
    final String name;
    final Tool tool;
    final List<String> prefix;
    final List<String> options;
    final int usageCode;
    final List<String> required;

    Case(String name, Tool tool, List<String> prefix, List<String> options, int usageCode, String... required) {
      this.name = name;
      this.tool = tool;
      this.prefix = prefix;
      this.options = options;
      this.usageCode = usageCode;
      this.required = List.of(required);
    }
  }

  private static final List<Case> TOOLS = List.of(
      new Case("CheckStaleness", (a, o, e) -> CheckStaleness.run(a, Clock.systemUTC(), o, e), List.of(),
          List.of("--output", "--interval", "--sla", "--alertWebhook", "--json"), CheckStaleness.USAGE, "--output=x"),
      new Case("LookupCli", LookupCli::run, List.of("lookup"),
          List.of("--redis", "--prefix", "--db", "--password-env", "--password-file", "--tls"), 2, "KEY", "--redis=h:1"),
      new Case("FlinkClusterCli up", FlinkClusterCli::run, List.of("up"),
          List.of("--dir", "--pom", "--taskManagers", "--restarts"), 2),
      new Case("FlinkClusterCli down", FlinkClusterCli::run, List.of("down"), List.of("--dir"), 2),
      new Case("FlinkClusterCli status", FlinkClusterCli::run, List.of("status"), List.of("--dir"), 2),
      new Case("ConfigJob", ConfigJob::run, List.of(), List.of("--config", "--runDate", "--runHour", "--set"), 2,
          "--config=x"),
      new Case("GenerateFraudSample", GenerateFraudSample::run, List.of(),
          List.of("--out", "--accounts", "--seed"), 2),
      new Case("TrainFraudModel", TrainFraudModel::run, List.of(),
          List.of("--modelDir", "--accounts", "--seed", "--version"), 2),
      new Case("WriteFlexTemplate", WriteFlexTemplate::run, List.of(), List.of("--out"), 2));

  private static final class Printed {
    final int code;
    final String out;
    final String err;

    Printed(int code, String out, String err) {
      this.code = code;
      this.out = out;
      this.err = err;
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private static Printed run(Case c, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = java.util.stream.Stream.concat(c.prefix.stream(), java.util.Arrays.stream(args))
        .toArray(String[]::new);
    int code = c.tool.run(all, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Printed(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  public void everyToolAnswersHelpWithItsOptions() {
    for (Case c : TOOLS) {
      for (String help : List.of("--help", "-h")) {
        Printed p = run(c, help);
        assertThat(c.name + " " + help + "\n" + p, p.code, is(0));
        assertThat(c.name + "\n" + p, p.out, containsString("Usage: "));
        for (String option : c.options) {
          assertThat(c.name + " names " + option + "\n" + p, p.out, containsString(option));
        }
        assertThat(c.name + "\n" + p, p.err, is(""));
      }
    }
  }

  @Test
  public void everyToolRefusesAnUnknownOptionNamingIt() {
    for (Case c : TOOLS) {
      List<String> args = new java.util.ArrayList<>(c.required);
      args.add("--noSuchOption=1");
      Printed p = run(c, args.toArray(new String[0]));
      assertThat(c.name + "\n" + p, p.code, is(c.usageCode));
      assertThat(c.name + "\n" + p, p.err, containsString("noSuchOption"));
      assertThat(c.name + "\n" + p, p.out, is(""));
    }
  }

  @Test
  public void bothSpellingsOfAnOptionWork() throws Exception {
    Path a = tmp.newFolder("a").toPath();
    Path b = tmp.newFolder("b").toPath();
    Case sample = TOOLS.stream().filter(c -> c.name.equals("GenerateFraudSample")).findFirst().get();
    assertThat(run(sample, "--out=" + a, "--accounts=5", "--seed", "3").code, is(0));
    assertThat(run(sample, "--out", b.toString(), "--accounts", "5", "--seed=3").code, is(0));
    assertThat(Files.readString(a.resolve("accounts.csv")), is(Files.readString(b.resolve("accounts.csv"))));
  }

  @Test
  public void aBadValueIsAUsageErrorNamingTheOption() {
    Case sample = TOOLS.stream().filter(c -> c.name.equals("GenerateFraudSample")).findFirst().get();
    Printed p = run(sample, "--accounts=many");
    assertThat(p.toString(), p.code, is(2));
    assertThat(p.toString(), p.err, containsString("--accounts"));
    assertThat(p.toString(), p.err, containsString("many"));
  }

  @Test
  public void theOwnModelVerbsNameTheirOptions() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path log = tmp.getRoot().toPath().resolve("launcher.log");
    assertThat(Launcher.run(new String[] {"train", "--input=x.csv", "--help"}, log, out, out), is(0));
    for (String option : List.of("--input", "--format", "--keyColumns", "--template", "--spec", "--label", "--modelDir",
        "--name", "--version", "--model", "--hidden", "--epochs", "--learningRate", "--batchSize", "--seed", "--export")) {
      assertThat(bytes.toString(StandardCharsets.UTF_8), containsString(option));
    }
    bytes.reset();
    assertThat(Launcher.run(new String[] {"manifest", "--help"}, log, out, out), is(0));
    for (String option : List.of("--name", "--version", "--format", "--inputFeatures", "--spec", "--inputName",
        "--outputName", "--outputSize")) {
      assertThat(bytes.toString(StandardCharsets.UTF_8), containsString(option));
    }
    bytes.reset();
    assertThat(Launcher.run(new String[] {"fit-spec", "--help"}, log, out, out), is(0));
    for (String option : List.of("--input", "--format", "--keyColumns", "--template", "--out")) {
      assertThat(bytes.toString(StandardCharsets.UTF_8), containsString(option));
    }
  }

  @Test
  public void theLauncherPassesHelpToEachVerbAndAUsageErrorIsExit10() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path log = tmp.getRoot().toPath().resolve("launcher.log");
    for (List<String> verb : List.of(List.of("sample"), List.of("train"), List.of("job"), List.of("lookup"),
        List.of("check-staleness"), List.of("model", "verify"), List.of("flink", "up"), List.of("fit-spec"),
        List.of("manifest"), List.of("train", "--input=x.csv"))) {
      bytes.reset();
      String[] args = java.util.stream.Stream.concat(verb.stream(), java.util.stream.Stream.of("--help"))
          .toArray(String[]::new);
      assertThat(verb + "\n" + bytes, Launcher.run(args, log, out, out), is(0));
      assertThat(verb + "\n" + bytes, bytes.toString(StandardCharsets.UTF_8), containsString("--help"));
      assertThat(verb + "\n" + bytes, bytes.toString(StandardCharsets.UTF_8), not(containsString("Exception")));
    }
    for (String verb : List.of("sample", "train", "job", "fit-spec", "manifest")) {
      assertThat(verb, Launcher.run(new String[] {verb, "--noSuchOption=1"}, log, out, out),
          is(Failure.INPUT_OR_CONFIG.code));
    }
  }
}
