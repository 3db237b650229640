package dev.batchserve.tools.flink;

import dev.batchserve.models.cli.LauncherVerb;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code batchserve flink up|down|status}: a local Flink session cluster ({@link FlinkClusterCli});
 * found by the launcher through {@code META-INF/services/dev.batchserve.models.cli.LauncherVerb}.
 *
 * <pre>
 * bin/batchserve flink up --dir=work/flink --pom=flink/pom.xml --taskManagers=1
 * bin/batchserve flink down --dir=work/flink
 * </pre>
 */
public final class FlinkVerb implements LauncherVerb {
  @Override
  public String name() {
    return "flink";
  }

  @Override
  public List<String> summary() {
    return List.of("flink up|down|status --dir=DIR [--pom=flink/pom.xml] [--taskManagers=N]   a local Flink session cluster");
  }

  @Override
  public int run(String[] args, PrintStream out, PrintStream err) {
    return FlinkClusterCli.run(args, out, err);
  }
}
