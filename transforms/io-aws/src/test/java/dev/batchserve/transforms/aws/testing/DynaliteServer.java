package dev.batchserve.transforms.aws.testing;

import dev.batchserve.transforms.aws.DynamoDbEndpoint;
import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.testing.LocalServers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.rules.ExternalResource;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;

/**
 * A real DynamoDB-compatible server on a free loopback port: <a href="https://github.com/architect/dynalite">dynalite</a>
 * (MIT, Node.js), the DynamoDB JSON API in memory, SigV4 checked. Not Amazon's DynamoDB Local, whose
 * licence is not open source.
 *
 * <p>dynalite is an npm package that {@code .ci/run} (and {@code make test-deps}) installs into
 * {@code .ci/node} of the repository: {@code npm install --prefix .ci/node dynalite@4.0.0}; this rule
 * finds {@code .ci/node/node_modules/.bin/dynalite} from the working directory upwards, or takes the
 * path in the environment variable {@code DYNALITE}. Node.js 18 or newer must be on the PATH.
 *
 * <pre>{@code
 * @ClassRule public static final DynaliteServer DYNAMO = new DynaliteServer();
 * DYNAMO.createTable("predictions");
 * DynamoDbSink.<String>to("predictions").withEndpoint(DYNAMO.endpoint());
 * }</pre>
 */
public final class DynaliteServer extends ExternalResource {
  static final String INSTALL = "npm install --prefix .ci/node dynalite@4.0.0 (or run .ci/run / make test-deps)";
  private Path dir;
  private Process process;
  private int port;

  @Override
  protected void before() throws Throwable {
    Path binary = binary();
    dir = Files.createTempDirectory("batchserve-dynalite-");
    Files.writeString(dir.resolve("secret-key"), "test-secret\n", StandardCharsets.UTF_8);
    port = LocalServers.freePort();
    Path log = dir.resolve("dynalite.log");
    process = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--host", "127.0.0.1",
        "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LocalServers.awaitPort(process, port, log);
  }

  private static Path binary() throws IOException {
    String env = System.getenv("DYNALITE");
    if (env != null && !env.isBlank()) {
      Path p = Paths.get(env);
      if (!Files.isExecutable(p)) {
        throw new IOException("DYNALITE=" + env + " is not an executable file");
      }
      return p;
    }
    for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path candidate = d.resolve(".ci/node/node_modules/.bin/dynalite");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
      if (Files.isDirectory(d.resolve(".ci"))) {
        throw new IOException("dynalite is not installed in " + d.resolve(".ci/node") + ": " + INSTALL);
      }
    }
    throw new IOException("no .ci/node/node_modules/.bin/dynalite above " + Paths.get("").toAbsolutePath() + ": " + INSTALL);
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

  public int port() {
    return port;
  }

  /** The server as an endpoint: region us-east-1, static credentials (the key read from a file). */
  public DynamoDbEndpoint endpoint() {
    return DynamoDbEndpoint.of("us-east-1").withEndpoint("http://127.0.0.1:" + port)
        .withStaticCredentials("test-key", Secret.fromFile(dir.resolve("secret-key").toString()));
  }

  /** A new client; the caller closes it. */
  public DynamoDbClient client() {
    return endpoint().open();
  }

  /** Creates {@code table} with the sink's key schema (string partition key {@code pk}, on demand). */
  public void createTable(String table) {
    try (DynamoDbClient c = client()) {
      c.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(List.of(AttributeDefinition.builder().attributeName("pk")
              .attributeType(ScalarAttributeType.S).build()))
          .keySchema(List.of(KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build())));
    }
    awaitActive(table);
  }

  /**
   * Waits (at most 30 s) until {@code table} is ACTIVE. The SDK's waiter polls every 20 s; dynalite
   * (started with {@code --createTableMs 0}) activates a table at once.
   */
  public void awaitActive(String table) {
    try (DynamoDbClient c = client()) {
      for (int i = 0; i < 600; i++) {
        if (c.describeTable(b -> b.tableName(table)).table().tableStatus() == TableStatus.ACTIVE) {
          return;
        }
        Thread.sleep(50);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw new IllegalStateException("DynamoDB table " + table + " did not become ACTIVE within 30 s");
  }
}
