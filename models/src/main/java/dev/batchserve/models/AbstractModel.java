package dev.batchserve.models;

import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Base class for backends: validates every batch before it reaches the engine, answers an empty
 * batch without calling the engine, and makes {@link #close()} wait for in-flight calls so that
 * native memory is never freed under a running prediction (a use-after-free would crash the JVM).
 *
 * <pre>{@code
 * final class MyModel extends AbstractModel {
 *   MyModel(ModelSignature sig, List<String> features) { super(sig, features); }
 *   protected float[][] run(float[][] batch) { ... }
 *   protected void release() { ... }
 * }
 * }</pre>
 */
public abstract class AbstractModel implements Model {
  private final ModelSignature signature;
  private final List<String> featureNames;
  private final int inputSize;
  private final int outputSize;
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed;

  /**
   * @param signature the engine's signature; its single input and output define the sizes checked
   *     by {@link #predict}
   * @param featureNames the manifest's feature names, used in error messages; may be empty
   */
  protected AbstractModel(ModelSignature signature, List<String> featureNames) {
    this(signature, featureNames, signature.inputSize(), signature.outputSize());
  }

  /**
   * For multi-input models: {@code inputSize}/{@code outputSize} describe the tensors {@link
   * #predict} uses; a negative value means {@code predict} is unsupported (use {@code
   * predictNamed}).
   */
  protected AbstractModel(
      ModelSignature signature, List<String> featureNames, int inputSize, int outputSize) {
    this.signature = signature;
    this.featureNames = featureNames == null ? List.of() : List.copyOf(featureNames);
    this.inputSize = inputSize;
    this.outputSize = outputSize;
  }

  /** The manifest's feature names, for error messages. */
  protected final List<String> featureNames() {
    return featureNames;
  }

  @Override
  public final ModelSignature signature() {
    return signature;
  }

  @Override
  public final float[][] predict(float[][] batch) {
    if (inputSize < 0 || outputSize < 0) {
      throw new UnsupportedOperationException(
          "signature '" + signature.getName() + "' has no single input and output with fixed"
              + " sizes for predict; use predictNamed or name them in the manifest");
    }
    checkBatch(batch, inputSize, featureNames);
    if (batch.length == 0) {
      return new float[0][outputSize];
    }
    lifecycle.readLock().lock();
    try {
      checkOpen();
      return run(batch);
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Runs {@code action} under the read lock, failing if the model is closed; for backends'
   * {@code predictNamed}.
   */
  protected final <T> T whileOpen(java.util.function.Supplier<T> action) {
    lifecycle.readLock().lock();
    try {
      checkOpen();
      return action.get();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("model " + signature.getName() + " is closed");
    }
  }

  /** Runs the engine on a validated, non-empty {@code [n][inputSize]} batch. */
  protected abstract float[][] run(float[][] batch);

  /** Frees the engine's resources; called once, with no prediction in flight. */
  protected abstract void release();

  @Override
  public final void close() {
    lifecycle.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        release();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }

  /** Whether {@link #close()} was called. */
  public final boolean isClosed() {
    lifecycle.readLock().lock();
    try {
      return closed;
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  /**
   * Checks a dense batch: non-null, every row non-null with {@code features} values, all finite.
   *
   * @param featureNames names for error messages, or empty
   * @throws ModelInputException naming the first offending row and feature
   */
  public static void checkBatch(float[][] batch, int features, List<String> featureNames) {
    if (batch == null) {
      throw new ModelInputException("batch is null");
    }
    for (int r = 0; r < batch.length; r++) {
      float[] row = batch[r];
      if (row == null) {
        throw new ModelInputException("row " + r + " is null");
      }
      if (row.length != features) {
        throw new ModelInputException(
            "row " + r + " has " + row.length + " features, the model expects " + features);
      }
      for (int i = 0; i < row.length; i++) {
        if (!Float.isFinite(row[i])) {
          String feature =
              i < featureNames.size() ? "feature '" + featureNames.get(i) + "' (index " + i + ")"
                  : "feature index " + i;
          throw new ModelInputException("row " + r + ", " + feature + " is " + row[i]);
        }
      }
    }
  }

  /** Copies a validated {@code [n][d]} batch into one row-major array, as engines want it. */
  public static float[] flatten(float[][] batch, int features) {
    float[] flat = new float[batch.length * features];
    for (int r = 0; r < batch.length; r++) {
      System.arraycopy(batch[r], 0, flat, r * features, features);
    }
    return flat;
  }

  /** Splits a row-major array into {@code [n][k]} rows. */
  public static float[][] unflatten(float[] flat, int rows, int columns) {
    float[][] out = new float[rows][columns];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(flat, r * columns, out[r], 0, columns);
    }
    return out;
  }
}
