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
 * <p>For fault tests: {@link #appendOnly()} persists every write before it is acknowledged (AOF,
 * {@code appendfsync always}), so that {@link #kill()} (SIGKILL) then {@link #restart()} loses
 * nothing Redis confirmed; {@link #tls()} listens with TLS only, with a self-signed certificate
 * made by {@code openssl} (absent: the tests using the rule are skipped, as failed assumptions).
 *
 * <pre>{@code
 * @ClassRule public static final RedisServer REDIS = new RedisServer();
 * try (Jedis j = REDIS.client()) { j.set("a", "1"); }
 * }</pre>
 */
public final class RedisServer extends ExternalResource {
  private static final String BUNDLED = "redis-server-6.2.6-v5-linux-amd64";
  /** The password of {@link #trustStore()}. */
  public static final String TRUST_STORE_PASSWORD = "changeit";

  private final boolean appendOnly;
  private final boolean tls;
  private Path dir;
  private Path binary;
  private Process process;
  private int port;

  public RedisServer() {
    this(false, false);
  }

  private RedisServer(boolean appendOnly, boolean tls) {
    this.appendOnly = appendOnly;
    this.tls = tls;
  }

  /** A server that persists every acknowledged write (AOF, fsync always), so a restart keeps it. */
  public static RedisServer appendOnly() {
    return new RedisServer(true, false);
  }

  /** A server that accepts TLS connections only, with a self-signed certificate for 127.0.0.1. */
  public static RedisServer tls() {
    return new RedisServer(false, true);
  }

  /** Public (not only for JUnit) so that a main program, e.g. the store benchmark, can start one. */
  @Override
  public void before() throws Throwable {
    dir = Files.createTempDirectory("batchserve-redis-");
    binary = binary(dir);
    port = LocalServers.freePort();
    if (tls) {
      makeCertificate();
    }
    start();
  }

  private void start() throws IOException, InterruptedException {
    Path log = dir.resolve("redis.log");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--bind", "127.0.0.1", "--save", "",
        "--dir", dir.toString(), "--protected-mode", "yes"));
    if (appendOnly) {
      cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
    } else {
      cmd.addAll(List.of("--appendonly", "no"));
    }
    if (tls) {
      cmd.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port),
          "--tls-cert-file", dir.resolve("cert.pem").toString(), "--tls-key-file", dir.resolve("key.pem").toString(),
          "--tls-auth-clients", "no"));
    } else {
      cmd.addAll(List.of("--port", Integer.toString(port)));
    }
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LocalServers.awaitPort(process, port, log);
    if (!tls) {
      awaitLoaded(log);
    }
  }

  /** Redis accepts connections while it replays its AOF, answering LOADING; wait until it is done. */
  private void awaitLoaded(Path log) throws IOException, InterruptedException {
    RuntimeException last = null;
    for (int i = 0; i < 600; i++) { // bounded: 30 s
      try (Jedis j = client()) {
        j.ping();
        return;
      } catch (redis.clients.jedis.exceptions.JedisDataException e) {
        if (!String.valueOf(e.getMessage()).startsWith("LOADING")) {
          return; // it answers (e.g. NOAUTH): loaded
        }
        last = e;
      } catch (redis.clients.jedis.exceptions.JedisConnectionException e) {
        last = e;
      }
      Thread.sleep(50);
    }
    throw new IOException("redis did not answer PING:\n" + LocalServers.tail(log), last);
  }

  /** SIGKILLs the server: no shutdown, no final save; clients see their connections drop. */
  public void kill() throws InterruptedException {
    process.destroyForcibly(); // SIGKILL on Linux
    if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
      throw new IllegalStateException("redis-server did not die within 20 s of SIGKILL");
    }
  }

  /** Whether the server process is running. */
  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Starts the server again on the same port and directory (an append-only one reloads its data). */
  public void restart() throws IOException, InterruptedException {
    if (isAlive()) {
      throw new IllegalStateException("restart() needs a stopped server; kill() it first");
    }
    start();
  }

  /** The PKCS12 trust store (password {@link #TRUST_STORE_PASSWORD}) holding a {@link #tls()} server's certificate. */
  public Path trustStore() {
    if (!tls) {
      throw new IllegalStateException("only a tls() server has a trust store");
    }
    return dir.resolve("truststore.p12");
  }

  private void makeCertificate() throws IOException, InterruptedException {
    Path openssl = onPath("openssl");
    Path keytool = Paths.get(System.getProperty("java.home"), "bin", "keytool");
    if (openssl == null) {
      // Skips the tests that use this rule rather than failing them on a machine without openssl.
      throw new org.junit.AssumptionViolatedException("a tls() Redis needs openssl on the PATH to make its certificate");
    }
    Path log = dir.resolve("certificate.log");
    LocalServers.run(List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"), log);
    LocalServers.run(List.of(keytool.toString(), "-importcert", "-noprompt", "-alias", "redis",
        "-file", dir.resolve("cert.pem").toString(), "-keystore", dir.resolve("truststore.p12").toString(),
        "-storetype", "PKCS12", "-storepass", TRUST_STORE_PASSWORD), log);
  }

  private static Path onPath(String name) {
    for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path candidate = Paths.get(p, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  @Override
  public void after() {
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

  /** A new client (plain, or TLS trusting the server's certificate); the caller closes it. */
  public Jedis client() {
    if (!tls) {
      return new Jedis(host(), port);
    }
    return new Jedis(new redis.clients.jedis.HostAndPort(host(), port),
        redis.clients.jedis.DefaultJedisClientConfig.builder().ssl(true).sslSocketFactory(trusting().getSocketFactory())
            .build());
  }

  /** An SSL context that trusts exactly this {@link #tls()} server's certificate. */
  public javax.net.ssl.SSLContext trusting() {
    try (InputStream in = Files.newInputStream(trustStore())) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(in, TRUST_STORE_PASSWORD.toCharArray());
      javax.net.ssl.TrustManagerFactory tmf =
          javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | java.security.GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the trust store " + trustStore(), e);
    }
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
    Path onPath = onPath("redis-server");
    if (onPath != null) {
      return onPath;
    }
    throw new IOException("no redis-server: neither the embedded-redis jar's " + BUNDLED
        + " (linux-amd64 only) nor redis-server on the PATH (apt-get install -y redis-server)");
  }
}
