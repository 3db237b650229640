package dev.batchserve.transforms.redis;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.sink.PublishedRun;
import dev.batchserve.transforms.sink.StagedPublish;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.checkerframework.checker.nullness.qual.Nullable;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Writes keyed predictions to Redis under a namespace of their own attempt, and publishes the run by
 * one atomic switch of an alias key, only after every write and every gate.
 *
 * <p>Layout ({@code <p>} = the key prefix, default {@code predictions}; a namespace is
 * {@code <run_id>~<attempt_id>}, see {@link #namespace}):
 *
 * <pre>
 * &lt;p&gt;:&lt;namespace&gt;:&lt;key&gt;  the prediction as JSON ({@link Prediction#toJson}), with a TTL
 * &lt;p&gt;:current             the namespace readers serve; moved only by the publish step
 * &lt;p&gt;:versions            sorted set of published namespaces, scored by prediction timestamp (ms)
 * &lt;p&gt;:run:&lt;run_id&gt;        hash: prediction_timestamp (ms), records, namespace, published_at (ms)
 * &lt;p&gt;:attempt:&lt;run_id&gt;    sorted set of the run's attempt ids, scored by when each started (same TTL)
 * </pre>
 *
 * <p>A reader resolves {@code GET <p>:current}, then {@code GET <p>:<namespace>:<key>}; the lookup
 * client does both in one Lua script, so it never mixes two attempts, and never misses a key of a
 * namespace unlinked right after a switch. The run id a reader reports is the namespace's part
 * before its last {@code ~} ({@link #runIdOf}), which is also the {@code run_id} of the stored JSON.
 * The steps of a run:
 *
 * <ol>
 *   <li>Prepare: register a new attempt id in {@code <p>:attempt:<run_id>}; drop what earlier,
 *       unpublished attempts of the run left.
 *   <li>Write: {@code SET key json PX ttl} into the attempt's own namespace, which nobody reads,
 *       pipelined, flushed every {@code batchSize} records and at the end of each bundle; each
 *       bundle reports how many writes Redis confirmed. Nothing is ever written in place.
 *   <li>Publish, after every write and every {@link #publishAfter} signal ({@code Wait.on}): check
 *       that the confirmed writes equal the input count, then one Lua script checks that this is
 *       still the newest attempt of the run, records the namespace in the versions and the run's
 *       hash (with its {@code published_at}), moves {@code current} unless a newer run is served (a
 *       backfill, see below), and trims the versions to the newest {@code keepVersions} (never the
 *       served namespace); then the replaced namespace of the same run id and the trimmed ones are
 *       unlinked.
 * </ol>
 *
 * <p>Backfills: when {@code current} names another run with a later prediction timestamp
 * ({@link Backfill#isOlder}), decided inside the switch script (so also for runs finishing out of
 * order), the run is published all the same, into its namespace, the versions and its run hash, but
 * {@code current} stays, and the publish step logs {@code backfill: run <id> published; readers
 * still see <id>}. {@link #withForceLatest} moves {@code current} back to it instead. A backfilled
 * namespace lives like any version: until it is trimmed, or its TTL.
 *
 * <p>A failed, rejected or killed attempt never moves {@code current}, so the run served before
 * (even an earlier attempt of the same run id) stays fully served, value for value. Two attempts of
 * one run id at the same time each write their own namespace, and only the newer one (the one that
 * registered last) may publish: the older one fails at its publish, naming the newer one, and drops
 * what it wrote. The TTL (default 1.5 x the run's interval) bounds what a killed attempt leaves
 * behind until the run's next attempt drops it; an attempt that runs longer than the TTL is no
 * longer registered and is refused, since its first values may have expired. Standalone Redis only
 * (the scripts touch keys they compute, which Redis Cluster does not allow).
 *
 * <pre>{@code
 * predictions.apply(RedisSink.<String>to("cache", 6379)
 *     .withRunInfo(run).withKeyPrefix("fraud").withPassword(Secret.fromEnv("REDIS_PASSWORD"))
 *     .publishAfter(keyed.counts()));
 * }</pre>
 *
 * <p><b>Why this class is long.</b> It is one store's whole connector: the builder with its
 * validated settings (each with an example), the staged write into the attempt's namespace, the
 * publish (the pointer switch in one server-side script) and the unlinking of replaced
 * namespaces. Each of these is Redis-specific; the protocol they share with the other stores
 * (stage, verify the counts, publish after the gates) is {@code StagedPublish}.
 */
public final class RedisSink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.redis";
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:/-]{1,200}");

  /** Lua: the run id of a namespace, the part before its last {@code ~} (see {@link #runIdOf}). */
  private static final String RUN_OF =
      "local function runOf(ns)\n"
          + "  local t = string.find(ns, '~[^~]*$')\n"
          + "  if t then return string.sub(ns, 1, t - 1) end\n"
          + "  return ns\n"
          + "end\n";

  /**
   * The atomic switch. KEYS: current, versions, run meta, the run's attempt registry. ARGV: run id,
   * prediction timestamp (ms), versions to keep, records, attempt id, namespace, published at (ms),
   * {@code force} or empty. Returns {'unregistered'}, {'superseded', newer attempt id, its start (us)},
   * or {verdict, served namespace, namespaces to unlink...} where the verdict is {@code published}
   * ({@code current} moved to this namespace) or {@code backfill} (a newer run is served and
   * {@code current} stays on it), and the namespaces to unlink are the replaced one of the same run id,
   * then those trimmed. A backfill is recorded like any publish (versions, run meta) apart from
   * {@code current}; the namespace {@code current} names is never trimmed.
   */
  static final String PUBLISH_SCRIPT =
      RUN_OF
          + "local top = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')\n"
          + "if not top[1] then return {'unregistered'} end\n"
          + "if top[1] ~= ARGV[5] then return {'superseded', top[1], top[2]} end\n"
          + "local cur = redis.call('GET', KEYS[1])\n"
          + "local verdict = 'published'\n"
          + "if cur and runOf(cur) ~= ARGV[1] and ARGV[8] ~= 'force' then\n"
          + "  local curTs = redis.call('ZSCORE', KEYS[2], cur)\n"
          + "  if curTs and tonumber(curTs) > tonumber(ARGV[2]) then verdict = 'backfill' end\n"
          + "end\n"
          + "if verdict == 'published' then cur = ARGV[6] end\n"
          + "local out = {verdict, cur}\n"
          + "for _, v in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
          + "  if v ~= ARGV[6] and v ~= cur and runOf(v) == ARGV[1] then\n"
          + "    redis.call('ZREM', KEYS[2], v)\n"
          + "    table.insert(out, v)\n"
          + "  end\n"
          + "end\n"
          + "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])\n"
          + "redis.call('HSET', KEYS[3], 'prediction_timestamp', ARGV[2], 'records', ARGV[4], 'namespace', ARGV[6],"
          + " 'published_at', ARGV[7])\n"
          + "if verdict == 'published' then redis.call('SET', KEYS[1], ARGV[6]) end\n"
          + "local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])\n"
          + "if extra > 0 then\n"
          + "  local old = redis.call('ZRANGE', KEYS[2], 0, extra - 1)\n"
          + "  for _, r in ipairs(old) do\n"
          + "    if r ~= ARGV[6] and r ~= cur then\n"
          + "      redis.call('ZREM', KEYS[2], r)\n"
          + "      table.insert(out, r)\n"
          + "    end\n"
          + "  end\n"
          + "end\n"
          + "return out\n";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RedisSink.class);

  private RedisEndpoint endpoint;
  private String keyPrefix = "predictions";
  private @Nullable RunInfo runInfo;
  private @Nullable Duration ttl;
  private int keepVersions = 2;
  private int batchSize = 1000;
  private boolean forceLatest;
  private transient List<PCollection<?>> signals = List.of();

  private RedisSink(RedisEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  /**
   * Redis at {@code host:port}: every prediction as JSON under {@code <prefix>:<run_id>~<attempt_id>:<key>}
   * (each attempt its own namespace) with a TTL, published by one atomic switch of
   * {@code <prefix>:current} after every gate (formerly {@code SinkWithMetadata.redis}).
   *
   * <pre>{@code
   * predictions.apply(RedisSink.<String>to("cache", 6379).withRunInfo(run).withKeyPrefix("fraud"));
   * }</pre>
   */
  public static <K> RedisSink<K> to(String host, int port) {
    return new RedisSink<>(RedisEndpoint.of(host, port));
  }

  private RedisSink<K> copy() {
    RedisSink<K> c = new RedisSink<>(endpoint);
    c.keyPrefix = keyPrefix;
    c.runInfo = runInfo;
    c.ttl = ttl;
    c.keepVersions = keepVersions;
    c.batchSize = batchSize;
    c.forceLatest = forceLatest;
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
    checkKeyPrefix(prefix);
    RedisSink<K> c = copy();
    c.keyPrefix = prefix;
    return c;
  }

  /**
   * The check of {@link #withKeyPrefix}, for code that takes a prefix before it builds the sink (a
   * job file): 1 to 200 letters, digits and {@code _ . : / -}.
   *
   * <pre>{@code
   * RedisSink.checkKeyPrefix("fraud/v2"); // returns "fraud/v2"; "a b" throws
   * }</pre>
   *
   * @throws IllegalArgumentException naming the prefix, when it does not match
   */
  public static String checkKeyPrefix(@Nullable String prefix) {
    checkArgument(prefix != null && PREFIX.matcher(prefix).matches(),
        "keyPrefix must match %s, but was '%s'", PREFIX.pattern(), prefix);
    return prefix;
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

  /**
   * Whether a backfill moves {@code current} back to it (default false). A run older than the served
   * one ({@link Backfill#isOlder}) is published into its own namespace and recorded in the versions
   * and {@code <p>:run:<run_id>}, but {@code current} stays on the newer run, unless this is set:
   *
   * <pre>{@code
   * RedisSink.<String>to("cache", 6379).withRunInfo(yesterday).withForceLatest(true);
   * }</pre>
   */
  public RedisSink<K> withForceLatest(boolean force) {
    RedisSink<K> c = copy();
    c.forceLatest = force;
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public RedisSink<K> publishAfter(PCollection<?>... more) {
    RedisSink<K> c = copy();
    c.signals = StagedPublish.plus(signals, more);
    return c;
  }

  /** The TTL that applies: the configured one, else 1.5 x the interval. */
  public Duration effectiveTtl() {
    checkState(runInfo != null, "RedisSink needs withRunInfo(run)");
    return ttl != null ? ttl : runInfo.interval().length().multipliedBy(3).dividedBy(2);
  }

  /** {@code <prefix>:<namespace>:<key>}: where one prediction of one attempt of a run lives. */
  public static String valueKey(String prefix, String namespace, String key) {
    return prefix + ":" + namespace + ":" + key;
  }

  /**
   * {@code <run_id>~<attempt_id>}: the namespace one attempt of a run writes, and {@code current}
   * names once it is published. Run ids never contain {@code ~} ({@link RunInfo#runId}).
   */
  public static String namespace(String runId, String attemptId) {
    return runId + "~" + attemptId;
  }

  /**
   * The run id of a namespace (what {@code <p>:current} holds): the part before its last {@code ~};
   * a namespace without one (written before attempts had namespaces) is the run id itself.
   */
  public static String runIdOf(String namespace) {
    int t = namespace.lastIndexOf('~');
    return t < 0 ? namespace : namespace.substring(0, t);
  }

  /** {@code <prefix>:current}: the alias readers resolve; holds a namespace. */
  public static String currentKey(String prefix) {
    return prefix + ":current";
  }

  /** {@code <prefix>:versions}: the published namespaces, scored by prediction timestamp. */
  public static String versionsKey(String prefix) {
    return prefix + ":versions";
  }

  /** {@code <prefix>:attempt:<run_id>}: the run's attempt ids, scored by when each started (Redis time, us). */
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
    RunInfo run = runInfo;
    long ttlMillis = effectiveTtl().toMillis();
    return StagedPublish.<K>of("RedisSink", METRICS_NAMESPACE, run, signals)
        .preparedBy(new PrepareFn(endpoint, keyPrefix, run, ttlMillis, forceLatest))
        .writing((in, attempt) -> {
          PCollectionView<String> attemptId = attempt.view();
          PCollection<Long> confirmed = in
              .apply("Write", ParDo.of(new WriteFn<K>(endpoint, keyPrefix, run.runId(), ttlMillis, batchSize, attemptId))
                  .withSideInputs(attemptId))
              .setCoder(VarLongCoder.of());
          return StagedPublish.Staged.confirmed(confirmed, "Redis " + endpoint.address(),
              new Switch(endpoint, keyPrefix, run, keepVersions, forceLatest));
        })
        .expand(input);
  }

  /** A new attempt id: when it was made (UTC, to the second) and a random part, e.g. {@code 20261129T031502Z-9f3a61c2}. */
  static String newAttemptId() {
    return ATTEMPT_TIME.format(java.time.Instant.now()) + "-"
        + String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
  }

  private static final DateTimeFormatter ATTEMPT_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** Unlinks every key of one namespace ({@code <prefix>:<namespace>:*}); returns how many. */
  static long dropNamespace(Jedis jedis, String prefix, String namespace) {
    ScanParams match = new ScanParams().match(globEscape(valueKey(prefix, namespace, "")) + "*").count(1000);
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

  private static String globEscape(String s) {
    return s.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
  }

  /**
   * Drops the namespaces of the run's registered attempts other than {@code keep} that are neither
   * served nor a kept version (unless already in {@code dropped}), and forgets those attempts. They
   * can never be published: an attempt publishes only while it is the newest, and {@code keep} is
   * newer. Each drop scans the keyspace, so the registry is kept down to the attempts still needed.
   */
  static void dropOtherAttempts(Jedis jedis, String prefix, String runId, String keep, Set<String> dropped) {
    String served = jedis.get(currentKey(prefix));
    for (String other : jedis.zrange(attemptKey(prefix, runId), 0, -1)) {
      String ns = namespace(runId, other);
      if (other.equals(keep) || ns.equals(served) || jedis.zscore(versionsKey(prefix), ns) != null) {
        continue;
      }
      if (!dropped.contains(ns)) {
        dropNamespace(jedis, prefix, ns);
      }
      jedis.zrem(attemptKey(prefix, runId), other);
    }
  }

  /**
   * Before attempts had namespaces, {@code <p>:attempt:<run_id>} was a plain marker and the run wrote
   * {@code <p>:<run_id>:<key>}: replace the marker by a registry, dropping that namespace unless it is
   * served or a kept version (then the next publish of the run replaces it, or trimming drops it).
   */
  private static void upgradeLegacyMarker(Jedis jedis, String prefix, String runId) {
    String registry = attemptKey(prefix, runId);
    String type = jedis.type(registry);
    if ("none".equals(type) || "zset".equals(type)) {
      return;
    }
    jedis.del(registry);
    if (!runId.equals(jedis.get(currentKey(prefix))) && jedis.zscore(versionsKey(prefix), runId) == null) {
      dropNamespace(jedis, prefix, runId);
    }
  }

  /** The run id of the served run when it is newer than {@code run} (so {@code run} is a backfill), else null. */
  static @Nullable String newerServedRun(Jedis jedis, String prefix, RunInfo run) {
    String current = jedis.get(currentKey(prefix));
    if (current == null) {
      return null;
    }
    Double served = jedis.zscore(versionsKey(prefix), current);
    return served != null && Backfill.isOlder(run, runIdOf(current), java.time.Instant.ofEpochMilli(served.longValue()))
        ? runIdOf(current) : null;
  }

  /** Redis server time in microseconds: orders attempts by when they registered, whatever the workers' clocks. */
  private static double redisMicros(Jedis jedis) {
    List<String> time = jedis.time();
    return Long.parseLong(time.get(0)) * 1_000_000d + Long.parseLong(time.get(1));
  }

  private static final class PrepareFn extends DoFn<String, String> {
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final RunInfo run;
    private final long ttlMillis;
    private final boolean forceLatest;

    PrepareFn(RedisEndpoint endpoint, String prefix, RunInfo run, long ttlMillis, boolean forceLatest) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.run = run;
      this.ttlMillis = ttlMillis;
      this.forceLatest = forceLatest;
    }

    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) {
      String attemptId = newAttemptId();
      try (Jedis jedis = endpoint.open()) {
        // Decided again at publish, in the switch script: a newer run may be published meanwhile.
        String newer = newerServedRun(jedis, prefix, run);
        if (newer != null) {
          LOG.info("Run {} is older than the run {} served under {}: it will be published as a backfill{}",
              run.runId(), newer, currentKey(prefix), forceLatest ? ", moving current back to it (forceLatest)" : "");
        }
        // Registered before anything is written: from now on no older attempt of the run may publish.
        // The registry expires with the values, so an attempt outliving its TTL is refused at publish.
        upgradeLegacyMarker(jedis, prefix, runId);
        String registry = attemptKey(prefix, runId);
        jedis.zadd(registry, redisMicros(jedis), attemptId);
        jedis.pexpire(registry, ttlMillis);
        // Leftovers of earlier attempts are nobody's: drop them, so that a re-run adds no keys.
        dropOtherAttempts(jedis, prefix, runId, attemptId, Set.of());
      } catch (JedisException e) {
        throw endpoint.failure("preparing attempt " + attemptId + " of run " + runId, e);
      }
      out.output(attemptId);
    }
  }

  private static final class WriteFn<K> extends DoFn<KV<K, Prediction>, Long> {
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final String runId;
    private final long ttlMillis;
    private final int batchSize;
    private final PCollectionView<String> attemptId;
    private final Counter records = Metrics.counter(METRICS_NAMESPACE, "records_written");
    private final Distribution batches = Metrics.distribution(METRICS_NAMESPACE, "records_per_batch");
    private transient @Nullable Jedis jedis;
    private transient redis.clients.jedis.@Nullable Pipeline pipeline;
    private transient @Nullable String namespace;
    private transient int pending;
    private transient long confirmedInBundle;

    WriteFn(RedisEndpoint endpoint, String prefix, String runId, long ttlMillis, int batchSize,
        PCollectionView<String> attemptId) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.runId = runId;
      this.ttlMillis = ttlMillis;
      this.batchSize = batchSize;
      this.attemptId = attemptId;
    }

    @Setup
    public void setup() {
      try {
        jedis = endpoint.open();
      } catch (JedisException e) {
        throw endpoint.failure("connecting to write run " + runId, e);
      }
    }

    @StartBundle
    public void startBundle() {
      pipeline = jedis.pipelined();
      pending = 0;
      confirmedInBundle = 0;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      if (namespace == null) {
        namespace = namespace(runId, c.sideInput(attemptId));
      }
      KV<K, Prediction> kv = c.element();
      String key = String.valueOf(kv.getKey());
      pipeline.set(valueKey(prefix, namespace, key), kv.getValue().toJson(key), SetParams.setParams().px(ttlMillis));
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
      List<Object> replies;
      try {
        replies = pipeline.syncAndReturnAll();
      } catch (JedisException e) {
        throw endpoint.failure("writing run " + runId + " into namespace " + namespace, e);
      }
      for (Object reply : replies) {
        if (reply instanceof JedisException) {
          throw endpoint.failure("writing run " + runId + " into namespace " + namespace, (JedisException) reply);
        }
        if (reply instanceof Exception) {
          throw new IllegalStateException("Redis " + endpoint.address() + " refused a write of run " + runId,
              (Exception) reply);
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

  /** The publish: one switch script, then the replaced and trimmed namespaces are unlinked. */
  private static final class Switch implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final RedisEndpoint endpoint;
    private final String prefix;
    private final RunInfo run;
    private final int keepVersions;
    private final boolean forceLatest;

    Switch(RedisEndpoint endpoint, String prefix, RunInfo run, int keepVersions, boolean forceLatest) {
      this.endpoint = endpoint;
      this.prefix = prefix;
      this.run = run;
      this.keepVersions = keepVersions;
      this.forceLatest = forceLatest;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context c) {
      String attemptId = c.attempt();
      String ns = namespace(run.runId(), attemptId);
      long records = c.records();
      try (Jedis jedis = endpoint.open()) {
        List<?> out = (List<?>) jedis.eval(PUBLISH_SCRIPT,
            List.of(currentKey(prefix), versionsKey(prefix), runKey(prefix, run.runId()), attemptKey(prefix, run.runId())),
            List.of(run.runId(), Long.toString(run.predictionTimestamp().toEpochMilli()),
                Integer.toString(keepVersions), Long.toString(records), attemptId, ns,
                Long.toString(System.currentTimeMillis()), forceLatest ? "force" : ""));
        String verdict = String.valueOf(out.get(0));
        if (!"published".equals(verdict) && !"backfill".equals(verdict)) {
          // Refused: nobody will ever read this namespace.
          dropNamespace(jedis, prefix, ns);
          jedis.zrem(attemptKey(prefix, run.runId()), attemptId);
          throw new IllegalStateException(refusal(verdict, out, attemptId));
        }
        // The switch is done: the replaced and trimmed namespaces are no longer resolvable (the
        // lookup script reads current and the value atomically), so their keys can go.
        Set<String> dropped = new HashSet<>();
        for (Object gone : out.subList(2, out.size())) {
          String old = String.valueOf(gone);
          dropNamespace(jedis, prefix, old);
          dropped.add(old);
          String oldRun = runIdOf(old);
          if (!oldRun.equals(run.runId())) {
            jedis.del(runKey(prefix, oldRun), attemptKey(prefix, oldRun));
          }
        }
        // Only this attempt of the run stays registered: the next one need not look at the others.
        dropOtherAttempts(jedis, prefix, run.runId(), attemptId, dropped);
        if ("backfill".equals(verdict)) {
          return StagedPublish.Published.backfill(run.runId(), runIdOf(String.valueOf(out.get(1))),
              "Redis " + endpoint.address() + ": " + currentKey(prefix) + " unchanged");
        }
        return StagedPublish.Published.latest(run.runId());
      } catch (JedisException e) {
        throw endpoint.failure("publishing attempt " + attemptId + " of run " + run.runId(), e);
      }
    }

    private String refusal(String verdict, List<?> out, String attemptId) {
      String attempt = "run " + run.runId() + ": attempt " + attemptId;
      switch (verdict) {
        case "superseded":
          return attempt + " was superseded by the newer attempt " + out.get(1) + " (registered "
              + java.time.Instant.ofEpochMilli((long) (Double.parseDouble(String.valueOf(out.get(2))) / 1000))
              + " in " + attemptKey(prefix, run.runId()) + " on Redis " + endpoint.address()
              + "), which alone may publish the run; not publishing"
              + " (its values were dropped). If that attempt died, re-run the run: its newest attempt publishes.";
        case "unregistered":
          return attempt + " is no longer registered in " + attemptKey(prefix, run.runId()) + " on Redis "
              + endpoint.address()
              + " (the registry expires with the values, after the TTL): its first values may have expired;"
              + " not publishing. Re-run it, or raise the TTL (withTtl / --redisTtl) above the job's duration.";
        default:
          return attempt + ": unexpected answer of the publish script: " + out;
      }
    }
  }
}
