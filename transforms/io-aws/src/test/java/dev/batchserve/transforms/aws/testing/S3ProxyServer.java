package dev.batchserve.transforms.aws.testing;

import dev.batchserve.transforms.aws.PathStyleS3ClientBuilderFactory;
import dev.batchserve.transforms.testing.LocalServers;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.rules.ExternalResource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 API on a free loopback port: <a href="https://github.com/gaul/s3proxy">S3Proxy</a>
 * (Apache 2.0, from Maven Central) over jclouds' in-memory {@code transient} blob store, with AWS
 * SigV2/SigV4 authentication and path-style addressing, as S3-compatible stores are usually reached.
 *
 * <p>S3Proxy runs in its own JVM: its jclouds / Jetty 11 dependencies do not mix with the Hadoop
 * Jetty 9.4 on this project's test class path. Its class path is what {@code mvn -f
 * .ci/s3proxy/pom.xml dependency:build-classpath} prints (resolved once by {@code .ci/run}, cached
 * in {@code .ci/s3proxy/target/}); Maven runs offline under {@code mvn -o} and reads the local
 * repository the build was given ({@code -Dmaven.repo.local}), as the Flink cluster harness does.
 *
 * <pre>{@code
 * @ClassRule public static final S3ProxyServer S3 = new S3ProxyServer();
 * S3.createBucket("lake");
 * String[] args = S3.pipelineArgs(); // --awsRegion, --endpoint, --awsCredentialsProvider, path style
 * }</pre>
 */
public final class S3ProxyServer extends ExternalResource {
  public static final String ACCESS_KEY = "test-key";
  public static final String SECRET_KEY = "test-secret";
  public static final String REGION = "us-east-1";
  private Path dir;
  private Process process;
  private int port;

  @Override
  protected void before() throws Throwable {
    String classpath = classpath();
    dir = Files.createTempDirectory("batchserve-s3proxy-");
    port = LocalServers.freePort();
    Path conf = dir.resolve("s3proxy.conf");
    Files.writeString(conf, String.join("\n",
        "s3proxy.endpoint=" + endpoint(),
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + ACCESS_KEY,
        "s3proxy.credential=" + SECRET_KEY,
        "jclouds.provider=transient",
        "jclouds.identity=unused",
        "jclouds.credential=unused", ""), StandardCharsets.UTF_8);
    Path logback = dir.resolve("logback.xml");
    Files.writeString(logback, "<configuration><appender name=\"OUT\" class=\"ch.qos.logback.core.ConsoleAppender\">"
        + "<encoder><pattern>%d %level %logger - %msg%n</pattern></encoder></appender>"
        + "<root level=\"WARN\"><appender-ref ref=\"OUT\"/></root></configuration>\n", StandardCharsets.UTF_8);
    Path log = dir.resolve("s3proxy.log");
    Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
    process = new ProcessBuilder(java.toString(), "-Xmx256m", "-Dlogback.configurationFile=" + logback,
        "-cp", classpath, "org.gaul.s3proxy.Main", "--properties", conf.toString())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    LocalServers.awaitPort(process, port, log);
  }

  /** S3Proxy's class path, resolved by Maven from .ci/s3proxy/pom.xml once and cached beside it. */
  private static String classpath() throws IOException, InterruptedException {
    Path pom = ciFile("s3proxy/pom.xml");
    Path cached = pom.resolveSibling("target/classpath.txt");
    if (Files.exists(cached) && Files.getLastModifiedTime(cached).compareTo(Files.getLastModifiedTime(pom)) >= 0) {
      return Files.readString(cached, StandardCharsets.UTF_8).trim();
    }
    Files.createDirectories(cached.getParent());
    List<String> cmd = new ArrayList<>(List.of(mvn(), "-B", "-q"));
    if ("offline=true".equals(System.getProperty("batchserve.maven"))) {
      cmd.add("-o");
    }
    String repo = System.getProperty("maven.repo.local");
    if (repo != null && !repo.isBlank()) {
      cmd.add("-Dmaven.repo.local=" + repo);
    }
    Path tmp = cached.resolveSibling("classpath.txt.tmp");
    cmd.addAll(List.of("-f", pom.toString(), "dependency:build-classpath", "-Dmdep.outputFile=" + tmp));
    Path log = cached.resolveSibling("classpath.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("resolving S3Proxy's class path failed (" + String.join(" ", cmd) + "); run .ci/run"
          + " online once, or: mvn -f .ci/s3proxy/pom.xml dependency:build-classpath\n" + LocalServers.tail(log));
    }
    Files.move(tmp, cached, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return Files.readString(cached, StandardCharsets.UTF_8).trim();
  }

  private static String mvn() {
    String home = System.getProperty("maven.home");
    if (home != null && Files.isExecutable(Paths.get(home, "bin", "mvn"))) {
      return Paths.get(home, "bin", "mvn").toString();
    }
    return "mvn";
  }

  /** {@code .ci/<relative>} of the repository, found from the working directory upwards. */
  static Path ciFile(String relative) throws IOException {
    for (Path d = Paths.get("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path candidate = d.resolve(".ci").resolve(relative);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    throw new IOException("no .ci/" + relative + " above " + Paths.get("").toAbsolutePath());
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

  /** {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /**
   * The pipeline options that point Beam's {@code s3://} file system here: region, endpoint, static
   * credentials and the path-style client.
   */
  public List<String> pipelineArgs() {
    return List.of("--awsRegion=" + REGION, "--endpoint=" + endpoint(),
        "--awsCredentialsProvider={\"@type\":\"StaticCredentialsProvider\",\"accessKeyId\":\"" + ACCESS_KEY
            + "\",\"secretAccessKey\":\"" + SECRET_KEY + "\"}",
        "--s3ClientFactoryClass=" + PathStyleS3ClientBuilderFactory.class.getName());
  }

  /** A new path-style client of this server; the caller closes it. */
  public S3Client client() {
    return S3Client.builder().region(Region.of(REGION)).endpointOverride(URI.create(endpoint()))
        .forcePathStyle(true).httpClientBuilder(ApacheHttpClient.builder())
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  public void createBucket(String bucket) {
    try (S3Client c = client()) {
      c.createBucket(b -> b.bucket(bucket));
    }
  }

  /** Uploads every file under {@code local} to {@code s3://<bucket>/<prefix>/<relative path>}. */
  public void upload(Path local, String bucket, String prefix) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(local)) {
      files = walk.filter(Files::isRegularFile).collect(Collectors.toList());
    }
    try (S3Client c = client()) {
      for (Path f : files) {
        String rel = local.relativize(f).toString().replace('\\', '/');
        String key = prefix.isEmpty() ? rel : prefix + "/" + rel;
        c.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(f));
      }
    }
  }

  /** Every object key in the bucket. */
  public List<String> keys(String bucket) {
    try (S3Client c = client()) {
      return c.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream()
          .map(software.amazon.awssdk.services.s3.model.S3Object::key).sorted().collect(Collectors.toList());
    }
  }

  /** The object's bytes. */
  public byte[] get(String bucket, String key) {
    try (S3Client c = client()) {
      return c.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
    }
  }
}
