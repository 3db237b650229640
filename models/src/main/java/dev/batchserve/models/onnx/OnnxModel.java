package dev.batchserve.models.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An ONNX model run with ONNX Runtime (CPU). The session is created once and shared: {@code
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

  private OnnxModel(OrtEnvironment environment, OrtSession session, ModelSignature signature,
      List<String> featureNames, String inputName, String outputName) {
    super(signature, featureNames, (int) signature.input(inputName).lastDimension(),
        valuesPerRow(signature.output(outputName)));
    this.environment = environment;
    this.session = session;
    this.inputName = inputName;
    this.outputName = outputName;
    this.features = (int) signature.input(inputName).lastDimension();
  }

  /**
   * Opens the manifest's {@code .onnx} file (the first listed).
   *
   * @throws ModelLoadException if there is no {@code .onnx} file, a GPU device is requested, or
   *     ONNX Runtime rejects the file
   */
  public static OnnxModel load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    String file = manifest.getFiles().stream().map(FileEntry::getPath)
        .filter(p -> p.endsWith(".onnx")).findFirst()
        .orElseThrow(() -> new ModelLoadException("no .onnx file listed in the manifest of " + modelDir));
    if (options.getDevice() != null && options.getDevice().toUpperCase(Locale.ROOT).contains("GPU")) {
      throw new ModelLoadException("the ONNX backend runs on CPU only (the onnxruntime artifact has"
          + " no GPU provider), but device " + options.getDevice() + " was requested");
    }
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    OrtSession session;
    try (OrtSession.SessionOptions sessionOptions = new OrtSession.SessionOptions()) {
      if (options.getIntraOpThreads() > 0) {
        sessionOptions.setIntraOpNumThreads(options.getIntraOpThreads());
      }
      if (options.getInterOpThreads() > 0) {
        sessionOptions.setInterOpNumThreads(options.getInterOpThreads());
      }
      session = environment.createSession(modelDir.resolve(file).toString(), sessionOptions);
    } catch (OrtException e) {
      throw new ModelLoadException("cannot load ONNX model " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
    try {
      ModelSignature signature = new ModelSignature(manifest.getSignatureName(),
          describe(session.getInputInfo()), describe(session.getOutputInfo()));
      String input = pick(manifest.getInputName(), signature.getInputs(), "input", modelDir);
      String output = pick(manifest.getOutputName(), signature.getOutputs(), "output", modelDir);
      return new OnnxModel(environment, session, signature, manifest.getInputFeatures(), input, output);
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session);
      if (e instanceof ModelLoadException) {
        throw (ModelLoadException) e;
      }
      throw new ModelLoadException("cannot read the signature of " + modelDir.resolve(file) + ": " + e.getMessage(), e);
    }
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
