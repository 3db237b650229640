package dev.batchserve.models.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** ModelCli (the benchmarks: BenchCommandLineTest): {@code --help} exits 0 naming the options; an unknown option is a usage error. */
@RunWith(JUnit4.class)
public class ToolsTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int modelCli(String... args) {
    return ModelCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void modelCliAnswersHelpForItselfAndEachSubcommand() {
    for (String help : List.of("--help", "-h")) {
      assertThat(modelCli(help), is(0));
      assertThat(out(), containsString("inspect"));
      assertThat(out(), containsString("verify"));
      assertThat(modelCli("verify", help), is(0));
      assertThat(out(), containsString("<model-dir-or-uri>"));
    }
    assertThat(err(), is(""));
  }

  @Test
  public void modelCliRefusesAnUnknownOption() {
    assertThat(modelCli("verify", "--noSuchOption", "dir"), is(ModelCli.USAGE));
    assertThat(err(), containsString("--noSuchOption"));
    assertThat(out(), is(""));
  }
}
