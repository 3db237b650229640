package dev.batchserve.models.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * A verb of {@code bin/batchserve} that lives outside the launcher's own module: the launcher
 * ({@code dev.batchserve.pipelines.cli.Launcher}) finds every implementation on the class path with
 * {@link java.util.ServiceLoader}, lists it in {@code batchserve --help} and runs it when its
 * {@link #name()} is the first argument. This keeps development tools (sample generator, demo
 * training, the local Flink cluster, in batchserve-tools) out of the production artifacts while
 * the launcher still offers them when they are on the class path.
 *
 * <p>An implementation has a public no-argument constructor and is listed in
 * {@code META-INF/services/dev.batchserve.models.cli.LauncherVerb}. Its exit code follows
 * {@link Tools#execute}: 0 on success, a usage error non-zero (the launcher maps it to its
 * bad-input code); an exception propagates, and the launcher classifies it like any verb's failure.
 *
 * <pre>{@code
 * public final class SampleVerb implements LauncherVerb {
 *   public String name() { return "sample"; }
 *   public List<String> summary() { return List.of("sample [--out=DIR]   write the fraud sample"); }
 *   public int run(String[] args, PrintStream out, PrintStream err) {
 *     return Tools.execute(GenerateFraudSample.class, args, out, err);
 *   }
 * }
 * }</pre>
 */
public interface LauncherVerb {
  /** The verb as typed after {@code batchserve}: {@code sample}. */
  String name();

  /**
   * The verb's lines in {@code batchserve --help}; the launcher prints each after two spaces. The
   * first starts with the verb and its arguments; further lines continue it with their own indent.
   */
  List<String> summary();

  /** Runs the verb on the arguments after its name; returns its exit code (0 on success). */
  int run(String[] args, PrintStream out, PrintStream err);
}
