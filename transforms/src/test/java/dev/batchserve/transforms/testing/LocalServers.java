package dev.batchserve.transforms.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Small process and file chores shared by the real-server rules of this package and of the store
 * connectors' test-jars ({@code dev.batchserve.transforms.aws.testing}).
 */
public final class LocalServers {
  private LocalServers() {}

  /** A port that was free a moment ago on the loopback interface. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  /** Waits until something accepts TCP connections on the port, or the process dies, or 60 s pass. */
  public static void awaitPort(Process process, int port, Path log) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("server exited with " + process.exitValue() + ":\n" + tail(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    process.destroyForcibly();
    throw new IOException("server did not listen on port " + port + " within 60 s:\n" + tail(log));
  }

  /** Runs a command to completion, failing with its output if it exits non-zero. */
  static void run(List<String> command, Path log) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IOException(String.join(" ", command) + " exited with " + rc + ":\n" + tail(log));
    }
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Prefixes a command so that it runs as {@code nobody} when this JVM runs as root. */
  static List<String> asServerUser(List<String> command) {
    if (!isRoot()) {
      return command;
    }
    List<String> c = new ArrayList<>(List.of("runuser", "-u", "nobody", "--"));
    c.addAll(command);
    return c;
  }

  /** A fresh directory that the server user can read, write and enter. */
  static Path serverDirectory(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (isRoot()) {
      Files.setOwner(dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
    }
    return dir;
  }

  static void copy(InputStream in, Path to) throws IOException {
    try (in) {
      Files.copy(in, to);
    }
  }

  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temp directory left behind is harmless; the test result is what matters.
    }
  }

  public static void stop(Process p) throws InterruptedException {
    if (p == null) {
      return;
    }
    p.destroy();
    if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
  }

  public static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
