package dev.batchserve.transforms.values;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A record that a step could not process, with why: the failsafe element of the pipeline.
 *
 * <p>Every transform that can fail per record has a dead-letter output of this type, so a run can
 * account for every input ({@code input records = predictions + dead letters}) and the pipeline can
 * flatten all failures into one errors sink.
 *
 * <pre>{@code
 * DeadLetter d = DeadLetter.of("features", "acct-7", "{amount=abc}", "amount", "unparsable double: 'abc'");
 * }</pre>
 */
@DefaultCoder(DeadLetter.DeadLetterCoder.class)
public final class DeadLetter implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String step;
  private final @Nullable String key;
  private final String record;
  private final @Nullable String field;
  private final String reason;
  private final @Nullable String detail;
  private final @Nullable String error;

  private DeadLetter(
      String step,
      @Nullable String key,
      String record,
      @Nullable String field,
      String reason,
      @Nullable String detail,
      @Nullable String error) {
    this.step = Objects.requireNonNull(step, "step");
    this.key = key;
    this.record = Objects.requireNonNull(record, "record");
    this.field = field;
    this.reason = Objects.requireNonNull(reason, "reason");
    this.detail = detail;
    this.error = error;
  }

  /** A dead letter for a validation failure: no exception, a field and a reason. */
  public static DeadLetter of(
      String step, @Nullable String key, String record, @Nullable String field, String reason) {
    return new DeadLetter(step, key, record, field, reason, null, null);
  }

  /** A dead letter for a validation failure with a human-readable detail beside the stable reason. */
  public static DeadLetter of(
      String step,
      @Nullable String key,
      String record,
      @Nullable String field,
      String reason,
      @Nullable String detail) {
    return new DeadLetter(step, key, record, field, reason, detail, null);
  }

  /** A dead letter for an exception; the error keeps the exception's class, message and stack. */
  public static DeadLetter ofException(
      String step, @Nullable String key, String record, String reason, Throwable t) {
    StringWriter trace = new StringWriter();
    t.printStackTrace(new PrintWriter(trace));
    return new DeadLetter(step, key, record, null, reason, String.valueOf(t), trace.toString());
  }

  /** The step that rejected the record, e.g. {@code read}, {@code features}, {@code inference}. */
  public String getStep() {
    return step;
  }

  /** The entity key as text, or null when the record had no usable key. */
  public @Nullable String getKey() {
    return key;
  }

  /** The original record, rendered as text (a CSV line, a JSON object, a Row's string form). */
  public String getRecord() {
    return record;
  }

  /** The failing field, when one field is to blame. */
  public @Nullable String getField() {
    return field;
  }

  /** A short, stable reason (used to count dead letters by reason), e.g. {@code out_of_range}. */
  public String getReason() {
    return reason;
  }

  /** A human-readable explanation (the value, the bound, the exception message), when there is one. */
  public @Nullable String getDetail() {
    return detail;
  }

  /** The exception with its stack trace, when the failure was an exception. */
  public @Nullable String getError() {
    return error;
  }

  /** One JSON object on one line, for the JSON-lines dead-letter output. */
  public String toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", step);
    n.put("key", key);
    n.put("field", field);
    n.put("reason", reason);
    n.put("detail", detail);
    n.put("record", record);
    n.put("error", error);
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render dead letter as JSON", e);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof DeadLetter)) {
      return false;
    }
    DeadLetter d = (DeadLetter) o;
    return step.equals(d.step)
        && Objects.equals(key, d.key)
        && record.equals(d.record)
        && Objects.equals(field, d.field)
        && reason.equals(d.reason)
        && Objects.equals(detail, d.detail)
        && Objects.equals(error, d.error);
  }

  @Override
  public int hashCode() {
    return Objects.hash(step, key, record, field, reason, detail, error);
  }

  @Override
  public String toString() {
    return "DeadLetter{step=" + step + ", key=" + key + ", field=" + field + ", reason=" + reason
        + (detail == null ? "" : ", detail=" + detail) + ", record=" + record + "}";
  }

  /** A deterministic coder: seven UTF-8 strings, four of them nullable. */
  public static final class DeadLetterCoder extends AtomicCoder<DeadLetter> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(DeadLetter.class), of());
    }

    private static final Coder<String> STRING = StringUtf8Coder.of();
    private static final Coder<String> NULLABLE = NullableCoder.of(StringUtf8Coder.of());
    private static final DeadLetterCoder INSTANCE = new DeadLetterCoder();

    public static DeadLetterCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(DeadLetter d, OutputStream out) throws IOException {
      STRING.encode(d.step, out);
      NULLABLE.encode(d.key, out);
      STRING.encode(d.record, out);
      NULLABLE.encode(d.field, out);
      STRING.encode(d.reason, out);
      NULLABLE.encode(d.detail, out);
      NULLABLE.encode(d.error, out);
    }

    @Override
    public DeadLetter decode(InputStream in) throws IOException {
      return new DeadLetter(
          STRING.decode(in),
          NULLABLE.decode(in),
          STRING.decode(in),
          NULLABLE.decode(in),
          STRING.decode(in),
          NULLABLE.decode(in),
          NULLABLE.decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
