package dev.batchserve.transforms.values;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A record that a step could not process, with why: the failsafe element of the pipeline.
 *
 * <p>Every transform that can fail per record has a dead-letter output of this type, so a run can
 * account for every input ({@code input records = predictions + dead letters}) and the pipeline can
 * flatten all failures into one errors sink. The reasons are the constants of {@link Reasons}.
 *
 * <p>The {@link #getRecord() record} is what entered the rejecting step, machine-readable so that it
 * can be replayed:
 *
 * <ul>
 *   <li>step {@code read}: the input as read, a CSV line or a JSON-lines line as it is in the file; a
 *       row read from Parquet, BigQuery or JDBC as {@link #rowRecord(Row)};
 *   <li>steps {@code keys} (records), {@code features}, {@code segments}, {@code recommend},
 *       {@code aggregate}: the input row as {@link #rowRecord(Row)}, one JSON object of its fields;
 *   <li>step {@code keys} for a prediction (an unexpected key, or a duplicate meeting {@code
 *       fromPredictions()}): the prediction as {@link #predictionRecord(String, Prediction)}, the
 *       JSON-lines layout that {@link Prediction#fromJson(String)} reads back;
 *   <li>step {@code inference}: the feature vector as {@link #vectorRecord(float[])}, a JSON array of
 *       its values (the row it was made from is no longer there).
 * </ul>
 *
 * <pre>{@code
 * DeadLetter d = DeadLetter.of("features", "acct-7", DeadLetter.rowRecord(row), "amount",
 *     Reasons.UNPARSABLE, "cannot parse amount as double: 'abc'");
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

  /**
   * A row as one JSON object: each field under its schema name, in schema order, with its value as
   * the row holds it (numbers and booleans as JSON numbers and booleans, text as strings, bytes as
   * base64, timestamps as ISO-8601 text, arrays and maps as arrays and objects, nested rows as objects).
   */
  public static String rowRecord(Row row) {
    return write(rowNode(row));
  }

  /** A prediction as its JSON-lines object ({@link Prediction#toJson(String)}), under its key. */
  public static String predictionRecord(String key, Prediction p) {
    return p.toJson(key);
  }

  /** A feature vector as a JSON array of its values, e.g. {@code [0.5,1.0]}. */
  public static String vectorRecord(float[] values) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    for (float v : values) {
      a.add(v);
    }
    return write(a);
  }

  private static ObjectNode rowNode(Row row) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    Schema schema = row.getSchema();
    for (int i = 0; i < schema.getFieldCount(); i++) {
      n.set(schema.getField(i).getName(), valueNode(row.getValue(i)));
    }
    return n;
  }

  private static JsonNode valueNode(@Nullable Object v) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (v == null) {
      return f.nullNode();
    } else if (v instanceof Row) {
      return rowNode((Row) v);
    } else if (v instanceof String) {
      return f.textNode((String) v);
    } else if (v instanceof Boolean) {
      return f.booleanNode((Boolean) v);
    } else if (v instanceof Float) {
      return f.numberNode((Float) v);
    } else if (v instanceof Double) {
      return f.numberNode((Double) v);
    } else if (v instanceof BigDecimal) {
      return f.numberNode((BigDecimal) v);
    } else if (v instanceof Number) {
      return f.numberNode(((Number) v).longValue());
    } else if (v instanceof byte[]) {
      return f.binaryNode((byte[]) v);
    } else if (v instanceof Map) {
      ObjectNode m = f.objectNode();
      ((Map<?, ?>) v).forEach((k, x) -> m.set(String.valueOf(k), valueNode(x)));
      return m;
    } else if (v instanceof Iterable) {
      ArrayNode a = f.arrayNode();
      ((Iterable<?>) v).forEach(x -> a.add(valueNode(x)));
      return a;
    }
    // Timestamps (Joda, java.time) and other logical-type values: their ISO / canonical text.
    return f.textNode(v.toString());
  }

  private static String write(JsonNode n) {
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render a dead letter's record as JSON", e);
    }
  }

  /** The step that rejected the record, e.g. {@code read}, {@code features}, {@code inference}. */
  public String getStep() {
    return step;
  }

  /** The entity key as text, or null when the record had no usable key. */
  public @Nullable String getKey() {
    return key;
  }

  /**
   * What entered the rejecting step, machine-readable for a replay: a CSV or JSON-lines line as read,
   * or a JSON object (row, prediction) or array (feature vector); see the class comment per step.
   */
  public String getRecord() {
    return record;
  }

  /** The failing field, when one field is to blame. */
  public @Nullable String getField() {
    return field;
  }

  /** A short, stable reason (used to count dead letters by reason): one of {@link Reasons}, e.g. {@code out_of_range}. */
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
