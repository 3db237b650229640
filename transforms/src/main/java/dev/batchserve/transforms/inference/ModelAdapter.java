package dev.batchserve.transforms.inference;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.transforms.values.Prediction;
import java.io.Serializable;
import java.nio.file.Path;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Fits a model to {@link BatchInfer} when the model does not take one dense row per record, or its
 * output row is not the prediction's scores: a model with several named inputs, or one whose
 * outputs are item indices to be named. BatchInfer still batches, bisects a failing batch down to
 * the records that fail alone (dead letters, reason {@code inference_error}), loads the model once
 * per JVM and stamps the envelope; the adapter only says how a batch of rows is run and how an
 * output row becomes a {@link Prediction}.
 *
 * <p>The adapter is serialized with the pipeline; {@link #adapt} runs on the workers, in
 * {@code @Setup} of each BatchInfer DoFn instance, with the shared loaded model.
 *
 * <pre>{@code
 * // The model's output row is {class index, score}; the manifest's metadata names the classes.
 * final class NamedClass implements ModelAdapter {
 *   public Adapted adapt(Model model, ModelManifest manifest, Path modelDir) {
 *     List<String> labels = List.of(manifest.getMetadata().get("classes").split(","));
 *     return new Adapted() {
 *       public int inputSize() { return model.signature().inputSize(); }
 *       public float[][] predict(float[][] rows) { return model.predict(rows); }
 *       public Prediction toPrediction(float[] out, Prediction.Builder envelope) {
 *         return envelope.label(labels.get((int) out[0])).scores(new float[] {out[1]}).build();
 *       }
 *     };
 *   }
 * }
 *
 * vectors.apply(BatchInfer.<String>withModel("/models/intent/2").withRunInfo(run)
 *     .withModelAdapter(new NamedClass()));
 * }</pre>
 */
public interface ModelAdapter extends Serializable {
  /**
   * Binds the adapter to the loaded model; called once per DoFn instance. Throw an
   * {@link IllegalArgumentException} that says what the model lacks to refuse a model the adapter
   * cannot run: the run then fails with that message.
   *
   * @param model the model shared through the per-JVM cache; do not close it
   * @param manifest the model's manifest (a code model's {@code CodeModel.manifest()})
   * @param modelDir the local model directory, or {@code null} for a model given in code
   */
  Adapted adapt(Model model, ModelManifest manifest, @Nullable Path modelDir);

  /** A model bound by {@link #adapt}: what BatchInfer calls for each batch and output row. */
  interface Adapted {
    /**
     * Values in every input row: a record with another count becomes a dead letter
     * ({@code wrong_feature_count}) without reaching {@link #predict}; -1 when rows vary in length
     * and {@link #predict} checks them.
     */
    int inputSize();

    /**
     * One output row per input row, in order. Throwing fails the batch: BatchInfer then splits it
     * in halves until the records that fail alone are isolated.
     */
    float[][] predict(float[][] rows);

    /**
     * The prediction of one output row. {@code envelope} already carries the model's name and
     * version, the prediction timestamp and the run id; add what the row says and build it.
     * Throwing fails the batch, as in {@link #predict}.
     */
    Prediction toPrediction(float[] output, Prediction.Builder envelope);
  }
}
