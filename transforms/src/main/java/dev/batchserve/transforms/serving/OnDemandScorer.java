package dev.batchserve.transforms.serving;

import dev.batchserve.models.ModelHandle;
import dev.batchserve.models.SharedModelCache;
import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.PredictionEnvelope;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The on-demand half of {@link PredictionStore#getOrCompute}, shared by every store: given what the
 * store served for a key, computes a prediction with the batch job's feature spec and model when the
 * key has none or only a stored fallback, and features are given. The model is loaded once per JVM
 * through {@link SharedModelCache} on first use and released by {@link #close}. Public for the store
 * connectors in their own artifacts ({@code RedisPredictionStore}, {@code DynamoDbPredictionStore}).
 *
 * <pre>{@code
 * OnDemandScorer onDemand = new OnDemandScorer(spec, modelDir, Clock.systemUTC()); // or (null, null, clock)
 * Lookup l = onDemand.getOrCompute(storedLookup, "acct-7", Map.of("amount", 12.5));
 * onDemand.close();
 * }</pre>
 */
public final class OnDemandScorer implements AutoCloseable {
  private final @Nullable FeatureSpec spec;
  private final @Nullable Path modelDir;
  private final Clock clock;
  private @Nullable ModelHandle model;

  /** Computes nothing unless both {@code spec} and {@code modelDir} are given. */
  public OnDemandScorer(@Nullable FeatureSpec spec, @Nullable Path modelDir, Clock clock) {
    this.spec = spec;
    this.modelDir = modelDir;
    this.clock = clock;
  }

  /** {@code stored}, or a prediction computed from {@code features} when the store had none or a fallback. */
  public Lookup getOrCompute(Lookup stored, String key, @Nullable Map<String, ?> features) {
    boolean storedFallback = stored.prediction().map(Prediction::isFallback).orElse(false);
    if (stored.isPresent() && !storedFallback) {
      return stored;
    }
    if (spec == null || modelDir == null) {
      return stored;
    }
    if (storedFallback && (features == null || features.isEmpty())) {
      return stored;
    }
    String because = storedFallback
        ? stored.prediction().get().getFallbackReason() : stored.fallbackReason().get();
    FeatureOutcome outcome = spec.transform(features == null ? Map.of() : features);
    if (outcome.kind() != FeatureOutcome.Kind.VALID) {
      if (storedFallback) {
        // The batch job's own fallback for the key beats none at all.
        return stored;
      }
      return Lookup.fallback(key, stored.servedRunId().orElse(null),
          "features_" + outcome.kind().name().toLowerCase(Locale.ROOT) + ": " + outcome.reason()
              + (outcome.field() == null ? "" : " (" + outcome.field() + ")"));
    }
    ModelHandle handle = model();
    float[] out;
    synchronized (handle) {
      out = handle.model().predict(new float[][] {outcome.vector()})[0];
    }
    return Lookup.computed(key, PredictionEnvelope.of(out, handle.manifest(), clock.millis(),
        PredictionStore.ON_DEMAND_RUN_ID),
        stored.servedRunId().orElse(null), because);
  }

  private synchronized ModelHandle model() {
    if (model == null) {
      ModelHandle h = SharedModelCache.acquire(modelDir);
      try {
        spec.checkMatches(h.manifest().getInputFeatures());
      } catch (RuntimeException e) {
        h.close();
        throw e;
      }
      model = h;
    }
    return model;
  }

  @Override
  public synchronized void close() {
    if (model != null) {
      model.close();
      model = null;
    }
  }
}
