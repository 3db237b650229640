package dev.batchserve.models.tensorflow;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import java.nio.file.Path;

/**
 * The {@link ModelBackend} for {@link ModelFormat#TF_SAVED_MODEL}; used by
 * {@link dev.batchserve.models.Models}, rarely directly.
 *
 * <pre>{@code
 * Model m = new TensorFlowBackend().load(dir, ModelManifest.read(dir), ModelOptions.defaults());
 * }</pre>
 */
public final class TensorFlowBackend implements ModelBackend {

  @Override
  public String format() {
    return ModelFormat.TF_SAVED_MODEL;
  }

  @Override
  public Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    return TensorFlowModel.load(modelDir, manifest, TensorFlowOptions.from(options));
  }
}
