package dev.batchserve.models.tensorflow;

import dev.batchserve.models.ModelOptions;
import java.util.Locale;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GPUOptions;

/**
 * Session settings for {@link TensorFlowModel}, turned into the TensorFlow {@code ConfigProto} used
 * when loading the SavedModel.
 *
 * <ul>
 *   <li>{@code device "/GPU:n"}: only GPU {@code n} is visible to the session (so every op that
 *       has a GPU kernel runs there) and GPU memory grows on demand instead of being grabbed whole,
 *       which lets several worker processes share a GPU.
 *   <li>{@code device "/CPU:n"}: no GPU is visible, even on a GPU machine.
 *   <li>intra/inter op threads: TensorFlow's own thread pools; 0 keeps TensorFlow's default (one
 *       thread per core). On small CPU workers a low count avoids oversubscription when several
 *       DoFn threads predict at once.
 * </ul>
 *
 * <p>Soft placement is always on so that ops without a GPU kernel fall back to the CPU. The GPU
 * settings are not exercised by the CPU-only test suite.
 *
 * <pre>{@code
 * TensorFlowOptions opts = TensorFlowOptions.defaults().withDevice("/GPU:0").withIntraOpThreads(2);
 * Model model = TensorFlowModel.load(dir, ModelManifest.read(dir), opts);
 * }</pre>
 */
public final class TensorFlowOptions {
  private final ModelOptions options;

  private TensorFlowOptions(ModelOptions options) {
    this.options = options;
  }

  /** TensorFlow's defaults. */
  public static TensorFlowOptions defaults() {
    return new TensorFlowOptions(ModelOptions.defaults());
  }

  /** The TensorFlow reading of backend-neutral options. */
  public static TensorFlowOptions from(ModelOptions options) {
    return new TensorFlowOptions(options);
  }

  /** Runs on {@code "/GPU:n"} or {@code "/CPU:n"}. */
  public TensorFlowOptions withDevice(String device) {
    return new TensorFlowOptions(options.withDevice(device));
  }

  /** {@code intra_op_parallelism_threads}; 0 for the default. */
  public TensorFlowOptions withIntraOpThreads(int threads) {
    return new TensorFlowOptions(options.withIntraOpThreads(threads));
  }

  /** {@code inter_op_parallelism_threads}; 0 for the default. */
  public TensorFlowOptions withInterOpThreads(int threads) {
    return new TensorFlowOptions(options.withInterOpThreads(threads));
  }

  /** The device, or {@code null}. */
  public String getDevice() {
    return options.getDevice();
  }

  /** The session configuration these options stand for. */
  public ConfigProto toConfigProto() {
    ConfigProto.Builder config = ConfigProto.newBuilder().setAllowSoftPlacement(true);
    if (options.getIntraOpThreads() > 0) {
      config.setIntraOpParallelismThreads(options.getIntraOpThreads());
    }
    if (options.getInterOpThreads() > 0) {
      config.setInterOpParallelismThreads(options.getInterOpThreads());
    }
    String device = options.getDevice();
    if (device != null) {
      String upper = device.toUpperCase(Locale.ROOT);
      String index = upper.substring(upper.lastIndexOf(':') + 1);
      if (upper.contains("GPU")) {
        config.setGpuOptions(
            GPUOptions.newBuilder().setVisibleDeviceList(index).setAllowGrowth(true).build());
      } else {
        config.putDeviceCount("GPU", 0);
      }
    }
    return config.build();
  }

  @Override
  public String toString() {
    return "TensorFlowOptions" + options;
  }
}
