package dev.batchserve.models.linear;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import java.nio.file.Path;

/**
 * The {@link ModelBackend} for {@link ModelFormat#LINEAR_JSON}: single-threaded pure Java, so
 * thread options are ignored and a GPU device or provider is refused at load.
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
    if (options.wantsGpu()) {
      throw new ModelLoadException("a linear model runs in pure Java on the CPU, but " + options
          + " asks for a GPU: drop --modelDevice=" + options.getDevice() + " / --onnxExecutionProvider="
          + options.getExecutionProvider() + " for this model");
    }
    return LinearModel.load(modelDir, manifest);
  }
}
