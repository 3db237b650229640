package dev.batchserve.transforms.values;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The accounting of one run: every input record and every expected key, and where each went.
 *
 * <p>The completeness invariant is {@code inputRecords == predictions + deadLetters} and
 * {@code expectedKeys == predictions + fallbacks}; {@link #violation()} says how it fails, if it does.
 *
 * <pre>{@code
 * RunCounts c = new RunCounts(100, 98, 95, 3, 5);
 * c.violation(); // null: 100 = 95 + 5 and 98 = 95 + 3
 * }</pre>
 */
@DefaultCoder(RunCounts.RunCountsCoder.class)
public final class RunCounts implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long inputRecords;
  private final long expectedKeys;
  private final long predictions;
  private final long fallbacks;
  private final long deadLetters;

  public RunCounts(long inputRecords, long expectedKeys, long predictions, long fallbacks, long deadLetters) {
    this.inputRecords = inputRecords;
    this.expectedKeys = expectedKeys;
    this.predictions = predictions;
    this.fallbacks = fallbacks;
    this.deadLetters = deadLetters;
  }

  public long getInputRecords() {
    return inputRecords;
  }

  public long getExpectedKeys() {
    return expectedKeys;
  }

  /** Keys predicted by the model. */
  public long getPredictions() {
    return predictions;
  }

  /** Keys served by a fallback. */
  public long getFallbacks() {
    return fallbacks;
  }

  /** Input records that did not become a prediction, each with its reason. */
  public long getDeadLetters() {
    return deadLetters;
  }

  /** A description of how the invariant fails, or null when it holds. */
  public @Nullable String violation() {
    StringBuilder sb = new StringBuilder();
    if (inputRecords != predictions + deadLetters) {
      sb.append(String.format("input records %d != predictions %d + dead letters %d (%+d)",
          inputRecords, predictions, deadLetters, inputRecords - predictions - deadLetters));
    }
    if (expectedKeys != predictions + fallbacks) {
      if (sb.length() > 0) {
        sb.append("; ");
      }
      sb.append(String.format("expected keys %d != predictions %d + fallbacks %d (%+d)",
          expectedKeys, predictions, fallbacks, expectedKeys - predictions - fallbacks));
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof RunCounts)) {
      return false;
    }
    RunCounts c = (RunCounts) o;
    return inputRecords == c.inputRecords && expectedKeys == c.expectedKeys && predictions == c.predictions
        && fallbacks == c.fallbacks && deadLetters == c.deadLetters;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(inputRecords, expectedKeys, predictions, fallbacks, deadLetters);
  }

  @Override
  public String toString() {
    return "RunCounts{input=" + inputRecords + ", expectedKeys=" + expectedKeys + ", predictions="
        + predictions + ", fallbacks=" + fallbacks + ", deadLetters=" + deadLetters + "}";
  }

  /** Five variable-length longs. */
  public static final class RunCountsCoder extends AtomicCoder<RunCounts> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(RunCounts.class), of());
    }

    private static final RunCountsCoder INSTANCE = new RunCountsCoder();
    private static final VarLongCoder LONG = VarLongCoder.of();

    public static RunCountsCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(RunCounts c, OutputStream out) throws IOException {
      LONG.encode(c.inputRecords, out);
      LONG.encode(c.expectedKeys, out);
      LONG.encode(c.predictions, out);
      LONG.encode(c.fallbacks, out);
      LONG.encode(c.deadLetters, out);
    }

    @Override
    public RunCounts decode(InputStream in) throws IOException {
      return new RunCounts(LONG.decode(in), LONG.decode(in), LONG.decode(in), LONG.decode(in), LONG.decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
