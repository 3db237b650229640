package dev.batchserve.pipelines.runners;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code make flink-up} / {@code make flink-down} / {@code make flink-status}: starts a
 * {@link LocalFlinkCluster} that outlives this process, stops it, or shows its state.
 *
 * <pre>
 * FlinkClusterCli up   [--dir=work/flink] [--pom=flink/pom.xml] [--taskManagers=1] [--restarts=10]
 * FlinkClusterCli down [--dir=work/flink]
 * FlinkClusterCli status [--dir=work/flink]
 * </pre>
 */
public final class FlinkClusterCli {
  private FlinkClusterCli() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage();
    }
    Map<String, String> opts = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || !a.contains("=")) {
        usage();
      }
      opts.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
    }
    Path dir = Path.of(opts.getOrDefault("dir", "work/flink")).toAbsolutePath();
    switch (args[0]) {
      case "up": {
        Path lib = FlinkClusterClasspath.copy(Path.of(opts.getOrDefault("pom", "flink/pom.xml")), dir.resolve("lib"));
        LocalFlinkCluster cluster = LocalFlinkCluster.in(dir).withLibDir(lib)
            .withTaskManagers(Integer.parseInt(opts.getOrDefault("taskManagers", "1")))
            .withRestarts(Integer.parseInt(opts.getOrDefault("restarts", "10")), Duration.ofSeconds(2))
            .withHeartbeat(Duration.ofSeconds(1), Duration.ofSeconds(5))
            .withStopOnExit(false)
            .start();
        // The daemons keep running after this JVM exits; `down` stops them from the state file.
        System.out.println("Flink session cluster up: REST http://" + cluster.restAddress()
            + " (JobManager pid " + cluster.jobManagerPid() + ", TaskManager pids " + cluster.taskManagerPids() + ")");
        System.out.println("  logs   " + cluster.logDir());
        System.out.println("  submit make run-flink FLINK_MASTER=" + cluster.restAddress());
        System.out.println("  stop   make flink-down");
        break;
      }
      case "down":
        System.out.println(LocalFlinkCluster.stop(dir)
            ? "Flink session cluster in " + dir + " stopped (logs kept in " + dir.resolve("log") + ")"
            : "no Flink session cluster state in " + dir);
        break;
      case "status":
        System.out.println(LocalFlinkCluster.readState(dir)
            .map(s -> s.toPrettyString() + (LocalFlinkCluster.anyAlive(s) ? "\nrunning" : "\nnot running"))
            .orElse("no Flink session cluster state in " + dir));
        break;
      default:
        usage();
    }
  }

  private static void usage() {
    System.err.println("usage: FlinkClusterCli up|down|status [--dir=work/flink] [--pom=flink/pom.xml]"
        + " [--taskManagers=1] [--restarts=10]");
    System.exit(2);
  }
}
