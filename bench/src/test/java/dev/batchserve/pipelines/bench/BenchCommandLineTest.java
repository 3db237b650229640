package dev.batchserve.pipelines.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import dev.batchserve.models.bench.RawEngineBenchmark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Every benchmark answers {@code --help} (and {@code -h}) with exit 0 and a usage naming its
 * options, and refuses an unknown option (its own or, where it passes options on to the pipeline,
 * Beam's) with exit 2 naming it, before generating any data.
 */
@RunWith(JUnit4.class)
public class BenchCommandLineTest {
  /** One benchmark's entry point that returns the exit code. */
  interface Tool {
    int run(String[] args, PrintStream out, PrintStream err);
  }

  /** A benchmark, its options, its usage-error code and the arguments it requires. */
  private static final class Case {
    final String name;
    final Tool tool;
    final List<String> options;
    final int usageCode;
    final List<String> required;

    Case(String name, Tool tool, List<String> options, int usageCode, String... required) {
      this.name = name;
      this.tool = tool;
      this.options = options;
      this.usageCode = usageCode;
      this.required = List.of(required);
    }
  }

  private static final List<Case> TOOLS = List.of(
      new Case("RawEngineBenchmark", RawEngineBenchmark::run,
          List.of("--out", "--batch-sizes", "--records", "--warmup-records", "--threads", "--work-dir"), 2,
          "--out=x.json"),
      new Case("PipelineBenchmark", PipelineBenchmark::run,
          List.of("--out", "--workDir", "--records", "--batchSizes"), 2),
      new Case("AdaptiveBatchBenchmark", AdaptiveBatchBenchmark::run,
          List.of("--out", "--workDir", "--records", "--fixedSizes", "--adaptive"), 2),
      new Case("EndToEndBenchmark", EndToEndBenchmark::run,
          List.of("--records", "--batchSize", "--out", "--workDir"), 2),
      new Case("AnalyzeFeaturesBenchmark", AnalyzeFeaturesBenchmark::run,
          List.of("--records", "--out", "--workDir"), 2),
      new Case("RecommendBenchmark", RecommendBenchmark::run,
          List.of("--out", "--workDir", "--users", "--items", "--dim", "--k", "--batchSize"), 2),
      new Case("RunnerBenchmark", RunnerBenchmark::run,
          List.of("--records", "--batchSize", "--out", "--workDir", "--flinkDir", "--flinkPom"), 2));

  private static String[] run(Case c, List<String> args, int expected) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = c.tool.run(args.toArray(new String[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String[] printed = {out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    assertThat(c.name + " " + args + "\n" + String.join("\n---\n", printed), code, is(expected));
    return printed;
  }

  @Test
  public void everyBenchmarkAnswersHelpWithItsOptions() {
    for (Case c : TOOLS) {
      for (String help : List.of("--help", "-h")) {
        String[] p = run(c, List.of(help), 0);
        assertThat(c.name, p[0], containsString("Usage: "));
        for (String option : c.options) {
          assertThat(c.name + " names " + option, p[0], containsString(option));
        }
        assertThat(c.name, p[1], is(""));
      }
    }
  }

  @Test
  public void everyBenchmarkRefusesAnUnknownOptionNamingIt() {
    for (Case c : TOOLS) {
      List<String> args = new java.util.ArrayList<>(c.required);
      args.add("--noSuchOption=1");
      String[] p = run(c, args, c.usageCode);
      assertThat(c.name, p[1], containsString("noSuchOption"));
      assertThat(c.name, p[0], is(""));
    }
  }

  @Test
  public void aBadValueOfRawEngineBenchmarkIsAUsageErrorNamingIt() {
    Case raw = TOOLS.get(0);
    assertThat(run(raw, List.of("--records", "0"), 2)[1], containsString("--out")); // --out is required
    assertThat(run(raw, List.of("--out=x.json", "--records", "0"), 2)[1],
        containsString("records must be > 0, but was 0"));
  }
}
