package dev.batchserve.pipelines.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.transforms.serving.Age;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.connect.Secret;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Looks up one key in the Redis store from a shell, printing the lookup as one JSON object.
 * {@code lookup} is a subcommand, so that {@code bin/batchserve lookup ...} and this main take the
 * same arguments; {@code --help} lists the options ({@link Tools}).
 *
 * <pre>
 * lookup KEY --redis host:port [--prefix p] [--db n] [--password-env VAR | --password-file F] [--tls]
 * </pre>
 *
 * <p>Exit status: 0 when the key has a prediction, 1 when the lookup fell back (the JSON says why),
 * 2 for a usage error. A store that cannot be reached throws (the launcher reports it, exit 12).
 *
 * <pre>{@code
 * java -cp batchserve-pipelines.jar dev.batchserve.pipelines.cli.LookupCli \
 *     lookup acct-7 --redis cache:6379 --prefix fraud
 * }</pre>
 */
@Command(name = "batchserve",
    description = "A served prediction from Redis, with how long ago its run was published (JSON).",
    subcommands = LookupCli.Get.class)
public final class LookupCli implements Callable<Integer> {
  /** A usage error. */
  static final int USAGE = 2;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec private CommandSpec spec;

  private LookupCli() {}

  public static void main(String[] args) {
    Tools.exit(LookupCli.class, args);
  }

  /** The whole command ({@code lookup KEY ...}): parses, looks up, prints; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(LookupCli.class, args, out, err);
  }

  /** No subcommand: the usage, as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return USAGE;
  }

  /** {@code lookup KEY --redis host:port ...}. */
  @Command(name = "lookup", sortOptions = false,
      description = "Looks KEY up in the Redis store; exit 0 with a prediction, 1 when it fell back.")
  static final class Get implements Callable<Integer> {
    @Parameters(paramLabel = "KEY", description = "The key to look up.")
    private String key;

    @Option(names = "--redis", required = true, paramLabel = "host:port", description = "The Redis server.")
    private String redis;

    @Option(names = "--prefix", defaultValue = "predictions", paramLabel = "p",
        description = "The key prefix the sink wrote with (default: ${DEFAULT-VALUE}).")
    private String prefix;

    @Option(names = "--db", defaultValue = "0", paramLabel = "n", description = "The database (default: ${DEFAULT-VALUE}).")
    private int db;

    @ArgGroup(exclusive = true)
    private Password password;

    @Option(names = "--tls", description = "Connect with TLS.")
    private boolean tls;

    @Spec private CommandSpec spec;

    /** Where the password comes from; none by default. */
    static final class Password {
      @Option(names = "--password-env", paramLabel = "VAR", description = "The environment variable holding the password.")
      private String env;

      @Option(names = "--password-file", paramLabel = "F", description = "The file holding the password.")
      private String file;

      Secret secret() {
        return env != null ? Secret.fromEnv(env) : Secret.fromFile(file);
      }
    }

    @Override
    public Integer call() {
      RedisEndpoint endpoint;
      try {
        endpoint = RedisEndpoint.parse(redis).withDatabase(db)
            .withPassword(password == null ? Secret.none() : password.secret()).withTls(tls);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      try (RedisPredictionStore store =
          RedisPredictionStore.builder(endpoint).withKeyPrefix(prefix).withMaxConnections(1).build()) {
        Lookup l = store.get(key);
        spec.commandLine().getOut().println(render(l));
        return l.isPresent() ? 0 : 1;
      }
    }
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
