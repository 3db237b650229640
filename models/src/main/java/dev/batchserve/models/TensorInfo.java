package dev.batchserve.models;

import java.util.Arrays;
import java.util.Objects;

/**
 * One named input or output of a {@link ModelSignature}: name, dtype (e.g. {@code "float32"}) and
 * shape, with {@code -1} for a dynamic dimension (usually the batch dimension).
 *
 * <pre>{@code
 * TensorInfo x = new TensorInfo("x", "float32", new long[] {-1, 7});
 * long features = x.getShape()[1]; // 7
 * }</pre>
 */
public final class TensorInfo {
  private final String name;
  private final String dtype;
  private final long[] shape;

  /** Creates the description; {@code shape} is copied, {@code null} means unknown rank. */
  public TensorInfo(String name, String dtype, long[] shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape == null ? null : shape.clone();
  }

  /** The name by which the signature refers to this tensor. */
  public String getName() {
    return name;
  }

  /** The element type, e.g. {@code "float32"}. */
  public String getDtype() {
    return dtype;
  }

  /** A copy of the shape ({@code -1} for dynamic dimensions), or {@code null} if the rank is unknown. */
  public long[] getShape() {
    return shape == null ? null : shape.clone();
  }

  /** The size of the last dimension, or {@code -1} if it is dynamic or the rank is unknown. */
  public long lastDimension() {
    return shape == null || shape.length == 0 ? -1 : shape[shape.length - 1];
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof TensorInfo)) {
      return false;
    }
    TensorInfo other = (TensorInfo) o;
    return name.equals(other.name) && dtype.equals(other.dtype) && Arrays.equals(shape, other.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + ":" + dtype + (shape == null ? "[?]" : Arrays.toString(shape));
  }
}
