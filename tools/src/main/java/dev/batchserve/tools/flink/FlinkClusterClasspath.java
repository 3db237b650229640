package dev.batchserve.tools.flink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The jars of a Flink session cluster, copied from the local Maven repository into a lib folder with
 * {@code mvn -f flink/pom.xml dependency:copy-dependencies} (that pom lists flink-runtime,
 * flink-clients, flink-streaming-java, flink-java, flink-rpc-akka-loader and a log4j2 binding).
 *
 * <pre>{@code
 * Path lib = FlinkClusterClasspath.copy(Path.of("flink/pom.xml"), Path.of("work/flink/lib"));
 * }</pre>
 *
 * <p>A lib folder that was copied completely is reused as is. Maven runs offline when the system
 * property {@code batchserve.mavenOffline} is {@code true} or {@code batchserve.maven} is
 * {@code offline=true} (what the build passes to tests under {@code mvn -o}), and reads the local
 * repository named by {@code maven.repo.local} when that property is set, so a build with its own
 * repository ({@code mvn -Dmaven.repo.local=...}) copies from there too.
 *
 * <p>{@link #filesToStage} says what a job submitted to such a cluster stages.
 */
public final class FlinkClusterClasspath {
  private static final String DONE_MARKER = ".copied";
  /** On the cluster's class path already (flink/pom.xml): not staged with every job. */
  private static final String TF_NATIVES = "tensorflow-core-native-";
  private static final String TF_NATIVES_CLASSIFIER = "-linux-x86_64.jar";

  private FlinkClusterClasspath() {}

  /** Copies the cluster's jars into {@code libDir} unless a previous copy completed; returns it. */
  public static Path copy(Path clusterPom, Path libDir) throws IOException, InterruptedException {
    checkArgument(Files.isRegularFile(clusterPom), "cluster pom %s does not exist", clusterPom);
    Path lib = libDir.toAbsolutePath();
    Path marker = lib.resolve(DONE_MARKER);
    if (Files.exists(marker) && Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(clusterPom)) >= 0) {
      return lib;
    }
    LocalFlinkCluster.deleteRecursively(lib);
    Files.createDirectories(lib);
    List<String> cmd = new ArrayList<>(List.of(mvn(), "-B", "-q"));
    if (Boolean.getBoolean("batchserve.mavenOffline")
        || "offline=true".equals(System.getProperty("batchserve.maven"))) {
      cmd.add("-o");
    }
    String repo = System.getProperty("maven.repo.local");
    if (repo != null && !repo.isBlank()) {
      cmd.add("-Dmaven.repo.local=" + repo);
    }
    cmd.addAll(List.of("-f", clusterPom.toAbsolutePath().toString(), "dependency:copy-dependencies",
        "-DoutputDirectory=" + lib));
    Path log = lib.resolveSibling(lib.getFileName() + "-copy.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("copying the Flink cluster jars failed (" + String.join(" ", cmd) + "): "
          + Files.readString(log, StandardCharsets.UTF_8));
    }
    Files.writeString(marker, String.join(" ", cmd) + "\n", StandardCharsets.UTF_8);
    return lib;
  }

  /**
   * What a job submitted from {@code classpath} stages on the cluster ({@code --filesToStage}): the
   * class path without Flink's own jars and without the 160 MB of TensorFlow natives (the cluster's
   * lib has both, see flink/pom.xml) nor surefire's jars; Beam zips class folders itself.
   */
  public static String filesToStage(List<String> classpath) {
    return classpath.stream()
        .filter(e -> !e.isEmpty())
        .filter(e -> !e.contains(File.separator + "org" + File.separator + "apache" + File.separator + "flink" + File.separator))
        .filter(e -> !isTfNatives(e))
        .filter(e -> !e.contains("surefire"))
        .collect(Collectors.joining(","));
  }

  /** {@link #filesToStage(List)} of this JVM's class path ({@code java.class.path}). */
  public static String filesToStage() {
    return filesToStage(Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator)));
  }

  private static boolean isTfNatives(String entry) {
    String name = Path.of(entry).getFileName().toString();
    return name.startsWith(TF_NATIVES) && name.endsWith(TF_NATIVES_CLASSIFIER);
  }

  /** Maven from {@code maven.home} (set by the build for tests), else {@code mvn} on the PATH. */
  private static String mvn() {
    String home = System.getProperty("maven.home");
    if (home != null && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
      return Path.of(home, "bin", "mvn").toString();
    }
    return "mvn";
  }
}
