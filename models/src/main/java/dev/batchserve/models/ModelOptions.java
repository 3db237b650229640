package dev.batchserve.models;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * Engine settings that every backend understands in its own way: the device to run on, the number
 * of threads, and for ONNX Runtime the graph optimisation level and the execution provider. Zero /
 * {@code null} leave the engine's own default. Immutable and {@link Serializable}: it travels inside
 * a DoFn to the workers, and it is part of {@link SharedModelCache}'s key (the same model directory
 * with other options is another loaded model).
 *
 * <ul>
 *   <li>TensorFlow: {@code device} {@code "/GPU:0"} makes only GPU 0 visible, {@code "/CPU:0"}
 *       hides all GPUs; threads map to {@code intra_op_parallelism_threads} and
 *       {@code inter_op_parallelism_threads} of the session's {@code ConfigProto}. The optimisation
 *       level and execution provider are ONNX Runtime's and are ignored.
 *   <li>ONNX Runtime: threads map to the session's intra/inter op thread counts,
 *       {@link OptimizationLevel} to {@code SessionOptions.setOptimizationLevel}, and
 *       {@link ExecutionProvider#CUDA} (or a {@code /GPU:n} device) adds the CUDA provider on device
 *       {@code n}; without a CUDA-enabled ONNX Runtime and a GPU that load fails with a
 *       {@link ModelLoadException} saying which option to change.
 *   <li>XGBoost: {@code intraOpThreads} is {@code nthread} (default 1, see the XGBoost backend); a
 *       GPU device or provider fails at load.
 *   <li>Linear models: pure Java on the calling thread; threads are ignored, a GPU fails at load.
 * </ul>
 *
 * <p>What a loaded model actually runs with is {@link Model#runtimeSettings()}.
 *
 * <pre>{@code
 * Model m = Models.load(dir, ModelOptions.defaults()
 *     .withIntraOpThreads(4)
 *     .withOptimizationLevel(ModelOptions.OptimizationLevel.EXTENDED));
 * }</pre>
 */
public final class ModelOptions implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ModelOptions DEFAULTS = new ModelOptions(null, 0, 0, null, null);

  /** ONNX Runtime's graph optimisation levels ({@code GraphOptimizationLevel}). */
  public enum OptimizationLevel {
    /** No graph optimisation ({@code ORT_DISABLE_ALL}). */
    NONE,
    /** Redundant node removal and constant folding ({@code ORT_ENABLE_BASIC}). */
    BASIC,
    /** Basic plus node fusions ({@code ORT_ENABLE_EXTENDED}). */
    EXTENDED,
    /** Extended plus layout optimisations ({@code ORT_ENABLE_LAYOUT}). */
    LAYOUT,
    /** Everything, ONNX Runtime's own default ({@code ORT_ENABLE_ALL}). */
    ALL;

    /** {@code none}, {@code basic}, ...: the name options and job files use, and the JSON form. */
    @JsonValue
    public String optionName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@code none}, {@code basic}, {@code extended}, {@code layout} or {@code all}, any case (also Jackson). */
    @JsonCreator
    public static OptimizationLevel parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("ONNX optimization level must be one of none, basic,"
            + " extended, layout, all, but was " + text);
      }
    }
  }

  /** Where ONNX Runtime runs the graph. */
  public enum ExecutionProvider {
    /** ONNX Runtime's CPU provider (the only one in the {@code onnxruntime} artifact). */
    CPU,
    /**
     * NVIDIA CUDA: needs the {@code com.microsoft.onnxruntime:onnxruntime_gpu} artifact instead of
     * {@code onnxruntime}, CUDA and cuDNN libraries and a GPU on the worker.
     */
    CUDA;

    /** {@code cpu} or {@code cuda}: the name options and job files use, and the JSON form. */
    @JsonValue
    public String optionName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@code cpu} or {@code cuda}, any case (also Jackson). */
    @JsonCreator
    public static ExecutionProvider parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException(
            "ONNX execution provider must be cpu or cuda, but was " + text);
      }
    }
  }

  private final String device;
  private final int intraOpThreads;
  private final int interOpThreads;
  private final OptimizationLevel optimizationLevel;
  private final ExecutionProvider executionProvider;

  private ModelOptions(String device, int intraOpThreads, int interOpThreads,
      OptimizationLevel optimizationLevel, ExecutionProvider executionProvider) {
    this.device = device;
    this.intraOpThreads = intraOpThreads;
    this.interOpThreads = interOpThreads;
    this.optimizationLevel = optimizationLevel;
    this.executionProvider = executionProvider;
  }

  /** Engine defaults everywhere. */
  public static ModelOptions defaults() {
    return DEFAULTS;
  }

  /** Runs on {@code device}, e.g. {@code "/GPU:0"} or {@code "/CPU:0"}; {@code null} for the default. */
  public ModelOptions withDevice(String device) {
    if (device != null && !device.matches("(?i)/(device:)?(CPU|GPU):\\d+")) {
      throw new IllegalArgumentException(
          "device must look like /CPU:0 or /GPU:1, but was " + device);
    }
    return new ModelOptions(device, intraOpThreads, interOpThreads, optimizationLevel, executionProvider);
  }

  /** Threads used inside one operation; 0 for the engine default. */
  public ModelOptions withIntraOpThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("intraOpThreads must be >= 0, but was " + threads);
    }
    return new ModelOptions(device, threads, interOpThreads, optimizationLevel, executionProvider);
  }

  /** Threads running independent operations concurrently; 0 for the engine default. */
  public ModelOptions withInterOpThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("interOpThreads must be >= 0, but was " + threads);
    }
    return new ModelOptions(device, intraOpThreads, threads, optimizationLevel, executionProvider);
  }

  /** ONNX Runtime's graph optimisation level; {@code null} for its default ({@code ALL}). */
  public ModelOptions withOptimizationLevel(OptimizationLevel level) {
    return new ModelOptions(device, intraOpThreads, interOpThreads, level, executionProvider);
  }

  /**
   * ONNX Runtime's execution provider; {@code null} for CPU, or CUDA when the device is a GPU.
   * CUDA with a {@code /CPU:n} device is refused at load.
   */
  public ModelOptions withExecutionProvider(ExecutionProvider provider) {
    return new ModelOptions(device, intraOpThreads, interOpThreads, optimizationLevel, provider);
  }

  /** The device, or {@code null}. */
  public String getDevice() {
    return device;
  }

  /** Whether the device names a GPU. */
  public boolean isGpuDevice() {
    return device != null && device.toUpperCase(Locale.ROOT).contains("GPU");
  }

  /** The device's index ({@code 1} for {@code /GPU:1}), 0 without a device. */
  public int getDeviceIndex() {
    return device == null ? 0 : Integer.parseInt(device.substring(device.lastIndexOf(':') + 1));
  }

  /** Intra-op threads, 0 for default. */
  public int getIntraOpThreads() {
    return intraOpThreads;
  }

  /** Inter-op threads, 0 for default. */
  public int getInterOpThreads() {
    return interOpThreads;
  }

  /** ONNX Runtime's optimisation level, or {@code null} for its default. */
  public OptimizationLevel getOptimizationLevel() {
    return optimizationLevel;
  }

  /** The execution provider as set, or {@code null}; see {@link #effectiveExecutionProvider()}. */
  public ExecutionProvider getExecutionProvider() {
    return executionProvider;
  }

  /** The provider ONNX Runtime is asked for: as set, else CUDA for a GPU device, else CPU. */
  public ExecutionProvider effectiveExecutionProvider() {
    if (executionProvider != null) {
      return executionProvider;
    }
    return isGpuDevice() ? ExecutionProvider.CUDA : ExecutionProvider.CPU;
  }

  /** Whether these options ask for a GPU in any way (a GPU device or the CUDA provider). */
  public boolean wantsGpu() {
    return isGpuDevice() || executionProvider == ExecutionProvider.CUDA;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ModelOptions)) {
      return false;
    }
    ModelOptions other = (ModelOptions) o;
    return Objects.equals(device, other.device)
        && intraOpThreads == other.intraOpThreads
        && interOpThreads == other.interOpThreads
        && optimizationLevel == other.optimizationLevel
        && executionProvider == other.executionProvider;
  }

  @Override
  public int hashCode() {
    return Objects.hash(device, intraOpThreads, interOpThreads, optimizationLevel, executionProvider);
  }

  @Override
  public String toString() {
    return "ModelOptions{device=" + device + ", intraOpThreads=" + intraOpThreads
        + ", interOpThreads=" + interOpThreads + ", optimizationLevel=" + optimizationLevel
        + ", executionProvider=" + executionProvider + "}";
  }

  /** Keeps one shared instance of the defaults after deserialization (harmless either way). */
  private Object readResolve() {
    return equals(DEFAULTS) ? DEFAULTS : this;
  }
}
