package dev.batchserve.models;

import java.util.Objects;

/**
 * Engine settings that every backend understands in its own way: the device to run on and the
 * number of threads. Zero / {@code null} leave the engine's own default.
 *
 * <ul>
 *   <li>TensorFlow: {@code device} {@code "/GPU:0"} makes only GPU 0 visible, {@code "/CPU:0"}
 *       hides all GPUs; threads map to {@code intra_op_parallelism_threads} and
 *       {@code inter_op_parallelism_threads} of the session's {@code ConfigProto}.
 *   <li>ONNX Runtime: threads map to the session's intra/inter op thread counts.
 *   <li>XGBoost: {@code intraOpThreads} is {@code nthread} (default 1, see the XGBoost backend).
 * </ul>
 *
 * <pre>{@code
 * Model m = Models.load(dir, ModelOptions.defaults().withDevice("/GPU:0").withIntraOpThreads(4));
 * }</pre>
 */
public final class ModelOptions {
  private static final ModelOptions DEFAULTS = new ModelOptions(null, 0, 0);

  private final String device;
  private final int intraOpThreads;
  private final int interOpThreads;

  private ModelOptions(String device, int intraOpThreads, int interOpThreads) {
    this.device = device;
    this.intraOpThreads = intraOpThreads;
    this.interOpThreads = interOpThreads;
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
    return new ModelOptions(device, intraOpThreads, interOpThreads);
  }

  /** Threads used inside one operation; 0 for the engine default. */
  public ModelOptions withIntraOpThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("intraOpThreads must be >= 0, but was " + threads);
    }
    return new ModelOptions(device, threads, interOpThreads);
  }

  /** Threads running independent operations concurrently; 0 for the engine default. */
  public ModelOptions withInterOpThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("interOpThreads must be >= 0, but was " + threads);
    }
    return new ModelOptions(device, intraOpThreads, threads);
  }

  /** The device, or {@code null}. */
  public String getDevice() {
    return device;
  }

  /** Intra-op threads, 0 for default. */
  public int getIntraOpThreads() {
    return intraOpThreads;
  }

  /** Inter-op threads, 0 for default. */
  public int getInterOpThreads() {
    return interOpThreads;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ModelOptions)) {
      return false;
    }
    ModelOptions other = (ModelOptions) o;
    return Objects.equals(device, other.device)
        && intraOpThreads == other.intraOpThreads
        && interOpThreads == other.interOpThreads;
  }

  @Override
  public int hashCode() {
    return Objects.hash(device, intraOpThreads, interOpThreads);
  }

  @Override
  public String toString() {
    return "ModelOptions{device=" + device + ", intraOpThreads=" + intraOpThreads
        + ", interOpThreads=" + interOpThreads + "}";
  }
}
