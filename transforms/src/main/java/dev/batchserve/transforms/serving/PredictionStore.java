package dev.batchserve.transforms.serving;

import dev.batchserve.transforms.values.Reasons;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Online read side of the batch predictions: what the serving path calls per request.
 *
 * <pre>{@code
 * try (PredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of("cache", 6379))
 *     .withKeyPrefix("fraud").withModel(spec, modelDir).build()) {
 *   Lookup l = store.getOrCompute("acct-7", Map.of("amount", 12.5, "country", "NL"));
 * }
 * }</pre>
 */
public interface PredictionStore extends AutoCloseable {
  /** The run id of a prediction made on demand by {@link #getOrCompute} (its timestamp is the lookup's). */
  String ON_DEMAND_RUN_ID = "on-demand";

  /** Fallback reason: the served run has no row for the key. */
  String NOT_FOUND = Reasons.NOT_FOUND;

  /** Fallback reason: no run has been published under the store's prefix yet. */
  String NO_PUBLISHED_RUN = Reasons.NO_PUBLISHED_RUN;

  /** The served run's prediction for the key, or a fallback ({@code not_found}, ...). */
  Lookup get(String key);

  /**
   * The served model prediction if there is one; otherwise a prediction made now from
   * {@code features} with the batch job's feature spec and model, also when the served row is only
   * a fallback ({@code cold_start}, {@code abstain}, ...): {@link Lookup#computedBecause()} says
   * why. When no prediction can be made, the stored fallback row if there is one, else a fallback
   * lookup saying why. {@code features} may be null or empty: then a stored fallback row is served.
   */
  Lookup getOrCompute(String key, @Nullable Map<String, ?> features);

  @Override
  void close();
}
