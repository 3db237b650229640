package dev.batchserve.transforms.connect;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where a store password lives: an environment variable or a secrets file, named in the pipeline
 * and read only where it is used (on the worker, in {@code @Setup}).
 *
 * <p>Only the reference travels in the serialized pipeline; the value never does, and neither
 * {@link #toString()} nor any exception message contains it, so it cannot reach a log, a template
 * or the runner's UI. Shared by every store connector (JDBC here; Redis in {@code batchserve-io-redis},
 * DynamoDB in {@code batchserve-io-aws}), so it lives below all of them.
 *
 * <pre>{@code
 * RedisSink.<String>to("cache", 6379).withPassword(Secret.fromEnv("REDIS_PASSWORD"));
 * JdbcEndpoint.of("jdbc:postgresql://db/scores").withUser("writer").withPassword(Secret.fromFile("/secrets/pg"));
 * }</pre>
 */
public final class Secret implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Secret NONE = new Secret(null, null);

  private final @Nullable String envVar;
  private final @Nullable String file;

  private Secret(@Nullable String envVar, @Nullable String file) {
    this.envVar = envVar;
    this.file = file;
  }

  /** No password. */
  public static Secret none() {
    return NONE;
  }

  /** The value of environment variable {@code name} on the worker. */
  public static Secret fromEnv(String name) {
    checkArgument(name != null && !name.isEmpty(), "environment variable name must be set, but was '%s'", name);
    return new Secret(name, null);
  }

  /** The contents of a file on the worker (a mounted secret), without its trailing newline. */
  public static Secret fromFile(String path) {
    checkArgument(path != null && !path.isEmpty(), "secrets file path must be set, but was '%s'", path);
    return new Secret(null, path);
  }

  public boolean isSet() {
    return envVar != null || file != null;
  }

  /** Reads the password; null for {@link #none()}. Fails naming the source, never the value. */
  public @Nullable String resolve() {
    if (envVar != null) {
      String v = System.getenv(envVar);
      if (v == null) {
        throw new IllegalStateException("password environment variable " + envVar + " is not set");
      }
      return v;
    }
    if (file != null) {
      try {
        String v = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
        return v.endsWith("\n") ? v.substring(0, v.length() - 1) : v;
      } catch (IOException e) {
        // The exception text names the path only.
        throw new IllegalStateException("cannot read password file " + file + ": " + e.getClass().getSimpleName());
      }
    }
    return null;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Secret
        && java.util.Objects.equals(envVar, ((Secret) o).envVar)
        && java.util.Objects.equals(file, ((Secret) o).file);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(envVar, file);
  }

  @Override
  public String toString() {
    return envVar != null ? "env:" + envVar : file != null ? "file:" + file : "none";
  }
}
