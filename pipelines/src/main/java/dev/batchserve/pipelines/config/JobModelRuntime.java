package dev.batchserve.pipelines.config;

import dev.batchserve.models.ModelOptions;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code modelRuntime}: the engine settings of the model load on the workers, as
 * {@code --modelIntraOpThreads}, {@code --modelInterOpThreads}, {@code --modelDevice},
 * {@code --onnxOptimizationLevel} and {@code --onnxExecutionProvider}; each field is optional and
 * checked by {@link ModelOptions}.
 *
 * <pre>
 * modelRuntime: {intraOpThreads: 2, interOpThreads: 1, onnxOptimizationLevel: extended}
 * </pre>
 */
public record JobModelRuntime(
    @Nullable Integer intraOpThreads,
    @Nullable Integer interOpThreads,
    @Nullable String device,
    @Nullable String onnxOptimizationLevel,
    @Nullable String onnxExecutionProvider) {

  /**
   * The options these fields stand for.
   *
   * @throws IllegalArgumentException with {@link ModelOptions}' message, for a value it refuses
   */
  public ModelOptions toModelOptions() {
    ModelOptions m = ModelOptions.defaults()
        .withIntraOpThreads(intraOpThreads == null ? 0 : intraOpThreads)
        .withInterOpThreads(interOpThreads == null ? 0 : interOpThreads)
        .withDevice(device);
    if (onnxOptimizationLevel != null) {
      m = m.withOptimizationLevel(ModelOptions.OptimizationLevel.parse(onnxOptimizationLevel));
    }
    if (onnxExecutionProvider != null) {
      m = m.withExecutionProvider(ModelOptions.ExecutionProvider.parse(onnxExecutionProvider));
    }
    return m;
  }
}
