package dev.batchserve.models.tensorflow;

import dev.batchserve.models.AbstractModel;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * A TensorFlow SavedModel (TF Java 1.1.0) run through one signature. Inputs are fed and outputs
 * fetched by the graph tensor names the signature declares, through the bundle's session, which
 * TensorFlow allows to be used from many threads at once. Every tensor and {@link Result} is closed
 * as soon as its values are copied out, so no native memory outlives a call.
 *
 * <pre>{@code
 * try (TensorFlowModel model = TensorFlowModel.load(dir, ModelManifest.read(dir),
 *     TensorFlowOptions.defaults().withIntraOpThreads(2))) {
 *   float[][] scores = model.predict(batch);
 *   Map<String, float[][]> all = model.predictNamed(Map.of("a", a, "b", b));
 * }
 * }</pre>
 *
 * <p>Prefer {@link dev.batchserve.models.Models#load}, which verifies the files first.
 */
public final class TensorFlowModel extends AbstractModel {
  /** The SavedModel tag set loaded: the serving graph. */
  public static final String SERVE_TAG = "serve";

  private final SavedModelBundle bundle;
  private final Session session;
  private final Map<String, String> inputTensors; // signature name -> graph tensor "op:index"
  private final Map<String, String> outputTensors;
  private final String predictInput;
  private final String predictOutput;
  /** The session configuration the bundle was loaded with (TF Java cannot read it back). */
  private final ConfigProto config;

  private TensorFlowModel(
      SavedModelBundle bundle,
      ConfigProto config,
      ModelSignature signature,
      List<String> features,
      Map<String, String> inputTensors,
      Map<String, String> outputTensors,
      String predictInput,
      String predictOutput,
      int inputSize,
      int outputSize) {
    super(signature, features, inputSize, outputSize);
    this.bundle = bundle;
    this.config = config;
    this.session = bundle.session();
    this.inputTensors = inputTensors;
    this.outputTensors = outputTensors;
    this.predictInput = predictInput;
    this.predictOutput = predictOutput;
  }

  /**
   * Loads the SavedModel's {@code serve} graph and selects the manifest's signature. Does not
   * verify the files; {@link dev.batchserve.models.Models#load} does that first.
   *
   * @throws ModelLoadException if the SavedModel cannot be loaded, the signature is missing (the
   *     message lists the available ones) or the manifest's input/output names are not in it
   */
  public static TensorFlowModel load(Path modelDir, ModelManifest manifest, TensorFlowOptions options) {
    SavedModelBundle bundle;
    ConfigProto config = options.toConfigProto();
    try {
      bundle = SavedModelBundle.loader(modelDir.toString())
          .withTags(SERVE_TAG)
          .withConfigProto(config)
          .load();
    } catch (RuntimeException e) {
      throw new ModelLoadException(
          "cannot load TensorFlow SavedModel from " + modelDir + ": " + e.getMessage(), e);
    }
    try {
      return create(bundle, config, modelDir, manifest);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  private static TensorFlowModel create(
      SavedModelBundle bundle, ConfigProto config, Path modelDir, ModelManifest manifest) {
    String name = manifest.getSignatureName();
    Signature tfSignature = bundle.signatures().stream()
        .filter(s -> s.key().equals(name))
        .findFirst()
        .orElseThrow(() -> new ModelLoadException(
            "signature '" + name + "' not found in " + modelDir + "; available signatures: "
                + bundle.signatures().stream().map(Signature::key).sorted()
                    .collect(Collectors.toList())));
    Map<String, String> inputTensors = new LinkedHashMap<>();
    Map<String, String> outputTensors = new LinkedHashMap<>();
    List<TensorInfo> inputs = describe(tfSignature.getInputs(), inputTensors);
    List<TensorInfo> outputs = describe(tfSignature.getOutputs(), outputTensors);
    ModelSignature signature = new ModelSignature(name, inputs, outputs);

    String predictInput = choose(manifest.getInputName(), inputTensors, "input", name, modelDir);
    String predictOutput = choose(manifest.getOutputName(), outputTensors, "output", name, modelDir);
    int inputSize = predictInput == null ? -1 : (int) signature.input(predictInput).lastDimension();
    int outputSize = predictOutput == null ? -1 : valuesPerRow(signature.output(predictOutput));
    return new TensorFlowModel(bundle, config, signature, manifest.getInputFeatures(), inputTensors,
        outputTensors, predictInput, predictOutput, inputSize, outputSize);
  }

  private static String choose(
      String wanted, Map<String, String> tensors, String what, String signature, Path dir) {
    if (wanted != null) {
      if (!tensors.containsKey(wanted)) {
        throw new ModelLoadException("signature '" + signature + "' of " + dir + " has no " + what
            + " '" + wanted + "'; " + what + "s: " + tensors.keySet());
      }
      return wanted;
    }
    // Without a name in the manifest, predict() can only pick an unambiguous tensor.
    return tensors.size() == 1 ? tensors.keySet().iterator().next() : null;
  }

  private static int valuesPerRow(TensorInfo output) {
    long[] shape = output.getShape();
    return shape != null && shape.length == 1 ? 1 : (int) output.lastDimension();
  }

  private static List<TensorInfo> describe(
      Map<String, Signature.TensorDescription> tensors, Map<String, String> graphNames) {
    List<TensorInfo> infos = new ArrayList<>();
    // Sorted, because the proto map's order is not meaningful and signatures should compare equal.
    tensors.keySet().stream().sorted().forEach(key -> {
      Signature.TensorDescription d = tensors.get(key);
      graphNames.put(key, d.name);
      long[] shape = d.shape == null || d.shape.isUnknown() ? null : d.shape.asArray();
      infos.add(new TensorInfo(key, dtypeName(d.dataType), shape));
    });
    return infos;
  }

  static String dtypeName(DataType type) {
    switch (type) {
      case DT_FLOAT:
        return "float32";
      case DT_DOUBLE:
        return "float64";
      case DT_HALF:
        return "float16";
      case DT_INT32:
        return "int32";
      case DT_INT64:
        return "int64";
      case DT_BOOL:
        return "bool";
      case DT_STRING:
        return "string";
      default:
        return type.name().toLowerCase(Locale.ROOT).replaceFirst("^dt_", "");
    }
  }

  @Override
  protected float[][] run(float[][] batch) {
    if (batch.length == 1) {
      // TensorFlow computes a one-row matmul on another kernel path, which rounds differently (seen:
      // 80 of 200 rows differed in the last bits between batch 1 and batch 8, while every batch size
      // from 2 to 4096 agreed bit for bit). Running a lone row as two keeps a row's scores independent
      // of the batch it happens to share, so re-runs and runners with other bundles agree exactly.
      return new float[][] {runRows(new float[][] {batch[0], batch[0]})[0]};
    }
    return runRows(batch);
  }

  private float[][] runRows(float[][] batch) {
    int d = (int) signature().input(predictInput).lastDimension();
    try (TFloat32 input = toTensor(batch, d);
        Result result = session.runner()
            .feed(inputTensors.get(predictInput), input)
            .fetch(outputTensors.get(predictOutput))
            .run()) {
      return toRows(result.get(0), predictOutput, batch.length);
    }
  }

  /**
   * Feeds every named input and fetches every output of the signature. All inputs are float32
   * {@code [n][d]} matrices with the same {@code n}.
   *
   * @throws ModelInputException on an unknown or missing input name, a wrong feature count, or a
   *     non-finite value (the message names the input)
   */
  @Override
  public Map<String, float[][]> predictNamed(Map<String, float[][]> inputs) {
    ModelSignature sig = signature();
    if (!inputs.keySet().equals(inputTensors.keySet())) {
      throw new ModelInputException("signature '" + sig.getName() + "' takes inputs "
          + inputTensors.keySet() + ", but got " + inputs.keySet());
    }
    int rows = -1;
    // Signature order, so that messages do not depend on the caller's map order.
    for (String name : inputTensors.keySet()) {
      TensorInfo info = sig.input(name);
      if (!"float32".equals(info.getDtype())) {
        throw new ModelInputException(
            "input '" + name + "' has dtype " + info.getDtype() + "; only float32 is supported");
      }
      float[][] batch = inputs.get(name);
      int d = (int) info.lastDimension();
      if (batch == null) {
        throw new ModelInputException("input '" + name + "' is null");
      }
      if (d < 0) {
        d = batch != null && batch.length > 0 && batch[0] != null ? batch[0].length : 0;
      }
      try {
        checkBatch(batch, d, name.equals(predictInput) ? featureNames() : List.of());
      } catch (ModelInputException ex) {
        throw new ModelInputException("input '" + name + "': " + ex.getMessage());
      }
      if (rows >= 0 && batch.length != rows) {
        throw new ModelInputException("input '" + name + "' has " + batch.length
            + " rows, but other inputs have " + rows);
      }
      rows = batch.length;
    }
    final int n = rows;
    return whileOpen(() -> runNamed(inputs, n));
  }

  private Map<String, float[][]> runNamed(Map<String, float[][]> inputs, int rows) {
    List<TFloat32> tensors = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (Map.Entry<String, String> input : inputTensors.entrySet()) {
        float[][] batch = inputs.get(input.getKey());
        int d = batch.length == 0
            ? Math.max(0, (int) signature().input(input.getKey()).lastDimension())
            : batch[0].length;
        TFloat32 t = toTensor(batch, d);
        tensors.add(t);
        runner.feed(input.getValue(), t);
      }
      List<String> names = new ArrayList<>(outputTensors.keySet());
      names.forEach(name -> runner.fetch(outputTensors.get(name)));
      try (Result result = runner.run()) {
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
          out.put(names.get(i), toRows(result.get(i), names.get(i), rows));
        }
        return out;
      }
    } finally {
      tensors.forEach(Tensor::close);
    }
  }

  private static TFloat32 toTensor(float[][] batch, int d) {
    float[] flat = flatten(batch, d);
    return TFloat32.tensorOf(Shape.of(batch.length, d), DataBuffers.of(flat, true, false));
  }

  private static float[][] toRows(Tensor tensor, String name, int rows) {
    if (!(tensor instanceof TFloat32)) {
      throw new UnsupportedOperationException(
          "output '" + name + "' has type " + tensor.dataType() + "; only float32 outputs are supported");
    }
    TFloat32 values = (TFloat32) tensor;
    long size = values.shape().size();
    int columns = rows == 0 ? 0 : (int) (size / rows);
    float[] flat = new float[(int) size];
    values.copyTo(DataBuffers.of(flat, false, false));
    return unflatten(flat, rows, columns);
  }

  /**
   * Read from the {@code ConfigProto} the session was created with (TF Java has no getter on the
   * session itself): {@code intra_op_threads} / {@code inter_op_threads} as TensorFlow got them (0 =
   * TensorFlow's default, one thread per core), {@code device} ({@code /GPU:n} for a visible-device
   * list, {@code /CPU:0} when GPUs are hidden, {@code default} otherwise) and soft placement.
   */
  @Override
  public Map<String, String> runtimeSettings() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put(ENGINE, "tensorflow " + TensorFlow.version());
    settings.put(INTRA_OP_THREADS, Integer.toString(config.getIntraOpParallelismThreads()));
    settings.put(INTER_OP_THREADS, Integer.toString(config.getInterOpParallelismThreads()));
    String visible = config.hasGpuOptions() ? config.getGpuOptions().getVisibleDeviceList() : "";
    settings.put(DEVICE, !visible.isEmpty() ? "/GPU:" + visible
        : config.getDeviceCountOrDefault("GPU", -1) == 0 ? "/CPU:0" : "default");
    settings.put("allow_soft_placement", Boolean.toString(config.getAllowSoftPlacement()));
    return settings;
  }

  @Override
  protected void release() {
    bundle.close();
  }
}
