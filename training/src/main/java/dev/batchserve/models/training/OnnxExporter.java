package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes an {@link MlpWeights} as an ONNX model ({@code model.onnx}) by encoding the ONNX protobuf
 * directly: IR version 8, opset 13, one {@code Gemm} per layer with {@code Relu} between layers and
 * {@code Sigmoid} (if any) at the end, input {@code x [batch, d]} and output {@code y [batch, k]}
 * with a symbolic batch dimension. Then writes {@code model-manifest.json} (format ONNX).
 *
 * <pre>{@code
 * OnnxExporter.export(weights, Paths.get("/models/churn-onnx/3"), partialManifest);
 * Model model = Models.load(Paths.get("/models/churn-onnx/3"));
 * }</pre>
 */
public final class OnnxExporter {
  /** The model file name inside the directory. */
  public static final String FILE_NAME = "model.onnx";

  private static final int IR_VERSION = 8;
  private static final int OPSET = 13;
  private static final int FLOAT = 1; // TensorProto.DataType.FLOAT

  private OnnxExporter() {}

  /** Writes {@code model.onnx} and the manifest into {@code dir}, which must be empty or absent. */
  public static ModelManifest export(MlpWeights weights, Path dir, ModelManifest partialManifest) {
    ExportedManifest.requireEmpty(dir);
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve(FILE_NAME), encode(weights));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(FILE_NAME), e);
    }
    return ExportedManifest.write(dir, partialManifest, ModelFormat.ONNX, weights.inputSize(),
        weights.outputSize(), "x", "y");
  }

  /** The ONNX {@code ModelProto} bytes for the network. */
  public static byte[] encode(MlpWeights weights) {
    ProtoWriter graph = new ProtoWriter();
    String current = "x";
    int layers = weights.getLayers().size();
    for (int l = 0; l < layers; l++) {
      MlpWeights.Layer layer = weights.getLayers().get(l);
      String w = "dense_" + l + "_kernel";
      String b = "dense_" + l + "_bias";
      graph.message(5, tensor(w, new long[] {layer.inputSize(), layer.outputSize()}, flatten(layer.getW())));
      graph.message(5, tensor(b, new long[] {layer.outputSize()}, layer.getB()));
      boolean last = l == layers - 1;
      boolean sigmoid = weights.getOutputActivation() == MlpWeights.OutputActivation.SIGMOID;
      String gemmOut = last && !sigmoid ? "y" : "dense_" + l;
      graph.message(1, node("Gemm", "gemm_" + l, new String[] {current, w, b}, gemmOut));
      if (!last) {
        graph.message(1, node("Relu", "relu_" + l, new String[] {gemmOut}, "relu_out_" + l));
        current = "relu_out_" + l;
      } else if (sigmoid) {
        graph.message(1, node("Sigmoid", "sigmoid", new String[] {gemmOut}, "y"));
      }
    }
    graph.string(2, "mlp");
    graph.message(11, valueInfo("x", weights.inputSize()));
    graph.message(12, valueInfo("y", weights.outputSize()));

    return new ProtoWriter()
        .varint(1, IR_VERSION)
        .string(2, "batchserve")
        .string(3, "0.1")
        .message(7, graph)
        .message(8, new ProtoWriter().string(1, "").varint(2, OPSET))
        .toByteArray();
  }

  private static ProtoWriter node(String opType, String name, String[] inputs, String output) {
    ProtoWriter node = new ProtoWriter();
    for (String input : inputs) {
      node.string(1, input);
    }
    return node.string(2, output).string(3, name).string(4, opType);
  }

  private static ProtoWriter tensor(String name, long[] dims, float[] values) {
    ProtoWriter tensor = new ProtoWriter();
    for (long d : dims) {
      tensor.varint(1, d);
    }
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return tensor.varint(2, FLOAT).string(8, name).bytes(9, raw.array());
  }

  private static ProtoWriter valueInfo(String name, int columns) {
    ProtoWriter shape = new ProtoWriter()
        .message(1, new ProtoWriter().string(2, "batch"))
        .message(1, new ProtoWriter().varint(1, columns));
    ProtoWriter tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  }

  private static float[] flatten(float[][] w) {
    float[] flat = new float[w.length * w[0].length];
    for (int i = 0; i < w.length; i++) {
      System.arraycopy(w[i], 0, flat, i * w[0].length, w[0].length);
    }
    return flat;
  }
}
