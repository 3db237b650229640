package dev.batchserve.tools.flink;

import dev.batchserve.models.cli.Tools;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code make flink-up} / {@code make flink-down} / {@code make flink-status}: starts a
 * {@link LocalFlinkCluster} that outlives this process, stops it, or shows its state. Each is a
 * subcommand with its own {@code --help} ({@link Tools}); a usage error exits 2.
 *
 * <pre>
 * FlinkClusterCli up   [--dir=work/flink] [--pom=flink/pom.xml] [--taskManagers=1] [--restarts=10]
 * FlinkClusterCli down [--dir=work/flink]
 * FlinkClusterCli status [--dir=work/flink]
 * </pre>
 */
@Command(name = "batchserve flink",
    description = "A local Flink session cluster that outlives this process: start, stop or show it.",
    subcommands = {FlinkClusterCli.Up.class, FlinkClusterCli.Down.class, FlinkClusterCli.Status.class})
public final class FlinkClusterCli implements Callable<Integer> {
  @Spec private CommandSpec spec;

  private FlinkClusterCli() {}

  public static void main(String[] args) {
    Tools.exitOnFailure(FlinkClusterCli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(FlinkClusterCli.class, args, out, err);
  }

  /** No subcommand: the usage, as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return spec.exitCodeOnInvalidInput();
  }

  /** {@code --dir}, shared by every subcommand. */
  static final class Dir {
    @Option(names = "--dir", defaultValue = "work/flink", paramLabel = "DIR",
        description = "The cluster's state, logs and libraries (default: ${DEFAULT-VALUE}).")
    private Path dir;

    Path path() {
      return dir.toAbsolutePath();
    }
  }

  @Command(name = "up", sortOptions = false,
      description = "Starts a JobManager and TaskManager JVMs on 127.0.0.1 with free ports.")
  static final class Up implements Callable<Integer> {
    @Mixin private Dir dir;

    @Option(names = "--pom", defaultValue = "flink/pom.xml", paramLabel = "FILE",
        description = "The POM listing Flink's jars (default: ${DEFAULT-VALUE}).")
    private Path pom;

    @Option(names = "--taskManagers", defaultValue = "1", description = "TaskManager JVMs (default: ${DEFAULT-VALUE}).")
    private int taskManagers;

    @Option(names = "--restarts", defaultValue = "10",
        description = "Restarts of a failed job, 2 s apart (default: ${DEFAULT-VALUE}).")
    private int restarts;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Path d = dir.path();
      Path lib = FlinkClusterClasspath.copy(pom, d.resolve("lib"));
      LocalFlinkCluster cluster = LocalFlinkCluster.in(d).withLibDir(lib)
          .withTaskManagers(taskManagers)
          .withRestarts(restarts, Duration.ofSeconds(2))
          .withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(5))
          .withStopOnExit(false)
          .start();
      // The daemons keep running after this JVM exits; `down` stops them from the state file.
      PrintWriter out = spec.commandLine().getOut();
      out.println("Flink session cluster up: REST http://" + cluster.restAddress()
          + " (JobManager pid " + cluster.jobManagerPid() + ", TaskManager pids " + cluster.taskManagerPids() + ")");
      out.println("  logs   " + cluster.logDir());
      out.println("  submit make run-flink FLINK_MASTER=" + cluster.restAddress());
      out.println("  stop   make flink-down");
      return 0;
    }
  }

  @Command(name = "down", description = "Stops the cluster whose state is in --dir.")
  static final class Down implements Callable<Integer> {
    @Mixin private Dir dir;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Path d = dir.path();
      spec.commandLine().getOut().println(LocalFlinkCluster.stop(d)
          ? "Flink session cluster in " + d + " stopped (logs kept in " + d.resolve("log") + ")"
          : "no Flink session cluster state in " + d);
      return 0;
    }
  }

  @Command(name = "status",
      description = "Shows the state of the cluster in --dir and whether it runs.")
  static final class Status implements Callable<Integer> {
    @Mixin private Dir dir;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Path d = dir.path();
      spec.commandLine().getOut().println(LocalFlinkCluster.readState(d)
          .map(s -> s.toPrettyString() + (LocalFlinkCluster.anyAlive(s) ? "\nrunning" : "\nnot running"))
          .orElse("no Flink session cluster state in " + d));
      return 0;
    }
  }
}
