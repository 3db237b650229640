package dev.batchserve.transforms.values;

import dev.batchserve.models.ModelManifest;
import java.util.Map;

/**
 * Turns one model output row into the {@link Prediction} envelope, following the manifest's output
 * kind: the scores, and a label and a confidence (the top class probability, or max(p, 1-p) for a
 * single score marked as a probability). The batch job ({@code BatchInfer}) and the on-demand
 * predictions of the prediction stores both use it, so both describe a score the same way.
 *
 * <pre>{@code
 * ModelManifest manifest = handle.manifest();
 * float[] out = handle.model().predict(new float[][] {vector})[0];
 * Prediction p = PredictionEnvelope.of(out, manifest, clock.millis(), "on-demand");
 * }</pre>
 */
public final class PredictionEnvelope {
  /** Manifest metadata key and value marking a single score as a probability. */
  public static final String SCORE_METADATA_KEY = "score";

  public static final String SCORE_PROBABILITY = "probability";

  private PredictionEnvelope() {}

  /** The envelope of one model output row of the model {@code manifest} describes. */
  public static Prediction of(float[] out, ModelManifest manifest, long timestampMillis, String runId) {
    Prediction.Builder b =
        Prediction.builder()
            .scores(out)
            .model(manifest.getName(), manifest.getVersion())
            .predictionTimestampMillis(timestampMillis)
            .runId(runId);
    switch (manifest.getOutputKind()) {
      case SCORE:
        if (out.length == 1 && isProbability(manifest) && out[0] >= 0f && out[0] <= 1f) {
          // A probability of the positive class: confident when far from 0.5 either way.
          b.confidence((double) Math.max(out[0], 1f - out[0]));
        }
        break;
      case PROBABILITIES:
        int best = 0;
        for (int i = 1; i < out.length; i++) {
          if (out[i] > out[best]) {
            best = i;
          }
        }
        if (out.length > 0) {
          String classes = manifest.getMetadata() == null ? null : manifest.getMetadata().get("classes");
          String[] names = classes == null ? null : classes.split(",");
          b.label(names != null && names.length == out.length ? names[best].trim() : Integer.toString(best));
          b.confidence((double) out[best]);
        }
        break;
      case EMBEDDING:
      default:
        break;
    }
    return b.build();
  }

  /**
   * Whether a single score is a probability (the manifest's metadata says {@code "score":
   * "probability"}, as a sigmoid classifier's does): only then does it get a confidence.
   */
  public static boolean isProbability(ModelManifest manifest) {
    Map<String, String> meta = manifest.getMetadata();
    return meta != null && SCORE_PROBABILITY.equals(meta.get(SCORE_METADATA_KEY));
  }
}
