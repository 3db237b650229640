package dev.batchserve.pipelines.cli;

import java.util.Locale;
import java.util.Set;

/**
 * The class of a failed command, its documented exit code and what the operator should do. The
 * launcher ({@code bin/batchserve}) exits with {@link #code}; {@code batchserve --help} and the
 * README list the codes.
 *
 * <pre>{@code
 * Failure f = Failure.classify(exception);   // e.g. STORE_UNREACHABLE for a refused Redis connection
 * System.exit(f.code);
 * }</pre>
 */
public enum Failure {
  /** Bad input or configuration: an unknown or malformed option, an input that matches no file. */
  INPUT_OR_CONFIG(10, "bad input or configuration", "fix the option or the input named above; `batchserve <verb> --help` lists the options"),
  /** The model directory is missing, incomplete, fails its integrity check or cannot be loaded. */
  MODEL(11, "model problem", "check --model (`batchserve model verify <dir>`)"),
  /** A prediction store or source (Redis, PostgreSQL) did not answer. */
  STORE_UNREACHABLE(12, "store unreachable", "start the store or fix its host:port, then rerun"),
  /** The circuit breaker judged the run's quality or drift out of bounds; nothing was published. */
  BREAKER_TRIPPED(13, "circuit breaker tripped", "nothing was published; read the report, fix the data or raise the limit, then rerun"),
  /** Anything else the runner reported. */
  RUNNER(14, "run failed", "see the log for the stack trace");

  /** The process exit code of this class of failure. */
  public final int code;
  /** A few words for the terminal. */
  public final String title;
  /** What the operator should do. */
  public final String advice;

  Failure(int code, String title, String advice) {
    this.code = code;
    this.title = title;
    this.advice = advice;
  }

  private static final Set<String> STORE_EXCEPTIONS = Set.of(
      "redis.clients.jedis.exceptions.JedisConnectionException",
      "java.net.ConnectException",
      "java.net.UnknownHostException",
      "java.net.NoRouteToHostException",
      "java.sql.SQLTransientConnectionException",
      "java.sql.SQLNonTransientConnectionException");

  private static final Set<String> INPUT_EXCEPTIONS = Set.of(
      "java.lang.IllegalArgumentException",
      "java.io.FileNotFoundException",
      "java.nio.file.NoSuchFileException",
      "dev.batchserve.models.ModelInputException",
      "com.fasterxml.jackson.core.JsonProcessingException");

  /** The class of {@code t}: the most specific class found anywhere on its cause chain. */
  public static Failure classify(Throwable t) {
    return cause(t).failure;
  }

  /** The exception on {@code t}'s cause chain that decided its class, with that class. */
  public static Classified cause(Throwable t) {
    Throwable tripped = null;
    Throwable store = null;
    Throwable model = null;
    Throwable input = null;
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      String name = c.getClass().getName();
      if (tripped == null && name.equals("dev.batchserve.transforms.monitoring.CircuitBreaker$Tripped")) {
        tripped = c;
      } else if (store == null && (STORE_EXCEPTIONS.contains(name) || isSqlConnectionFailure(c))) {
        store = c;
      } else if (model == null && (name.equals("dev.batchserve.models.ModelLoadException")
          || name.equals("dev.batchserve.models.ModelIntegrityException"))) {
        model = c;
      } else if (input == null && (INPUT_EXCEPTIONS.contains(name) || isA(c, "com.fasterxml.jackson.core.JsonProcessingException"))) {
        input = c;
      }
    }
    if (tripped != null) {
      return new Classified(BREAKER_TRIPPED, tripped);
    }
    if (store != null) {
      return new Classified(STORE_UNREACHABLE, store);
    }
    if (model != null) {
      return new Classified(MODEL, model);
    }
    if (input != null) {
      return new Classified(INPUT_OR_CONFIG, input);
    }
    return new Classified(RUNNER, deepest(t));
  }

  /** SQLState class 08: connection exception (PostgreSQL's "Connection refused" is 08001). */
  private static boolean isSqlConnectionFailure(Throwable c) {
    if (c instanceof java.sql.SQLException) {
      String state = ((java.sql.SQLException) c).getSQLState();
      return state != null && state.startsWith("08");
    }
    return false;
  }

  private static boolean isA(Throwable c, String className) {
    for (Class<?> k = c.getClass(); k != null; k = k.getSuperclass()) {
      if (k.getName().equals(className)) {
        return true;
      }
    }
    return false;
  }

  private static Throwable deepest(Throwable t) {
    Throwable d = t;
    while (d.getCause() != null && d.getCause() != d) {
      d = d.getCause();
    }
    // A wrapper's message usually says more than a bare root (e.g. an NPE without a message).
    return d.getMessage() == null ? t : d;
  }

  /** A failure class and the exception that decided it. */
  public static final class Classified {
    public final Failure failure;
    public final Throwable cause;

    Classified(Failure failure, Throwable cause) {
      this.failure = failure;
      this.cause = cause;
    }

    /** One line: the cause's message (its class when it has none), newlines folded. */
    public String message() {
      String m = cause.getMessage();
      if (m == null || m.isBlank()) {
        m = cause.getClass().getSimpleName();
      }
      m = m.strip().replaceAll("\\s*\\R\\s*", " ");
      return m.length() > 400 ? m.substring(0, 400) + "..." : m;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s (exit %d): %s", failure.title, failure.code, message());
    }
  }
}
