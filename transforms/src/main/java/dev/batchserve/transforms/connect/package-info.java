/**
 * What every store connector shares and nothing else: {@link dev.batchserve.transforms.connect.Secret}
 * (a password reference that never travels or prints). Depends on no other batchserve package, so the
 * connectors (the {@code sink} package here, {@code batchserve-io-redis}, {@code batchserve-io-aws})
 * all depend downward on it.
 */
package dev.batchserve.transforms.connect;
