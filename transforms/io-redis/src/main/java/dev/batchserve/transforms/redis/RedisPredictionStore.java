package dev.batchserve.transforms.redis;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.models.SharedModelCache;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.serving.OnDemandScorer;
import dev.batchserve.transforms.serving.PredictionStore;
import dev.batchserve.transforms.values.Prediction;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Reads the predictions that {@link RedisSink} published: resolves {@code <prefix>:current} (the
 * served attempt's namespace) and reads {@code <prefix>:<namespace>:<key>} in ONE Lua script, so a
 * lookup never mixes two runs or attempts, and never misses a key of a namespace the sink unlinks
 * right after switching away from it. The run id it reports is the namespace's run id
 * ({@link RedisSink#runIdOf}). Thread-safe (a connection pool); close it when done. A failed
 * connection or command throws an exception naming the server's {@code host:port}.
 *
 * <p>With {@link Builder#withModel}, {@link #getOrCompute} predicts, with the same
 * {@link FeatureSpec#transform} and the same model (loaded once per JVM by {@link SharedModelCache})
 * as the batch job, the keys the batch run did not cover and the keys it stored only a fallback for
 * ({@code cold_start}, {@code abstain}, {@code duplicate_key}, ...); such predictions carry run id
 * {@value #ON_DEMAND_RUN_ID} and the lookup time as their prediction timestamp, and
 * {@link Lookup#computedBecause()} says why they were computed.
 *
 * <pre>{@code
 * try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.parse("cache:6379"))
 *     .withKeyPrefix("fraud").build()) {
 *   Lookup l = store.get("acct-7");
 * }
 * }</pre>
 */
public final class RedisPredictionStore implements PredictionStore {
  /**
   * KEYS[1] = the alias; ARGV: prefix, key. Returns {} or {namespace, published at} or {namespace,
   * published at, value}; published at is the run hash's {@code published_at} (ms) when that hash
   * describes this namespace, else empty (a run published before it was recorded).
   */
  static final String READ_SCRIPT =
      "local ns = redis.call('GET', KEYS[1])\n"
          + "if not ns then return {} end\n"
          + "local t = string.find(ns, '~[^~]*$')\n"
          + "local run = ns\n"
          + "if t then run = string.sub(ns, 1, t - 1) end\n"
          + "local meta = redis.call('HMGET', ARGV[1] .. ':run:' .. run, 'namespace', 'published_at')\n"
          + "local at = ''\n"
          + "if meta[1] == ns and meta[2] then at = meta[2] end\n"
          + "local v = redis.call('GET', ARGV[1] .. ':' .. ns .. ':' .. ARGV[2])\n"
          + "if not v then return {ns, at} end\n"
          + "return {ns, at, v}\n";

  private final RedisEndpoint endpoint;
  private final JedisPool pool;
  private final String prefix;
  private final Clock clock;
  private final OnDemandScorer onDemand;

  private RedisPredictionStore(Builder b) {
    this.endpoint = b.endpoint;
    this.pool = b.endpoint.pool(b.maxConnections);
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.onDemand = new OnDemandScorer(b.spec, b.modelDir, b.clock);
  }

  public static Builder builder(RedisEndpoint endpoint) {
    return new Builder(endpoint);
  }

  @Override
  public Lookup get(String key) {
    Objects.requireNonNull(key, "key");
    List<?> reply;
    try (Jedis j = pool.getResource()) {
      reply = (List<?>) j.eval(READ_SCRIPT, List.of(RedisSink.currentKey(prefix)), List.of(prefix, key));
    } catch (JedisException e) {
      throw endpoint.failure("looking up key '" + key + "' under prefix " + prefix, e);
    }
    if (reply.isEmpty()) {
      return Lookup.fallback(key, null, NO_PUBLISHED_RUN);
    }
    String run = RedisSink.runIdOf(String.valueOf(reply.get(0)));
    if (reply.size() < 3) {
      return Lookup.fallback(key, run, NOT_FOUND);
    }
    String at = String.valueOf(reply.get(1));
    Instant publishedAt = at.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(at));
    return Lookup.stored(key, Prediction.fromJson(String.valueOf(reply.get(2))).getValue(), run, publishedAt,
        clock.instant());
  }

  /**
   * The stored model prediction if there is one. Otherwise, when this store has the batch job's
   * spec and model: for a key with no stored row, a prediction made now from {@code features} (or a
   * fallback saying why the features would not do); for a key whose stored row is a fallback
   * ({@link Prediction#isFallback}), a prediction made now when {@code features} are given and
   * valid, else the stored fallback as it is.
   */
  @Override
  public Lookup getOrCompute(String key, @Nullable Map<String, ?> features) {
    return onDemand.getOrCompute(get(key), key, features);
  }

  @Override
  public void close() {
    onDemand.close();
    pool.close();
  }

  /** Builder for {@link RedisPredictionStore}. */
  public static final class Builder {
    private final RedisEndpoint endpoint;
    private String prefix = "predictions";
    private Clock clock = Clock.systemUTC();
    private int maxConnections = 8;
    private @Nullable FeatureSpec spec;
    private @Nullable Path modelDir;

    private Builder(RedisEndpoint endpoint) {
      this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    }

    /** The key prefix the sink wrote with (default {@code predictions}). */
    public Builder withKeyPrefix(String prefix) {
      checkArgument(prefix != null && !prefix.isEmpty(), "keyPrefix must be set, but was '%s'", prefix);
      this.prefix = prefix;
      return this;
    }

    /** The batch job's fitted feature spec and model directory, for {@link #getOrCompute}. */
    public Builder withModel(FeatureSpec spec, Path modelDir) {
      this.spec = Objects.requireNonNull(spec, "spec");
      this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
      return this;
    }

    /** The clock ages and on-demand timestamps are taken from (default UTC system clock). */
    public Builder withClock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder withMaxConnections(int n) {
      checkArgument(n > 0, "maxConnections must be > 0, but was %s", n);
      this.maxConnections = n;
      return this;
    }

    public RedisPredictionStore build() {
      return new RedisPredictionStore(this);
    }
  }
}
