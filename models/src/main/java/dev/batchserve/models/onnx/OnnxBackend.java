package dev.batchserve.models.onnx;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import java.nio.file.Path;

/**
 * The {@link ModelBackend} for {@link ModelFormat#ONNX}. ONNX Runtime is an optional dependency of
 * batchserve-models: add {@code com.microsoft.onnxruntime:onnxruntime:1.28.0} (not 1.29.0, which
 * crashes the JVM when the command line exceeds ~4 KB) to use it.
 *
 * <pre>{@code
 * Model m = Models.load(onnxModelDir); // dispatches here
 * }</pre>
 */
public final class OnnxBackend implements ModelBackend {

  @Override
  public String format() {
    return ModelFormat.ONNX;
  }

  @Override
  public boolean isAvailable() {
    try {
      Class.forName("ai.onnxruntime.OrtEnvironment", false, OnnxBackend.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Override
  public Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    // OnnxModel is only resolved here, so this class loads without ONNX Runtime on the class path.
    return OnnxModel.load(modelDir, manifest, options);
  }
}
