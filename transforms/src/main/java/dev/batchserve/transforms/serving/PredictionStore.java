package dev.batchserve.transforms.serving;

import java.util.Map;

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
  /** The served run's prediction for the key, or a fallback ({@code not_found}, ...). */
  Lookup get(String key);

  /**
   * The served prediction if there is one; otherwise a prediction made now from {@code features}
   * with the batch job's feature spec and model; a fallback when that is not possible either.
   */
  Lookup getOrCompute(String key, Map<String, ?> features);

  @Override
  void close();
}
