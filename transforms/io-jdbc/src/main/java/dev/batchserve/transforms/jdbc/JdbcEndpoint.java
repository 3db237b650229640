package dev.batchserve.transforms.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.connect.Secret;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.util.BackOff;
import org.apache.beam.sdk.util.BackOffUtils;
import org.apache.beam.sdk.util.FluentBackoff;
import org.apache.beam.sdk.util.Sleeper;
import org.apache.commons.dbcp2.BasicDataSource;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * How to reach one database over JDBC: URL, user, and where the password comes from. The
 * password is read on the worker when the pool is first opened, and is never part of the URL, the
 * serialized pipeline, a log line or an exception message.
 *
 * <p>One pool per distinct endpoint per JVM (as JdbcIO does), shared by every DoFn instance.
 *
 * <p>Any {@code jdbc:} URL whose driver is on the class path: the drivers of {@code jdbc:postgresql:},
 * {@code jdbc:mysql:} (MySQL, Aurora MySQL, MariaDB: {@code com.mysql:mysql-connector-j}),
 * {@code jdbc:mariadb:} ({@code org.mariadb.jdbc:mariadb-java-client}) and {@code jdbc:snowflake:}
 * ({@code net.snowflake:snowflake-jdbc}) are loaded by class name, any other through
 * {@link java.sql.DriverManager}. The JDBC sink writes to the first four only ({@link JdbcSink}).
 *
 * <pre>{@code
 * JdbcEndpoint db = JdbcEndpoint.of("jdbc:postgresql://db:5432/serving")
 *     .withUser("writer").withPassword(Secret.fromEnv("PGPASSWORD"));
 * JdbcEndpoint snowflake = JdbcEndpoint.of(
 *         "jdbc:snowflake://acme-xy12345.snowflakecomputing.com/?db=SERVING&schema=PUBLIC&warehouse=SCORING")
 *     .withUser("SCORER").withPassword(Secret.fromFile("/secrets/snowflake"));
 * }</pre>
 */
public final class JdbcEndpoint implements Serializable, SerializableFunction<Void, DataSource> {
  private static final long serialVersionUID = 1L;
  private static final Map<JdbcEndpoint, BasicDataSource> POOLS = new HashMap<>();

  private final String url;
  private final @Nullable String user;
  private final Secret password;

  private JdbcEndpoint(String url, @Nullable String user, Secret password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /**
   * A JDBC URL ({@code jdbc:postgresql://host:port/db}, {@code jdbc:mysql://host:3306/db}, ...);
   * credentials go in {@link #withUser}/{@link #withPassword}.
   */
  public static JdbcEndpoint of(String url) {
    checkArgument(url != null && url.startsWith("jdbc:") && url.length() > "jdbc:".length(),
        "url must be a JDBC URL (jdbc:<database>:...), but was '%s'", url);
    // Deliberately not echoed: the URL would carry the password.
    checkArgument(!url.toLowerCase(Locale.ROOT).contains("password="),
        "url must not contain a password; use withPassword(Secret.fromEnv(...)) instead");
    return new JdbcEndpoint(url, null, Secret.none());
  }

  public JdbcEndpoint withUser(String name) {
    checkArgument(name != null && !name.isEmpty(), "user must be set, but was '%s'", name);
    return new JdbcEndpoint(url, name, password);
  }

  public JdbcEndpoint withPassword(Secret secret) {
    return new JdbcEndpoint(url, user, Objects.requireNonNull(secret, "secret"));
  }

  public String url() {
    return url;
  }

  /** The shared pool for this endpoint (the provider function JdbcIO calls on the worker). */
  @Override
  public DataSource apply(Void input) {
    synchronized (POOLS) {
      return POOLS.computeIfAbsent(this, e -> {
        BasicDataSource ds = new BasicDataSource();
        String driver = JdbcDialect.driverClass(e.url);
        if (driver != null) {
          checkDriver(driver, e.url);
          ds.setDriverClassName(driver);
        }
        ds.setUrl(e.url);
        if (e.user != null) {
          ds.setUsername(e.user);
        }
        String pw = e.password.resolve();
        if (pw != null) {
          ds.setPassword(pw);
        }
        ds.setMaxTotal(16);
        return ds;
      });
    }
  }

  private static void checkDriver(String driver, String url) {
    try {
      Class.forName(driver, false, JdbcEndpoint.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      try {
        Class.forName(driver, false, Thread.currentThread().getContextClassLoader());
      } catch (ClassNotFoundException | RuntimeException again) {
        String scheme = url.substring(0, url.indexOf(':', "jdbc:".length()) + 1);
        throw new IllegalStateException("no JDBC driver for " + scheme + " URLs on the class path: add "
            + JdbcDialect.driverArtifact(url) + " (class " + driver + ") to the job's runtime dependencies", e);
      }
    }
  }

  /** A pooled connection; the caller closes it. */
  public Connection connect() throws SQLException {
    return apply(null).getConnection();
  }

  /**
   * Whether a failure is worth another try: lost or refused connections (class 08, e.g. MySQL's
   * 08S01, and PostgreSQL's 57P01-57P03, 53300), serialization failures and deadlocks (40001, 40P01),
   * lock timeouts (55P03). Constraint
   * violations, syntax errors, missing tables and the like are not.
   */
  public static boolean isRetryable(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      return false;
    }
    return state.startsWith("08")
        || state.equals("40001") || state.equals("40P01")
        || state.equals("53300") || state.equals("55P03")
        || state.equals("57P01") || state.equals("57P02") || state.equals("57P03");
  }

  /** One unit of work on a connection. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code work} on a fresh connection, retrying retryable failures with bounded backoff. */
  public <T> T withRetries(Work<T> work) throws SQLException, IOException, InterruptedException {
    BackOff backoff = FluentBackoff.DEFAULT
        .withMaxRetries(5).withInitialBackoff(Duration.millis(200)).withMaxCumulativeBackoff(Duration.standardMinutes(1))
        .backoff();
    while (true) {
      try (Connection c = connect()) {
        return work.run(c);
      } catch (SQLException e) {
        if (!isRetryable(e) || !BackOffUtils.next(Sleeper.DEFAULT, backoff)) {
          throw e;
        }
      }
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof JdbcEndpoint)) {
      return false;
    }
    JdbcEndpoint e = (JdbcEndpoint) o;
    return url.equals(e.url) && Objects.equals(user, e.user) && password.equals(e.password);
  }

  @Override
  public int hashCode() {
    return Objects.hash(url, user, password);
  }

  @Override
  public String toString() {
    return url + (user == null ? "" : " as " + user) + " (password: " + password + ")";
  }
}
