package dev.batchserve.transforms.features;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Arrays;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The dense model input for one entity: the output of {@link FeatureSpec} in its declared layout.
 *
 * <pre>{@code
 * FeatureVector v = FeatureVector.of(new float[] {0.5f, 1f, 0f});
 * float first = v.get(0);
 * }</pre>
 */
@DefaultCoder(FeatureVector.FeatureVectorCoder.class)
public final class FeatureVector implements Serializable {
  private static final long serialVersionUID = 1L;

  private final float[] values;

  private FeatureVector(float[] values) {
    this.values = values;
  }

  /** Wraps the values; the array is copied so that the vector stays immutable. */
  public static FeatureVector of(float[] values) {
    return new FeatureVector(values.clone());
  }

  /** Number of features. */
  public int size() {
    return values.length;
  }

  public float get(int i) {
    return values[i];
  }

  /** A copy of the values. */
  public float[] toArray() {
    return values.clone();
  }

  /** Copies the values into {@code dest} at {@code offset} (batch assembly without extra copies). */
  public void copyTo(float[] dest, int offset) {
    System.arraycopy(values, 0, dest, offset, values.length);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof FeatureVector && Arrays.equals(values, ((FeatureVector) o).values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "FeatureVector" + Arrays.toString(values);
  }

  /** Deterministic coder: the length, then each float's IEEE-754 bits. */
  public static final class FeatureVectorCoder extends AtomicCoder<FeatureVector> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(FeatureVector.class), of());
    }

    private static final FeatureVectorCoder INSTANCE = new FeatureVectorCoder();

    public static FeatureVectorCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(FeatureVector v, OutputStream out) throws IOException {
      VarIntCoder.of().encode(v.values.length, out);
      DataOutputStream data = new DataOutputStream(out);
      for (float f : v.values) {
        data.writeFloat(f);
      }
      data.flush();
    }

    @Override
    public FeatureVector decode(InputStream in) throws IOException {
      int n = VarIntCoder.of().decode(in);
      if (n < 0) {
        throw new CoderException("negative feature vector length " + n);
      }
      DataInputStream data = new DataInputStream(in);
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = data.readFloat();
      }
      return new FeatureVector(values);
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
