package dev.batchserve.transforms.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.rules.ExternalResource;
import redis.clients.jedis.Jedis;

/**
 * A real Redis server on a free loopback port, started before the tests and stopped after them.
 *
 * <p>The binary comes from Maven Central: the {@code com.github.codemonstur:embedded-redis} test
 * dependency bundles {@code redis-server} builds, of which the linux-amd64 one (Redis 6.2, linked
 * against the system's libssl 3) is copied out and run; only the binary is used, not that library's
 * Java API. Where the jar has no binary for the platform, {@code redis-server} on the {@code PATH}
 * is used instead (Debian: {@code apt-get install -y redis-server}). Redis runs happily as root,
 * with persistence off and bound to 127.0.0.1 only.
 *
 * <pre>{@code
 * @ClassRule public static final RedisServer REDIS = new RedisServer();
 * try (Jedis j = REDIS.client()) { j.set("a", "1"); }
 * }</pre>
 */
public final class RedisServer extends ExternalResource {
  private static final String BUNDLED = "redis-server-6.2.6-v5-linux-amd64";

  private Path dir;
  private Process process;
  private int port;

  @Override
  protected void before() throws Throwable {
    dir = Files.createTempDirectory("batchserve-redis-");
    Path binary = binary(dir);
    port = LocalServers.freePort();
    Path log = dir.resolve("redis.log");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(),
        "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", dir.toString(), "--protected-mode", "yes"));
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    LocalServers.awaitPort(process, port, log);
  }

  @Override
  protected void after() {
    try {
      LocalServers.stop(process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      LocalServers.deleteTree(dir);
    }
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  /** A new plain client; the caller closes it. */
  public Jedis client() {
    return new Jedis(host(), port);
  }

  /** Empties every database, so each test starts from nothing. */
  public void flushAll() {
    try (Jedis j = client()) {
      j.flushAll();
    }
  }

  private static Path binary(Path dir) throws IOException {
    String os = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT);
    String arch = System.getProperty("os.arch");
    InputStream bundled = RedisServer.class.getClassLoader().getResourceAsStream(BUNDLED);
    if (bundled != null && os.contains("linux") && ("amd64".equals(arch) || "x86_64".equals(arch))) {
      Path target = dir.resolve("redis-server");
      LocalServers.copy(bundled, target);
      target.toFile().setExecutable(true);
      return target;
    }
    for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Paths.get(p, "redis-server");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IOException("no redis-server: neither the embedded-redis jar's " + BUNDLED
        + " (linux-amd64 only) nor redis-server on the PATH (apt-get install -y redis-server)");
  }
}
