package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.checkerframework.checker.nullness.qual.Nullable;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Writes keyed predictions to Redis under the run's own version namespace and publishes the run by
 * one atomic switch of an alias key.
 *
 * <p>Layout ({@code <p>} = the key prefix, default {@code predictions}):
 *
 * <pre>
 * &lt;p&gt;:&lt;run_id&gt;:&lt;key&gt;   the prediction as JSON ({@link Prediction#toJson}), with a TTL
 * &lt;p&gt;:current            the run id readers serve; moved only by the publish step
 * &lt;p&gt;:versions           sorted set of published run ids, scored by prediction timestamp (ms)
 * &lt;p&gt;:run:&lt;run_id&gt;       hash: prediction_timestamp (ms), records
 * &lt;p&gt;:attempt:&lt;run_id&gt;   set when an attempt of the run starts writing (same TTL)
 * </pre>
 *
 * <p>A reader resolves {@code GET <p>:current}, then {@code GET <p>:<run_id>:<key>}; the lookup
 * client does both in one Lua script, so it never mixes two runs. The steps of a run:
 *
 * <ol>
 *   <li>Prepare: refuse a run older than the served one (stale-write guard); unless the run is the
 *       one being served, drop whatever an earlier attempt of it left in its namespace.
 *   <li>Write: {@code SET key json PX ttl}, pipelined, flushed every {@code batchSize} records and at
 *       the end of each bundle; each bundle reports how many writes Redis confirmed.
 *   <li>Publish, after every write and every {@link #publishAfter} signal ({@code Wait.on}): check
 *       that the confirmed writes equal the input count, then one Lua script checks the guard again,
 *       records the version, moves {@code current}, and trims the versions to the newest
 *       {@code keepVersions}; the keys of trimmed versions are then unlinked.
 * </ol>
 *
 * <p>A failed run never moves {@code current}, so the previous run stays fully served. A re-run of
 * the same run id overwrites the same keys, so it never adds any; an unpublished attempt's leftovers
 * are dropped first. (A re-run of the run being served is written in place, so that readers keep
 * it: keys that only the earlier attempt had stay until their TTL.) The TTL (default 1.5 x the run's
 * interval) bounds what a failed or trimmed run leaves behind. Standalone Redis only (the scripts
 * touch keys they compute, which Redis Cluster does not allow).
 *
 * <pre>{@code
 * predictions.apply(SinkWithMetadata.<String>redis("cache", 6379)
 *     .withRunInfo(run).withKeyPrefix("fraud").withPassword(Secret.fromEnv("REDIS_PASSWORD"))
 *     .publishAfter(keyed.counts()));
 * }</pre>
 */
public final class RedisSink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.redis";
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:/-]{1,200}");

  /**
   * The atomic switch. KEYS: current, versions, run meta. ARGV: run id, prediction timestamp (ms),
   * versions to keep, records. Returns {'stale', served run} or {'published', trimmed run ids...}.
   */
  static final String PUBLISH_SCRIPT =
      "local cur = redis.call('GET', KEYS[1])\n"
          + "if cur and cur ~= ARGV[1] then\n"
          + "  local curTs = redis.call('ZSCORE', KEYS[2], cur)\n"
          + "  if curTs and tonumber(curTs) > tonumber(ARGV[2]) then return {'stale', cur} end\n"
          + "end\n"
          + "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
          + "redis.call('HSET', KEYS[3], 'prediction_timestamp', ARGV[2], 'records', ARGV[4])\n"
          + "redis.call('SET', KEYS[1], ARGV[1])\n"
          + "local out = {'published'}\n"
          + "local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])\n"
          + "if extra > 0 then\n"
          + "  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)\n"
          + "  for _, r in ipairs(old) do\n"
          + "    if r ~= ARGV[1] then\n"
          + "      redis.call('ZREM', KEYS[2], r)\n"
          + "      table.insert(out, r)\n"
          + "    end\n"
          + "  end\n"
          + "end\n"
          + "return out\n";

  private RedisEndpoint endpoint;
  private String keyPrefix = "predictions";
  private @Nullable RunInfo runInfo;
  private @Nullable Duration ttl;
  private int keepVersions = 2;
  private int batchSize = 1000;
  private transient List<PCollection<?>> signals = List.of();

  private RedisSink(RedisEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  static <K> RedisSink<K> to(String host, int port) {
    return new RedisSink<>(RedisEndpoint.of(host, port));
  }

  private RedisSink<K> copy() {
    RedisSink<K> c = new RedisSink<>(endpoint);
    c.keyPrefix = keyPrefix;
    c.runInfo = runInfo;
    c.ttl = ttl;
    c.keepVersions = keepVersions;
    c.batchSize = batchSize;
    c.signals = signals;
    return c;
  }

  /** The run being written (required). */
  public RedisSink<K> withRunInfo(RunInfo run) {
    RedisSink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** The logical database (default 0). */
  public RedisSink<K> withDatabase(int db) {
    RedisSink<K> c = copy();
    c.endpoint = endpoint.withDatabase(db);
    return c;
  }

  /** Where the password comes from (env var or secrets file); never logged. */
  public RedisSink<K> withPassword(Secret secret) {
    RedisSink<K> c = copy();
    c.endpoint = endpoint.withPassword(secret);
    return c;
  }

  /** The Redis 6 ACL user to AUTH as, with {@link #withPassword}. */
  public RedisSink<K> withUser(String user) {
    RedisSink<K> c = copy();
    c.endpoint = endpoint.withUser(user);
    return c;
  }

  /** Connect over TLS (default off). */
  public RedisSink<K> withTls(boolean enabled) {
    RedisSink<K> c = copy();
    c.endpoint = endpoint.withTls(enabled);
    return c;
  }

  /** Key prefix, default {@code predictions}; letters, digits and {@code _ . : / -} only. */
  public RedisSink<K> withKeyPrefix(String prefix) {
    checkArgument(prefix != null && PREFIX.matcher(prefix).matches(),
        "keyPrefix must match %s, but was '%s'", PREFIX.pattern(), prefix);
    RedisSink<K> c = copy();
    c.keyPrefix = prefix;
    return c;
  }

  /** Time to live of every written key (default 1.5 x the run's interval). */
  public RedisSink<K> withTtl(Duration ttl) {
    checkArgument(ttl != null && ttl.toMillis() > 0, "ttl must be positive, but was %s", ttl);
    RedisSink<K> c = copy();
    c.ttl = ttl;
    return c;
  }

  /** How many published versions stay in Redis (default 2: the served run and the one before). */
  public RedisSink<K> withKeepVersions(int n) {
    checkArgument(n >= 1, "keepVersions must be >= 1, but was %s", n);
    RedisSink<K> c = copy();
    c.keepVersions = n;
    return c;
  }

  /** Writes per pipelined round trip (default 1000). */
  public RedisSink<K> withBatchSize(int n) {
    checkArgument(n >= 1, "batchSize must be >= 1, but was %s", n);
    RedisSink<K> c = copy();
    c.batchSize = n;
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public RedisSink<K> publishAfter(PCollection<?>... more) {
    List<PCollection<?>> s = new ArrayList<>(signals);
    Collections.addAll(s, more);
    RedisSink<K> c = copy();
    c.signals = s;
    return c;
  }

  /** The TTL that applies: the configured one, else 1.5 x the interval. */
  public Duration effectiveTtl() {
    checkState(runInfo != null, "RedisSink needs withRunInfo(run)");
    return ttl != null ? ttl : runInfo.interval().length().multipliedBy(3).dividedBy(2);
  }

  /** {@code <prefix>:<run_id>:<key>}: where one prediction of one run lives. */
  public static String valueKey(String prefix, String runId, String key) {
    return prefix + ":" + runId + ":" + key;
  }

  /** {@code <prefix>:current}: the alias readers resolve. */
  public static String currentKey(String prefix) {
    return prefix + ":current";
  }

  /** {@code <prefix>:versions}: the published versions, scored by prediction timestamp. */
  public static String versionsKey(String prefix) {
    return prefix + ":versions";
  }

  /** {@code <prefix>:attempt:<run_id>}: marks that some attempt of the run has written. */
  public static String attemptKey(String prefix, String runId) {
    return prefix + ":attempt:" + runId;
  }

  /** {@code <prefix>:run:<run_id>}: a published run's metadata. */
  public static String runKey(String prefix, String runId) {
    return prefix + ":run:" + runId;
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "RedisSink needs withRunInfo(run)");
    checkState(input.getWindowingStrategy().getWindowFn() instanceof GlobalWindows,
        "RedisSink writes one run of bounded input in the global window, but the input is windowed by %s",
        input.getWindowingStrategy().getWindowFn());
    Pipeline p = input.getPipeline();
    RunInfo run = runInfo;
    long ttlMillis = effectiveTtl().toMillis();

    PCollection<String> prepared = p.apply("RunId", Create.of(run.runId()))
        .apply("Prepare", ParDo.of(new PrepareFn(endpoint, keyPrefix, run, ttlMillis)))
        .setCoder(StringUtf8Coder.of());
    PCollection<Long> confirmed = input
        .apply("AfterPrepare", Wait.on(prepared))
        .apply("Write", ParDo.of(new WriteFn<K>(endpoint, keyPrefix, run.runId(), ttlMillis, batchSize)))
        .setCoder(VarLongCoder.of());
    PCollectionView<Long> written = confirmed.apply("SumWritten", Sum.longsGlobally().asSingletonView());
    PCollectionView<Long> expected = input.apply("CountInput",
        Combine.globally(Count.<KV<K, Prediction>>combineFn()).asSingletonView());

    List<PCollection<?>> waitOn = new ArrayList<>();
    waitOn.add(confirmed);
    waitOn.addAll(signals);
    PCollection<String> published = p.apply("PublishTrigger", Create.of(run.runId()))
        .apply("WaitForWrites", Wait.on(waitOn.toArray(new PCollection<?>[0])))
        .apply("Publish", ParDo.of(new PublishFn(endpoint, keyPrefix, run, keepVersions, written, expected))
            .withSideInputs(written, expected))
        .setCoder(StringUtf8Coder.of());
    return new PublishedRun(p, published);
  }

  /** Unlinks every key matching {@code <prefix>:<runId>:*}; returns how many. */
  static long dropNamespace(Jedis jedis, String prefix, String runId) {
    ScanParams match = new ScanParams().match(valueKey(prefix, runId, "*")).count(1000);
    String cursor = ScanParams.SCAN_POINTER_START;
    long dropped = 0;
    do {
      ScanResult<String> page = jedis.scan(cursor, match);
      if (!page.getResult().isEmpty()) {
        dropped += jedis.unlink(page.getResult().toArray(new String[0]));
      }
      cursor = page.getCursor();
    } while (!ScanParams.SCAN_POINTER_START.equals(cursor));
    return dropped;
  }

  /** Fails when a newer run than {@code run} is served. */
  static void checkNotStale(Jedis jedis, String prefix, RunInfo run) {
    String current = jedis.get(currentKey(prefix));
    if (current != null && !current.equals(run.runId())) {
      Double served = jedis.zscore(versionsKey(prefix), current);
      long ts = run.predictionTimestamp().toEpochMilli();
      if (served != null && served > ts) {
        throw new IllegalStateException(staleMessage(run, current, served.longValue()));
      }
    }
  }

  private static String staleMessage(RunInfo run, String current, @Nullable Long servedTs) {
    return "refusing to publish run " + run.runId() + " (prediction timestamp " + run.predictionTimestamp()
        + "): the served run " + current
        + (servedTs == null ? "" : " (" + java.time.Instant.ofEpochMilli(servedTs) + ")") + " is newer";
  }

  private static final class PrepareFn extends DoFn<String, String> {
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final RunInfo run;
    private final long ttlMillis;

    PrepareFn(RedisEndpoint endpoint, String prefix, RunInfo run, long ttlMillis) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.run = run;
      this.ttlMillis = ttlMillis;
    }

    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) {
      try (Jedis jedis = endpoint.open()) {
        checkNotStale(jedis, prefix, run);
        // Leftovers of an earlier failed attempt are nobody's: drop them so a re-run adds no keys.
        // The served run is overwritten in place instead, key by key, so readers never lose it.
        // Only an earlier attempt can have left keys, so a first attempt skips the (keyspace-wide) scan.
        if (jedis.exists(attemptKey(prefix, runId)) && !runId.equals(jedis.get(currentKey(prefix)))) {
          dropNamespace(jedis, prefix, runId);
        }
        jedis.set(attemptKey(prefix, runId), "1", SetParams.setParams().px(ttlMillis));
      }
      out.output(runId);
    }
  }

  private static final class WriteFn<K> extends DoFn<KV<K, Prediction>, Long> {
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final String runId;
    private final long ttlMillis;
    private final int batchSize;
    private final Counter records = Metrics.counter(METRICS_NAMESPACE, "records_written");
    private final Distribution batches = Metrics.distribution(METRICS_NAMESPACE, "records_per_batch");
    private transient @Nullable Jedis jedis;
    private transient redis.clients.jedis.@Nullable Pipeline pipeline;
    private transient int pending;
    private transient long confirmedInBundle;

    WriteFn(RedisEndpoint endpoint, String prefix, String runId, long ttlMillis, int batchSize) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.runId = runId;
      this.ttlMillis = ttlMillis;
      this.batchSize = batchSize;
    }

    @Setup
    public void setup() {
      jedis = endpoint.open();
    }

    @StartBundle
    public void startBundle() {
      pipeline = jedis.pipelined();
      pending = 0;
      confirmedInBundle = 0;
    }

    @ProcessElement
    public void process(@Element KV<K, Prediction> kv) {
      String key = String.valueOf(kv.getKey());
      pipeline.set(valueKey(prefix, runId, key), kv.getValue().toJson(key), SetParams.setParams().px(ttlMillis));
      if (++pending >= batchSize) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      flush();
      pipeline.close();
      pipeline = null;
      c.output(confirmedInBundle, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
    }

    private void flush() {
      if (pending == 0) {
        return;
      }
      for (Object reply : pipeline.syncAndReturnAll()) {
        if (reply instanceof Exception) {
          throw new IllegalStateException("Redis refused a write of run " + runId, (Exception) reply);
        }
      }
      records.inc(pending);
      batches.update(pending);
      confirmedInBundle += pending;
      pending = 0;
    }

    @Teardown
    public void teardown() {
      if (jedis != null) {
        jedis.close();
        jedis = null;
      }
    }
  }

  private static final class PublishFn extends DoFn<String, String> {
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final RunInfo run;
    private final int keepVersions;
    private final PCollectionView<Long> written;
    private final PCollectionView<Long> expected;
    private final Counter published = Metrics.counter(METRICS_NAMESPACE, "runs_published");

    PublishFn(RedisEndpoint endpoint, String prefix, RunInfo run, int keepVersions,
        PCollectionView<Long> written, PCollectionView<Long> expected) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.run = run;
      this.keepVersions = keepVersions;
      this.written = written;
      this.expected = expected;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      long confirmed = c.sideInput(written);
      long records = c.sideInput(expected);
      checkState(confirmed == records,
          "run %s: Redis confirmed %s writes but the input had %s records; not publishing", run.runId(), confirmed, records);
      try (Jedis jedis = endpoint.open()) {
        Object reply = jedis.eval(PUBLISH_SCRIPT,
            List.of(currentKey(prefix), versionsKey(prefix), runKey(prefix, run.runId())),
            List.of(run.runId(), Long.toString(run.predictionTimestamp().toEpochMilli()),
                Integer.toString(keepVersions), Long.toString(records)));
        List<?> out = (List<?>) reply;
        if ("stale".equals(String.valueOf(out.get(0)))) {
          throw new IllegalStateException(staleMessage(run, String.valueOf(out.get(1)), null));
        }
        // The switch is done; trimmed versions are no longer resolvable, so their keys can go.
        for (Object trimmed : out.subList(1, out.size())) {
          dropNamespace(jedis, prefix, String.valueOf(trimmed));
          jedis.del(runKey(prefix, String.valueOf(trimmed)), attemptKey(prefix, String.valueOf(trimmed)));
        }
      }
      published.inc();
      c.output(run.runId());
    }
  }
}
