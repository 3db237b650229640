package dev.batchserve.pipelines.recommend;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.Assume.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.sink.RedisSink;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import redis.clients.jedis.Jedis;

/** The recommendations example with its Redis output: served by the alias, every key with a 36 h TTL. */
public class RecommendRedisTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static Process redis;
  private static int port;

  @BeforeClass
  public static void startRedis() throws Exception {
    // The embedded-redis test jar bundles a linux-amd64 redis-server; elsewhere this test is skipped.
    InputStream bundled = RecommendRedisTest.class.getClassLoader().getResourceAsStream("redis-server-6.2.6-v5-linux-amd64");
    assumeTrue("no bundled redis-server for this platform", bundled != null
        && System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")
        && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")));
    Path binary = TMP.getRoot().toPath().resolve("redis-server");
    Files.copy(bundled, binary, StandardCopyOption.REPLACE_EXISTING);
    binary.toFile().setExecutable(true);
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    redis = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", TMP.getRoot().toString())
        .redirectErrorStream(true).redirectOutput(TMP.getRoot().toPath().resolve("redis.log").toFile()).start();
    for (int i = 0; i < 200; i++) {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("redis-server did not start: " + Files.readString(TMP.getRoot().toPath().resolve("redis.log")));
  }

  @AfterClass
  public static void stopRedis() throws Exception {
    if (redis != null) {
      redis.destroy();
      redis.waitFor();
    }
  }

  @Test
  public void everyUserIsServedFromRedisWithA36HourTtl() throws Exception {
    RecommendPipeline.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--users=300",
        "--items=150", "--recsModel=" + TMP.getRoot() + "/models/recs/1", "--recsOutput=" + TMP.getRoot() + "/out",
        "--runDate=2026-11-28", "--numShards=1", "--redisHost=127.0.0.1", "--redisPort=" + port)
        .as(RecommendPipeline.Options.class);
    Pipeline p = Pipeline.create(o);
    RecommendPipeline.build(p, o);
    assertThat(p.run().waitUntilFinish(), is(PipelineResult.State.DONE));
    ObjectMapper json = new ObjectMapper();
    try (Jedis j = new Jedis("127.0.0.1", port)) {
      assertThat(j.get(RedisSink.currentKey("recs")), is("recs-daily-20261128"));
      for (int i : new int[] {0, 1, 299}) {
        String key = RedisSink.valueKey("recs", "recs-daily-20261128", RecommendSample.userId(i));
        JsonNode n = json.readTree(j.get(key));
        assertThat(n.get("items").size(), is(100));
        assertThat(n.get("scores").size(), is(100));
        long ttl = j.pttl(key);
        assertThat(ttl, lessThanOrEqualTo(36L * 3600 * 1000));
        assertThat(ttl, greaterThan(36L * 3600 * 1000 - 120_000));
      }
      assertThat(j.keys("recs:recs-daily-20261128:user-*").size(), is(300));
    }
  }
}
