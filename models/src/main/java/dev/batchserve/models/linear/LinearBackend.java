package dev.batchserve.models.linear;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import java.nio.file.Path;

/**
 * The {@link ModelBackend} for {@link ModelFormat#LINEAR_JSON}; options are ignored (single-threaded
 * pure Java).
 *
 * <pre>{@code
 * Model m = Models.load(dirWithLinearModelJson); // dispatches here
 * }</pre>
 */
public final class LinearBackend implements ModelBackend {

  @Override
  public String format() {
    return ModelFormat.LINEAR_JSON;
  }

  @Override
  public Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    return LinearModel.load(modelDir, manifest);
  }
}
