package dev.batchserve.pipelines.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.serving.Lookup;
import java.io.PrintStream;

/**
 * Looks up one key in the Redis store from a shell, printing the lookup as one JSON object.
 *
 * <pre>
 * lookup KEY --redis host:port [--prefix p] [--db n] [--password-env VAR | --password-file F] [--tls]
 * </pre>
 *
 * <p>Exit status: 0 when the key has a prediction, 1 when the lookup fell back (the JSON says why),
 * 2 for a usage error.
 *
 * <pre>{@code
 * java -cp batchserve-pipelines.jar dev.batchserve.pipelines.cli.LookupCli \
 *     lookup acct-7 --redis cache:6379 --prefix fraud
 * }</pre>
 */
public final class LookupCli {
  static final String USAGE = "usage: lookup KEY --redis host:port [--prefix p] [--db n]"
      + " [--password-env VAR | --password-file F] [--tls]";
  private static final ObjectMapper JSON = new ObjectMapper();

  private LookupCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** The whole command: parses, looks up, prints; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    String key = null;
    String redis = null;
    String prefix = "predictions";
    int db = 0;
    Secret password = Secret.none();
    boolean tls = false;
    RedisEndpoint endpoint;
    try {
      if (args.length < 2 || !"lookup".equals(args[0])) {
        throw new IllegalArgumentException("expected 'lookup KEY'");
      }
      key = args[1];
      for (int i = 2; i < args.length; i++) {
        switch (args[i]) {
          case "--redis":
            redis = value(args, ++i, "--redis");
            break;
          case "--prefix":
            prefix = value(args, ++i, "--prefix");
            break;
          case "--db":
            db = Integer.parseInt(value(args, ++i, "--db"));
            break;
          case "--password-env":
            password = Secret.fromEnv(value(args, ++i, "--password-env"));
            break;
          case "--password-file":
            password = Secret.fromFile(value(args, ++i, "--password-file"));
            break;
          case "--tls":
            tls = true;
            break;
          default:
            throw new IllegalArgumentException("unknown option '" + args[i] + "'");
        }
      }
      if (redis == null) {
        throw new IllegalArgumentException("--redis host:port is required");
      }
      endpoint = RedisEndpoint.parse(redis).withDatabase(db).withPassword(password).withTls(tls);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(USAGE);
      return 2;
    }
    try (RedisPredictionStore store =
        RedisPredictionStore.builder(endpoint).withKeyPrefix(prefix).withMaxConnections(1).build()) {
      Lookup l = store.get(key);
      out.println(render(l));
      return l.isPresent() ? 0 : 1;
    }
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  static String render(Lookup l) {
    ObjectNode n = JSON.createObjectNode();
    n.put("key", l.key());
    n.put("source", l.source().name().toLowerCase(java.util.Locale.ROOT));
    n.put("served_run_id", l.servedRunId().orElse(null));
    n.put("published_at", l.publishedAt().map(java.time.Instant::toString).orElse(null));
    l.age().ifPresentOrElse(a -> n.put("age_seconds", a.getSeconds()), () -> n.putNull("age_seconds"));
    n.put("age", l.age().map(Age::human).orElse(null));
    n.put("fallback_reason", l.fallbackReason().orElse(null));
    n.put("computed_because", l.computedBecause().orElse(null));
    if (l.prediction().isPresent()) {
      try {
        n.set("prediction", JSON.readTree(l.prediction().get().toJson(l.key())));
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    } else {
      n.putNull("prediction");
    }
    try {
      return JSON.writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

}
