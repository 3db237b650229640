package dev.batchserve.transforms.redis;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.connect.Secret;
import java.io.Serializable;
import java.util.Objects;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.checkerframework.checker.nullness.qual.Nullable;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.exceptions.JedisException;

/**
 * How to reach one Redis server: host, port, database, password source, TLS and timeout. Shared by
 * the Redis sink and the lookup client so that both always talk to the same place.
 *
 * <pre>{@code
 * RedisEndpoint e = RedisEndpoint.of("cache", 6379).withDatabase(2).withPassword(Secret.fromEnv("REDIS_PASSWORD"));
 * try (Jedis j = e.open()) { ... }
 * }</pre>
 */
public final class RedisEndpoint implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String host;
  private final int port;
  private final int database;
  private final @Nullable String user;
  private final Secret password;
  private final boolean tls;
  private final int timeoutMillis;

  private RedisEndpoint(String host, int port, int database, @Nullable String user, Secret password, boolean tls,
      int timeoutMillis) {
    this.host = host;
    this.port = port;
    this.database = database;
    this.user = user;
    this.password = password;
    this.tls = tls;
    this.timeoutMillis = timeoutMillis;
  }

  public static RedisEndpoint of(String host, int port) {
    checkArgument(host != null && !host.isEmpty(), "host must be set, but was '%s'", host);
    checkArgument(port > 0 && port < 65536, "port must be in [1, 65535], but was %s", port);
    return new RedisEndpoint(host, port, 0, null, Secret.none(), false, 10_000);
  }

  /** Parses {@code host:port}. */
  public static RedisEndpoint parse(String hostPort) {
    int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
    checkArgument(colon > 0, "expected host:port, but was '%s'", hostPort);
    try {
      return of(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected host:port, but was '" + hostPort + "'", e);
    }
  }

  /** The logical database (SELECT n), default 0. */
  public RedisEndpoint withDatabase(int db) {
    checkArgument(db >= 0, "database must be >= 0, but was %s", db);
    return new RedisEndpoint(host, port, db, user, password, tls, timeoutMillis);
  }

  /** The Redis 6 ACL user to AUTH as (default: the default user). */
  public RedisEndpoint withUser(String name) {
    checkArgument(name != null && !name.isEmpty(), "user must be set, but was '%s'", name);
    return new RedisEndpoint(host, port, database, name, password, tls, timeoutMillis);
  }

  /** Where the AUTH password comes from; read on the worker, never logged. */
  public RedisEndpoint withPassword(Secret secret) {
    return new RedisEndpoint(host, port, database, user, Objects.requireNonNull(secret, "secret"), tls, timeoutMillis);
  }

  /** Connect over TLS (default off). */
  public RedisEndpoint withTls(boolean enabled) {
    return new RedisEndpoint(host, port, database, user, password, enabled, timeoutMillis);
  }

  /** Connect and socket timeout (default 10 s). */
  public RedisEndpoint withTimeoutMillis(int millis) {
    checkArgument(millis > 0, "timeoutMillis must be > 0, but was %s", millis);
    return new RedisEndpoint(host, port, database, user, password, tls, millis);
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public int database() {
    return database;
  }

  public boolean tls() {
    return tls;
  }

  /** {@code host:port}, as errors name the server. */
  public String address() {
    return host + ":" + port;
  }

  /**
   * The exception to throw for a failed connection or command: names this server ({@code host:port}
   * and database, never the password), what was being done, and Redis' or the client's own reason,
   * which stays the cause.
   *
   * <pre>{@code
   * try (Jedis j = endpoint.open()) { ... } catch (JedisException e) { throw endpoint.failure("publishing run " + id, e); }
   * }</pre>
   */
  public IllegalStateException failure(String doing, JedisException cause) {
    return new IllegalStateException("Redis " + address() + " (db " + database + (tls ? ", TLS" : "") + "): "
        + doing + " failed: " + cause.getMessage(), cause);
  }

  /** Opens a new connection; the caller closes it. */
  public Jedis open() {
    return new Jedis(new HostAndPort(host, port), clientConfig());
  }

  /** A thread-safe pool of connections (for a long-lived reader); the caller closes it. */
  public JedisPool pool(int maxConnections) {
    checkArgument(maxConnections > 0, "maxConnections must be > 0, but was %s", maxConnections);
    GenericObjectPoolConfig<Jedis> config = new GenericObjectPoolConfig<>();
    config.setMaxTotal(maxConnections);
    config.setJmxEnabled(false);
    return new JedisPool(config, new HostAndPort(host, port), clientConfig());
  }

  private DefaultJedisClientConfig clientConfig() {
    @Nullable String pw = password.resolve();
    DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
        .database(database)
        .ssl(tls)
        .connectionTimeoutMillis(timeoutMillis)
        .socketTimeoutMillis(timeoutMillis)
        .clientName("batchserve");
    if (pw != null) {
      config.password(pw);
    }
    if (user != null) {
      config.user(user);
    }
    return config.build();
  }

  @Override
  public String toString() {
    return (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database + (user == null ? "" : " user " + user) + " (password: " + password + ")";
  }
}
