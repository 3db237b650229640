package dev.batchserve.models;

import java.util.List;
import java.util.Objects;

/**
 * The inputs and outputs a loaded model declares, under a signature name (for TensorFlow the
 * SavedModel signature key, e.g. {@code "serving_default"}).
 *
 * <pre>{@code
 * ModelSignature sig = model.signature();
 * int d = sig.inputSize();  // features per row of the single dense input
 * int k = sig.outputSize(); // values per row of the single output
 * }</pre>
 */
public final class ModelSignature {
  private final String name;
  private final List<TensorInfo> inputs;
  private final List<TensorInfo> outputs;

  /** Creates a signature; the lists are copied. */
  public ModelSignature(String name, List<TensorInfo> inputs, List<TensorInfo> outputs) {
    this.name = Objects.requireNonNull(name, "name");
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  /** The signature name. */
  public String getName() {
    return name;
  }

  /** The inputs, in the engine's order. */
  public List<TensorInfo> getInputs() {
    return inputs;
  }

  /** The outputs, in the engine's order. */
  public List<TensorInfo> getOutputs() {
    return outputs;
  }

  /** The input with this name, or {@code null}. */
  public TensorInfo input(String inputName) {
    return inputs.stream().filter(t -> t.getName().equals(inputName)).findFirst().orElse(null);
  }

  /** The output with this name, or {@code null}. */
  public TensorInfo output(String outputName) {
    return outputs.stream().filter(t -> t.getName().equals(outputName)).findFirst().orElse(null);
  }

  /**
   * Features per row of the single dense input (its last dimension).
   *
   * @throws IllegalStateException if the model has several inputs or a dynamic feature dimension
   */
  public int inputSize() {
    return single(inputs, "input");
  }

  /**
   * Values per row of the single output (its last dimension; 1 for a rank-1 output).
   *
   * @throws IllegalStateException if the model has several outputs or a dynamic output dimension
   */
  public int outputSize() {
    return single(outputs, "output");
  }

  private int single(List<TensorInfo> tensors, String what) {
    if (tensors.size() != 1) {
      throw new IllegalStateException(
          "signature '" + name + "' has " + tensors.size() + " " + what + "s " + tensors
              + ", not exactly one; use predictNamed");
    }
    long[] shape = tensors.get(0).getShape();
    // A rank-1 tensor [n] carries one value per row.
    long size = shape != null && shape.length == 1 ? 1 : tensors.get(0).lastDimension();
    if (size < 0) {
      throw new IllegalStateException(
          "signature '" + name + "' " + what + " " + tensors.get(0) + " has a dynamic last dimension");
    }
    return Math.toIntExact(size);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ModelSignature)) {
      return false;
    }
    ModelSignature other = (ModelSignature) o;
    return name.equals(other.name) && inputs.equals(other.inputs) && outputs.equals(other.outputs);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, inputs, outputs);
  }

  @Override
  public String toString() {
    return "ModelSignature{" + name + ", inputs=" + inputs + ", outputs=" + outputs + "}";
  }
}
