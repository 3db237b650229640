package dev.batchserve.models.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Runs a tool's picocli command: the one argument convention of every batchserve tool and
 * benchmark. Options are declared on the command ({@code @Option} with a description and default),
 * {@code --name=value} and {@code --name value} both work, {@code --help} / {@code -h} (added here
 * to the command and its subcommands) prints the usage to {@code out} and exits 0, and an unknown option or a bad value prints what is wrong and
 * the usage to {@code err} and exits with the command's {@code exitCodeOnInvalidInput} (picocli's
 * default 2). An exception the command throws is not printed here: it propagates to the caller
 * (the launcher classifies it; a plain {@code main} dies with its stack trace, as before).
 *
 * <pre>{@code
 * @Command(name = "GenerateFraudSample", description = "...")
 * final class GenerateFraudSample implements Callable<Integer> {
 *   @Option(names = "--out", description = "...", defaultValue = "work/sample/fraud") Path out;
 *   public Integer call() { ...; return 0; }
 *   public static void main(String[] args) { Tools.exitOnFailure(GenerateFraudSample.class, args); }
 * }
 * int code = Tools.execute(GenerateFraudSample.class, new String[] {"--help"}, System.out, System.err);
 * }</pre>
 */
public final class Tools {
  private Tools() {}

  /**
   * Parses {@code args} into {@code command} (an instance, or a class picocli instantiates through
   * its no-argument constructor, private ones included) and runs it; returns the exit code.
   */
  public static int execute(Object command, String[] args, PrintStream out, PrintStream err) {
    PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    Exception[] thrown = {null};
    CommandLine cl = new CommandLine(command)
        .setExpandAtFiles(false) // an argument starting with @ is a value, not a file of arguments
        .setOut(o)
        .setErr(e)
        .setExecutionExceptionHandler((ex, c, parsed) -> {
          thrown[0] = ex;
          return c.getCommandSpec().exitCodeOnExecutionException();
        });
    addHelp(cl);
    int code = cl.execute(args);
    o.flush();
    e.flush();
    if (thrown[0] instanceof RuntimeException) {
      throw (RuntimeException) thrown[0];
    }
    if (thrown[0] instanceof IOException) {
      throw new UncheckedIOException((IOException) thrown[0]);
    }
    if (thrown[0] != null) {
      throw new IllegalStateException(thrown[0].getMessage(), thrown[0]);
    }
    return code;
  }

  /** {@code -h} / {@code --help} on the command and each of its subcommands. */
  private static void addHelp(CommandLine cl) {
    if (cl.getCommandSpec().findOption("--help") == null) {
      cl.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
          .description("Show this help message and exit.").build());
    }
    cl.getSubcommands().values().forEach(Tools::addHelp);
  }

  /**
   * {@link #execute} on the standard streams, then exits the JVM with its code: the {@code main} of
   * a tool whose exit status is its answer (fresh or stale, found or not).
   */
  public static void exit(Object command, String[] args) {
    int code = execute(command, args, System.out, System.err);
    System.exit(code);
  }

  /**
   * {@link #execute} on the standard streams; exits the JVM only when the code is not 0 (help is 0).
   * The {@code main} of a tool that runs to completion (a benchmark, a generator): on success it
   * returns like any {@code main} that ends, so that a caller in the same JVM (a test) goes on.
   */
  public static void exitOnFailure(Object command, String[] args) {
    int code = execute(command, args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }
}
