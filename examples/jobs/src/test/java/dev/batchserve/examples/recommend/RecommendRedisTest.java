package dev.batchserve.examples.recommend;

import dev.batchserve.tools.samples.RecommendSample;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import redis.clients.jedis.Jedis;

/** The recommendations example with its Redis output: served by the alias, every key with a 36 h TTL. */
public class RecommendRedisTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  private static int port;

  @BeforeClass
  public static void redisPort() {
    port = REDIS.port();
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
      String served = j.get(RedisSink.currentKey("recs"));
      assertThat(RedisSink.runIdOf(served), is("recs-daily-20261128"));
      for (int i : new int[] {0, 1, 299}) {
        String key = RedisSink.valueKey("recs", served, RecommendSample.userId(i));
        JsonNode n = json.readTree(j.get(key));
        assertThat(n.get("items").size(), is(100));
        assertThat(n.get("scores").size(), is(100));
        long ttl = j.pttl(key);
        assertThat(ttl, lessThanOrEqualTo(36L * 3600 * 1000));
        assertThat(ttl, greaterThan(36L * 3600 * 1000 - 120_000));
      }
      assertThat(j.keys("recs:recs-daily-20261128~*:user-*").size(), is(300));
    }
  }
}
