package dev.batchserve.models.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.ValueInfo;
import dev.batchserve.models.AbstractModel;
import dev.batchserve.models.FileEntry;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An ONNX model run with ONNX Runtime, on CPU or, with {@link ModelOptions.ExecutionProvider#CUDA}
 * and the {@code onnxruntime_gpu} artifact, on a GPU. The session is created once and shared: {@code
 * OrtSession.run} may be called from many threads. Input and output tensors are closed after every
 * call.
 *
 * <pre>{@code
 * try (Model model = OnnxModel.load(dir, ModelManifest.read(dir), ModelOptions.defaults())) {
 *   float[][] y = model.predict(batch);
 * }
 * }</pre>
 */
public final class OnnxModel extends AbstractModel {
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private final int features;
  private final Map<String, String> settings;

  private OnnxModel(OrtEnvironment environment, OrtSession session, ModelSignature signature,
      List<String> featureNames, String inputName, String outputName, Map<String, String> settings) {
    super(signature, featureNames, (int) signature.input(inputName).lastDimension(),
        valuesPerRow(signature.output(outputName)));
    this.environment = environment;
    this.session = session;
    this.inputName = inputName;
    this.outputName = outputName;
    this.features = (int) signature.input(inputName).lastDimension();
    this.settings = settings;
  }

  /**
   * Opens the manifest's {@code .onnx} file (the first listed).
   *
   * @throws ModelLoadException if there is no {@code .onnx} file, the CUDA provider is requested
   *     where ONNX Runtime has none (the message names the option to change), or ONNX Runtime
   *     rejects the file
   */
  public static OnnxModel load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    String file = manifest.getFiles().stream().map(FileEntry::getPath)
        .filter(p -> p.endsWith(".onnx")).findFirst()
        .orElseThrow(() -> new ModelLoadException("no .onnx file listed in the manifest of " + modelDir));
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put(ENGINE, "onnxruntime " + environment.getVersion());
    OrtSession session;
    try (OrtSession.SessionOptions sessionOptions = new OrtSession.SessionOptions()) {
      // Every setting is passed explicitly, the defaults included, so the settings reported are
      // exactly those the session was created with.
      sessionOptions.setIntraOpNumThreads(options.getIntraOpThreads());
      settings.put(INTRA_OP_THREADS, Integer.toString(options.getIntraOpThreads()));
      sessionOptions.setInterOpNumThreads(options.getInterOpThreads());
      settings.put(INTER_OP_THREADS, Integer.toString(options.getInterOpThreads()));
      OrtSession.SessionOptions.OptLevel level = optLevel(options.getOptimizationLevel());
      sessionOptions.setOptimizationLevel(level);
      settings.put(OPTIMIZATION_LEVEL, level.name());
      ModelOptions.ExecutionProvider provider = executionProvider(options);
      if (provider == ModelOptions.ExecutionProvider.CUDA) {
        try {
          sessionOptions.addCUDA(options.getDeviceIndex());
        } catch (OrtException e) {
          throw noCuda(options, e.getMessage());
        }
        settings.put(DEVICE, "/GPU:" + options.getDeviceIndex());
      } else {
        settings.put(DEVICE, "/CPU:0");
      }
      settings.put(EXECUTION_PROVIDER, provider.name());
      sessionOptions.getConfigEntries().forEach((k, v) -> settings.put("config." + k, v));
      session = environment.createSession(modelDir.resolve(file).toString(), sessionOptions);
    } catch (OrtException e) {
      throw new ModelLoadException("cannot load ONNX model " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
    try {
      ModelSignature signature = new ModelSignature(manifest.getSignatureName(),
          describe(session.getInputInfo()), describe(session.getOutputInfo()));
      String input = pick(manifest.getInputName(), signature.getInputs(), "input", modelDir);
      String output = pick(manifest.getOutputName(), signature.getOutputs(), "output", modelDir);
      return new OnnxModel(environment, session, signature, manifest.getInputFeatures(), input, output,
          Collections.unmodifiableMap(settings));
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session);
      if (e instanceof ModelLoadException) {
        throw (ModelLoadException) e;
      }
      throw new ModelLoadException("cannot read the signature of " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
  }

  /** ONNX Runtime's level for ours; ONNX Runtime's own default ({@code ALL_OPT}) when unset. */
  static OrtSession.SessionOptions.OptLevel optLevel(ModelOptions.OptimizationLevel level) {
    if (level == null) {
      return OrtSession.SessionOptions.OptLevel.ALL_OPT;
    }
    switch (level) {
      case NONE:
        return OrtSession.SessionOptions.OptLevel.NO_OPT;
      case BASIC:
        return OrtSession.SessionOptions.OptLevel.BASIC_OPT;
      case EXTENDED:
        return OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
      case LAYOUT:
        return OrtSession.SessionOptions.OptLevel.LAYOUT_OPT;
      case ALL:
      default:
        return OrtSession.SessionOptions.OptLevel.ALL_OPT;
    }
  }

  /**
   * The provider to add, checked before any native call: CUDA with a CPU device is a contradiction,
   * and CUDA needs an ONNX Runtime built with it.
   */
  static ModelOptions.ExecutionProvider executionProvider(ModelOptions options) {
    ModelOptions.ExecutionProvider provider = options.effectiveExecutionProvider();
    if (provider == ModelOptions.ExecutionProvider.CPU && options.isGpuDevice()) {
      throw new ModelLoadException("device " + options.getDevice() + " asks for a GPU but the ONNX"
          + " execution provider is CPU: set --onnxExecutionProvider=cuda"
          + " (ModelOptions.withExecutionProvider(CUDA)) or a /CPU:0 --modelDevice");
    }
    if (provider == ModelOptions.ExecutionProvider.CUDA) {
      if (options.getDevice() != null && !options.isGpuDevice()) {
        throw new ModelLoadException("the ONNX execution provider CUDA runs on a GPU, but device "
            + options.getDevice() + " was requested: set --modelDevice=/GPU:n or"
            + " --onnxExecutionProvider=cpu");
      }
      EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
      if (!available.contains(OrtProvider.CUDA)) {
        throw noCuda(options, "this ONNX Runtime offers only " + available);
      }
    }
    return provider;
  }

  private static ModelLoadException noCuda(ModelOptions options, String why) {
    return new ModelLoadException("the ONNX execution provider CUDA was requested ("
        + (options.getExecutionProvider() == ModelOptions.ExecutionProvider.CUDA
            ? "--onnxExecutionProvider=cuda" : "--modelDevice=" + options.getDevice())
        + ") but is not available: " + why + ". Run on a worker with an NVIDIA GPU, CUDA and cuDNN"
        + " with com.microsoft.onnxruntime:onnxruntime_gpu on the class path instead of onnxruntime,"
        + " or set --onnxExecutionProvider=cpu and no GPU --modelDevice");
  }

  /**
   * The session options exactly as passed to ONNX Runtime at load ({@code SessionOptions} has
   * setters only): threads (0 = ONNX Runtime's default), {@code optimization_level} as ONNX
   * Runtime's {@code OptLevel}, {@code execution_provider}, {@code device}, and any session config
   * entries as {@code config.<key>}.
   */
  @Override
  public Map<String, String> runtimeSettings() {
    return settings;
  }

  private static String pick(String wanted, List<TensorInfo> tensors, String what, Path dir) {
    if (wanted != null) {
      if (tensors.stream().noneMatch(t -> t.getName().equals(wanted))) {
        throw new ModelLoadException("ONNX model in " + dir + " has no " + what + " '" + wanted
            + "'; " + what + "s: " + tensors);
      }
      return wanted;
    }
    if (tensors.size() != 1) {
      throw new ModelLoadException("ONNX model in " + dir + " has " + tensors.size() + " " + what
          + "s; name the one to use in the manifest (" + what + "Name)");
    }
    return tensors.get(0).getName();
  }

  private static List<TensorInfo> describe(Map<String, NodeInfo> nodes) {
    List<TensorInfo> infos = new ArrayList<>();
    for (NodeInfo node : nodes.values()) {
      ValueInfo info = node.getInfo();
      if (info instanceof ai.onnxruntime.TensorInfo) {
        ai.onnxruntime.TensorInfo t = (ai.onnxruntime.TensorInfo) info;
        infos.add(new TensorInfo(node.getName(), dtypeName(t), t.getShape()));
      } else {
        infos.add(new TensorInfo(node.getName(), info.getClass().getSimpleName(), null));
      }
    }
    return infos;
  }

  private static String dtypeName(ai.onnxruntime.TensorInfo info) {
    switch (info.type) {
      case FLOAT:
        return "float32";
      case DOUBLE:
        return "float64";
      case INT32:
        return "int32";
      case INT64:
        return "int64";
      default:
        return info.type.name().toLowerCase(Locale.ROOT);
    }
  }

  private static int valuesPerRow(TensorInfo output) {
    long[] shape = output.getShape();
    return shape != null && shape.length == 1 ? 1 : (int) output.lastDimension();
  }

  @Override
  protected float[][] run(float[][] batch) {
    try (OnnxTensor input = OnnxTensor.createTensor(environment,
            FloatBuffer.wrap(flatten(batch, features)), new long[] {batch.length, features});
        OrtSession.Result result = session.run(Map.of(inputName, input), java.util.Set.of(outputName))) {
      OnnxValue value = result.get(0);
      if (!(value instanceof OnnxTensor)) {
        throw new UnsupportedOperationException("output '" + outputName + "' is not a tensor");
      }
      FloatBuffer values = ((OnnxTensor) value).getFloatBuffer();
      if (values == null) {
        throw new UnsupportedOperationException("output '" + outputName + "' is not float32");
      }
      float[] flat = new float[values.remaining()];
      values.get(flat);
      return unflatten(flat, batch.length, flat.length / batch.length);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  @Override
  protected void release() {
    closeQuietly(session);
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      // Nothing useful to do on a failed native free at shutdown; the model is unusable anyway.
      org.slf4j.LoggerFactory.getLogger(OnnxModel.class).warn("closing ONNX session failed", e);
    }
  }
}
