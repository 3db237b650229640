package dev.batchserve.models.training;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The parameters of a small fully connected network (multi-layer perceptron): dense layers with
 * ReLU between them and a sigmoid or identity output, plus the plain-Java forward pass every
 * exported model is checked against.
 *
 * <p>Layer {@code l} holds {@code W} as {@code [in][out]} and {@code b} as {@code [out]}; a layer
 * computes {@code z[j] = (sum over i of x[i] * W[i][j]) + b[j]} in float, summing {@code i} in
 * ascending order, which is how TensorFlow's MatMul + BiasAdd is specified (engines may reorder
 * the sum, hence comparisons within 1e-5).
 *
 * <pre>{@code
 * MlpWeights w = new MlpTrainer(MlpTrainer.Config.defaults()).train(x, y);
 * float p = w.predict(x[0])[0];
 * w.write(Paths.get("weights.json"));
 * }</pre>
 */
public final class MlpWeights {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * The output layer's activation (hidden layers always use ReLU).
   *
   * <pre>{@code
   * new MlpWeights(layers, MlpWeights.OutputActivation.IDENTITY); // a regression network
   * }</pre>
   */
  public enum OutputActivation {
    /** {@code 1 / (1 + exp(-z))}: a probability, for binary classification. */
    SIGMOID,
    /** {@code z}: for regression. */
    IDENTITY
  }

  /**
   * One dense layer.
   *
   * <pre>{@code
   * new MlpWeights.Layer(new float[][] {{1f}, {2f}}, new float[] {0f}); // 2 inputs -> 1 output
   * }</pre>
   */
  public static final class Layer {
    private final float[][] w;
    private final float[] b;

    /** {@code w} is {@code [in][out]}, {@code b} is {@code [out]}. */
    @JsonCreator
    public Layer(@JsonProperty("w") float[][] w, @JsonProperty("b") float[] b) {
      if (w == null || w.length == 0 || b == null) {
        throw new IllegalArgumentException("a layer needs a non-empty W and a b");
      }
      for (int i = 0; i < w.length; i++) {
        if (w[i] == null || w[i].length != b.length) {
          throw new IllegalArgumentException("W row " + i + " has "
              + (w[i] == null ? 0 : w[i].length) + " columns, b has " + b.length);
        }
      }
      this.w = w;
      this.b = b;
    }

    /** {@code [in][out]}. */
    @JsonProperty("w")
    public float[][] getW() {
      return w;
    }

    /** {@code [out]}. */
    @JsonProperty("b")
    public float[] getB() {
      return b;
    }

    /** Inputs to this layer. */
    @JsonIgnore
    public int inputSize() {
      return w.length;
    }

    /** Outputs of this layer. */
    @JsonIgnore
    public int outputSize() {
      return b.length;
    }
  }

  private final List<Layer> layers;
  private final OutputActivation outputActivation;

  /**
   * @throws IllegalArgumentException if consecutive layers' sizes do not chain
   */
  @JsonCreator
  public MlpWeights(
      @JsonProperty("layers") List<Layer> layers,
      @JsonProperty("outputActivation") OutputActivation outputActivation) {
    if (layers == null || layers.isEmpty()) {
      throw new IllegalArgumentException("an MLP needs at least one layer");
    }
    for (int l = 1; l < layers.size(); l++) {
      if (layers.get(l).inputSize() != layers.get(l - 1).outputSize()) {
        throw new IllegalArgumentException("layer " + l + " takes " + layers.get(l).inputSize()
            + " inputs, but layer " + (l - 1) + " outputs " + layers.get(l - 1).outputSize());
      }
    }
    this.layers = List.copyOf(layers);
    this.outputActivation =
        outputActivation == null ? OutputActivation.SIGMOID : outputActivation;
  }

  /** The layers, input first. */
  public List<Layer> getLayers() {
    return layers;
  }

  /** The output activation; hidden layers always use ReLU. */
  public OutputActivation getOutputActivation() {
    return outputActivation;
  }

  /** Features per input row. */
  @JsonIgnore
  public int inputSize() {
    return layers.get(0).inputSize();
  }

  /** Values per output row. */
  @JsonIgnore
  public int outputSize() {
    return layers.get(layers.size() - 1).outputSize();
  }

  /** The reference forward pass for one row. */
  public float[] predict(float[] row) {
    if (row.length != inputSize()) {
      throw new IllegalArgumentException(
          "row has " + row.length + " features, the network expects " + inputSize());
    }
    float[] x = row;
    for (int l = 0; l < layers.size(); l++) {
      Layer layer = layers.get(l);
      float[] z = new float[layer.outputSize()];
      for (int j = 0; j < z.length; j++) {
        float sum = 0f;
        for (int i = 0; i < x.length; i++) {
          sum += x[i] * layer.w[i][j];
        }
        z[j] = sum + layer.b[j];
      }
      boolean last = l == layers.size() - 1;
      for (int j = 0; j < z.length; j++) {
        if (!last) {
          z[j] = Math.max(0f, z[j]);
        } else if (outputActivation == OutputActivation.SIGMOID) {
          z[j] = (float) (1.0 / (1.0 + Math.exp(-z[j])));
        }
      }
      x = z;
    }
    return x;
  }

  /** The reference forward pass for a batch. */
  public float[][] predict(float[][] rows) {
    float[][] out = new float[rows.length][];
    for (int r = 0; r < rows.length; r++) {
      out[r] = predict(rows[r]);
    }
    return out;
  }

  /** The weights as JSON. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses weights written by {@link #toJson()}. */
  public static MlpWeights fromJson(String json) {
    try {
      return MAPPER.readValue(json, MlpWeights.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("invalid MLP weights JSON: " + e.getMessage(), e);
    }
  }

  /** Writes the JSON to a file. */
  public void write(Path file) {
    try {
      Files.writeString(file, toJson());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads weights from a JSON file. */
  public static MlpWeights read(Path file) {
    try {
      return fromJson(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
