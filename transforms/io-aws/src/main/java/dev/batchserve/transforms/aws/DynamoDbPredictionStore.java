package dev.batchserve.transforms.aws;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.serving.OnDemandScorer;
import dev.batchserve.transforms.serving.PredictionStore;
import dev.batchserve.transforms.values.Prediction;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;

/**
 * Reads the predictions that {@link DynamoDbSink} published: reads the pointer item
 * {@code <prefix>#current} (strongly consistent), then the key's item in the namespace it names.
 * The two reads are not one transaction, but a pointer switch never removes the items of the run it
 * replaces (they stay until their TTL), so a lookup always answers from one complete run: the one
 * served when its pointer read happened. Items past their {@code expires_at} are treated as absent,
 * since DynamoDB deletes expired items lazily. Thread-safe (one SDK client); close it when done.
 *
 * <p>With {@link Builder#withModel}, {@link #getOrCompute} predicts keys the batch run did not
 * cover, with the batch job's {@link FeatureSpec#transform} and model, exactly as
 * {@code RedisPredictionStore} does (both through {@link OnDemandScorer}).
 *
 * <pre>{@code
 * try (DynamoDbPredictionStore store = DynamoDbPredictionStore.builder(DynamoDbEndpoint.of("eu-west-1"), "predictions")
 *     .withKeyPrefix("fraud").build()) {
 *   Lookup l = store.get("acct-7");
 * }
 * }</pre>
 */
public final class DynamoDbPredictionStore implements PredictionStore {
  private final DynamoDbClient client;
  private final String table;
  private final String prefix;
  private final Clock clock;
  private final OnDemandScorer onDemand;

  private DynamoDbPredictionStore(Builder b) {
    this.client = b.endpoint.open();
    this.table = b.table;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.onDemand = new OnDemandScorer(b.spec, b.modelDir, b.clock);
  }

  /** A store reading {@code table} through {@code endpoint}. */
  public static Builder builder(DynamoDbEndpoint endpoint, String table) {
    return new Builder(endpoint, table);
  }

  @Override
  public Lookup get(String key) {
    Objects.requireNonNull(key, "key");
    Map<String, AttributeValue> pointer = item(DynamoDbSink.pointerKey(prefix), true);
    if (pointer == null) {
      return Lookup.fallback(key, null, NO_PUBLISHED_RUN);
    }
    String run = pointer.get(DynamoDbSink.RUN_ID_ATTRIBUTE).s();
    String namespace = pointer.get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s();
    // Eventually consistent is enough: the namespace's items were all written before the pointer moved.
    Map<String, AttributeValue> item = item(DynamoDbSink.itemKey(prefix, namespace, key), false);
    if (item == null || expired(item)) {
      return Lookup.fallback(key, run, NOT_FOUND);
    }
    AttributeValue at = pointer.get(DynamoDbSink.PUBLISHED_AT_ATTRIBUTE);
    return Lookup.stored(key, Prediction.fromJson(item.get(DynamoDbSink.PREDICTION_ATTRIBUTE).s()).getValue(), run,
        at == null || at.s() == null ? null : java.time.Instant.parse(at.s()), clock.instant());
  }

  private boolean expired(Map<String, AttributeValue> item) {
    AttributeValue expires = item.get(DynamoDbSink.TTL_ATTRIBUTE);
    return expires != null && Long.parseLong(expires.n()) <= clock.instant().getEpochSecond();
  }

  private @Nullable Map<String, AttributeValue> item(String pk, boolean consistent) {
    Map<String, AttributeValue> item = client.getItem(GetItemRequest.builder().tableName(table)
        .key(Map.of(DynamoDbSink.KEY_ATTRIBUTE, AttributeValue.builder().s(pk).build()))
        .consistentRead(consistent).build()).item();
    return item == null || item.isEmpty() ? null : item;
  }

  @Override
  public Lookup getOrCompute(String key, @Nullable Map<String, ?> features) {
    return onDemand.getOrCompute(get(key), key, features);
  }

  @Override
  public void close() {
    onDemand.close();
    client.close();
  }

  /** Builder for {@link DynamoDbPredictionStore}. */
  public static final class Builder {
    private final DynamoDbEndpoint endpoint;
    private final String table;
    private String prefix = "predictions";
    private Clock clock = Clock.systemUTC();
    private @Nullable FeatureSpec spec;
    private @Nullable Path modelDir;

    private Builder(DynamoDbEndpoint endpoint, String table) {
      this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
      checkArgument(table != null && !table.isBlank(), "table must be set, but was '%s'", table);
      this.table = table;
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

    /** The clock ages, expiry and on-demand timestamps are taken from (default UTC system clock). */
    public Builder withClock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public DynamoDbPredictionStore build() {
      return new DynamoDbPredictionStore(this);
    }
  }
}
