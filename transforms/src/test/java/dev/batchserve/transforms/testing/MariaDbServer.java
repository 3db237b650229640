package dev.batchserve.transforms.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.rules.ExternalResource;

/**
 * A real MariaDB server (Debian's {@code mariadb-server} package: {@code mariadb-install-db} and
 * {@code mariadbd}) on a free loopback port, with its own data directory, started before the tests
 * and stopped after them. It speaks the MySQL protocol: tests connect with MySQL's driver
 * ({@code com.mysql:mysql-connector-j}) and {@code jdbc:mysql:} URLs, as a job on MySQL or Aurora
 * MySQL does. {@code .ci/run} installs the package ({@code .ci/install-mariadb.sh}).
 *
 * <p>As root the server runs with {@code --user=root} (mariadbd otherwise refuses root); user
 * {@code root} logs in over TCP without a password; the database {@code batchserve} is created.
 *
 * <pre>{@code
 * @ClassRule public static final MariaDbServer DB = new MariaDbServer();
 * try (Connection c = DB.connect()) { ... }   // DB.jdbcUrl(): jdbc:mysql://127.0.0.1:<port>/batchserve
 * }</pre>
 */
public final class MariaDbServer extends ExternalResource {
  private static final List<Path> SERVER = List.of(Paths.get("/usr/sbin/mariadbd"), Paths.get("/usr/sbin/mysqld"));
  private static final List<Path> INSTALL_DB =
      List.of(Paths.get("/usr/bin/mariadb-install-db"), Paths.get("/usr/bin/mysql_install_db"));

  private Path dir;
  private Path log;
  private Process process;
  private int port;

  @Override
  protected void before() throws Throwable {
    Path server = find(SERVER);
    Path installDb = find(INSTALL_DB);
    dir = Files.createTempDirectory("batchserve-mariadb-");
    log = dir.resolve("server.log");
    Path data = dir.resolve("data");
    String user = System.getProperty("user.name");
    LocalServers.run(List.of(installDb.toString(), "--no-defaults", "--datadir=" + data, "--user=" + user,
        "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"), log);
    port = LocalServers.freePort();
    List<String> cmd = new ArrayList<>(List.of(server.toString(), "--no-defaults", "--datadir=" + data,
        "--socket=" + dir.resolve("mysqld.sock"), "--pid-file=" + dir.resolve("mysqld.pid"),
        "--port=" + port, "--bind-address=127.0.0.1", "--user=" + user, "--skip-name-resolve",
        "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0",
        "--character-set-server=utf8mb4", "--default-time-zone=+00:00", "--max-connections=100"));
    process = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LocalServers.awaitPort(process, port, log);
    awaitReady();
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

  public String user() {
    return "root";
  }

  public String database() {
    return "batchserve";
  }

  /** {@code jdbc:mysql://127.0.0.1:<port>/batchserve}. */
  public String jdbcUrl() {
    return "jdbc:mysql://" + host() + ":" + port + "/" + database();
  }

  /** A new connection as {@link #user()} to {@link #database()}; the caller closes it. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), user(), "");
  }

  /** Drops and recreates {@link #database()}: every table and view of earlier tests goes. */
  public void reset() throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:mysql://" + host() + ":" + port + "/", user(), "");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database());
      s.execute("CREATE DATABASE " + database() + " CHARACTER SET utf8mb4");
    }
  }

  private void awaitReady() throws IOException, InterruptedException {
    SQLException last = null;
    for (int i = 0; i < 600; i++) {
      try {
        reset();
        return;
      } catch (SQLException e) {
        last = e;
        Thread.sleep(50);
      }
    }
    throw new IOException("mariadbd did not accept connections on port " + port + ":\n" + LocalServers.tail(log), last);
  }

  private static Path find(List<Path> candidates) throws IOException {
    for (Path p : candidates) {
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IOException("no MariaDB: none of " + candidates + " exists; install Debian's mariadb-server"
        + " (apt-get install -y mariadb-server; .ci/install-mariadb.sh does)");
  }
}
