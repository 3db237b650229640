/**
 * Redis, in the {@code batchserve-io-redis} artifact (Jedis): the prediction sink
 * ({@link dev.batchserve.transforms.redis.RedisSink}, publishing each run by one atomic switch), its
 * server settings ({@link dev.batchserve.transforms.redis.RedisEndpoint}) and the lookup client
 * ({@link dev.batchserve.transforms.redis.RedisPredictionStore}).
 */
package dev.batchserve.transforms.redis;
