package dev.batchserve.transforms.redis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import redis.clients.jedis.Jedis;

/**
 * Store benchmark on a real, local redis-server (started here, from the test harness): the Redis
 * sink's write rate inside a Beam pipeline against pipelined Jedis SETs of the same values on the same
 * server in the same run (the raw client baseline: {@code redis-benchmark} is not on these machines),
 * and the lookup latency of {@link RedisPredictionStore#get} (p50 / p99 / max over random keys).
 *
 * <pre>
 * mvn -pl transforms exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=dev.batchserve.transforms.redis.StoreBenchmark -Dexec.args="--records=200000"
 * </pre>
 */
public final class StoreBenchmark {
  private StoreBenchmark() {}

  public static void main(String[] args) throws Throwable {
    int records = 200_000;
    int lookups = 20_000;
    Path out = Paths.get("work/bench/store.json");
    for (String a : args) {
      if (a.startsWith("--records=")) {
        records = Integer.parseInt(a.substring(10));
      } else if (a.startsWith("--lookups=")) {
        lookups = Integer.parseInt(a.substring(10));
      } else if (a.startsWith("--out=")) {
        out = Paths.get(a.substring(6));
      }
    }
    RunInfo run = RunInfo.of("bench", LocalDate.parse("2026-01-01"), RunInfo.Interval.DAILY);
    List<KV<String, Prediction>> predictions = new ArrayList<>(records);
    for (int i = 0; i < records; i++) {
      predictions.add(KV.of(String.format(Locale.ROOT, "acct-%08d", i), Prediction.builder()
          .scores(new float[] {(i % 1000) / 1000f}).confidence(0.5 + (i % 500) / 1000.0).model("fraud-mlp", "1")
          .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli()).runId(run.runId()).build()));
    }
    RedisServer redis = new RedisServer();
    redis.before();
    try {
      // Raw client: the same values, pipelined SET with the same TTL, 1000 per round trip.
      long t0 = System.nanoTime();
      try (Jedis j = redis.client()) {
        redis.clients.jedis.Pipeline p = j.pipelined();
        for (int i = 0; i < records; i++) {
          KV<String, Prediction> kv = predictions.get(i);
          p.setex("raw:" + kv.getKey(), 36 * 3600, kv.getValue().toJson(kv.getKey()));
          if (i % 1000 == 999) {
            p.sync();
          }
        }
        p.sync();
      }
      double raw = records / ((System.nanoTime() - t0) / 1e9);
      redis.flushAll();

      // The sink in a pipeline (Direct runner, its per-element checks off: they are test aids).
      PipelineOptions o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--enforceImmutability=false",
          "--enforceEncodability=false", "--targetParallelism=2").create();
      Pipeline p = Pipeline.create(o);
      p.apply(Create.of(predictions).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
          .apply(RedisSink.<String>to(redis.host(), redis.port()).withRunInfo(run).withKeyPrefix("bench"));
      long t1 = System.nanoTime();
      p.run().waitUntilFinish();
      double sink = records / ((System.nanoTime() - t1) / 1e9);

      // Lookups through the client the serving side uses.
      SplittableRandom r = new SplittableRandom(7);
      long[] nanos = new long[lookups];
      try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of(redis.host(), redis.port()))
          .withKeyPrefix("bench").build()) {
        for (int i = 0; i < 2000; i++) {
          store.get(predictions.get(r.nextInt(records)).getKey()); // warm-up
        }
        for (int i = 0; i < lookups; i++) {
          String key = predictions.get(r.nextInt(records)).getKey();
          long s = System.nanoTime();
          Lookup l = store.get(key);
          nanos[i] = System.nanoTime() - s;
          if (!l.isPresent()) {
            throw new IllegalStateException("no prediction served for " + key);
          }
        }
      }
      Arrays.sort(nanos);
      double p50 = nanos[lookups / 2] / 1e6;
      double p99 = nanos[(int) (lookups * 0.99)] / 1e6;
      double max = nanos[lookups - 1] / 1e6;

      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      ObjectNode res = json.createObjectNode();
      res.put("availableProcessors", Runtime.getRuntime().availableProcessors());
      res.put("records", records);
      res.put("rawPipelinedSetPerSecond", raw);
      res.put("sinkRecordsPerSecond", sink);
      res.put("sinkToRawRatio", sink / raw);
      res.put("lookups", lookups);
      res.put("lookupP50Millis", p50);
      res.put("lookupP99Millis", p99);
      res.put("lookupMaxMillis", max);
      Files.createDirectories(out.toAbsolutePath().getParent());
      json.writeValue(out.toFile(), res);
      System.out.println("| records | raw pipelined SET (rec/s) | Redis sink in a pipeline (rec/s) | sink / raw | lookup p50 | lookup p99 | max |");
      System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
      System.out.printf(Locale.ROOT, "| %,d | %,.0f | %,.0f | %.2f | %.3f ms | %.3f ms | %.3f ms |%n",
          records, raw, sink, sink / raw, p50, p99, max);
    } finally {
      redis.after();
    }
  }
}
