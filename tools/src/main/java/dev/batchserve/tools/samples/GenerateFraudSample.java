package dev.batchserve.tools.samples;

import dev.batchserve.models.cli.Tools;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Writes the fraud scoring sample as {@code accounts.csv} and {@code accounts.parquet};
 * {@code --help} lists the options ({@link Tools}).
 *
 * <pre>
 * java ... GenerateFraudSample --out=work/sample/fraud [--accounts=2000] [--seed=42]
 * </pre>
 */
@Command(name = "batchserve sample", sortOptions = false,
    description = "Writes the fraud scoring sample as accounts.csv and accounts.parquet.")
public final class GenerateFraudSample implements Callable<Integer> {
  @Option(names = "--out", defaultValue = "work/sample/fraud", paramLabel = "DIR",
      description = "The directory to write into (default: ${DEFAULT-VALUE}).")
  private Path out;

  @Option(names = "--accounts", defaultValue = "2000", description = "Accounts to generate (default: ${DEFAULT-VALUE}).")
  private int accounts;

  @Option(names = "--seed", defaultValue = "42", description = "The random seed (default: ${DEFAULT-VALUE}).")
  private long seed;

  @Spec private CommandSpec spec;

  private GenerateFraudSample() {}

  public static void main(String[] args) {
    Tools.exitOnFailure(GenerateFraudSample.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(GenerateFraudSample.class, args, out, err);
  }

  @Override
  public Integer call() {
    List<Map<String, Object>> rows = FraudSample.generate(accounts, seed);
    FraudSample.writeCsv(rows, out.resolve("accounts.csv"));
    FraudSample.writeParquet(rows, out.resolve("accounts.parquet"));
    spec.commandLine().getOut().printf("Wrote %d sample accounts (seed %d) to %s/accounts.{csv,parquet}%n",
        accounts, seed, out);
    return 0;
  }
}
