package dev.batchserve.transforms.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.values.Reasons;
import java.util.List;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.Row;

/**
 * JSON lines ({@link ReadRecords#jsonLines}): one object per line. JSON has no header, so the columns
 * to keep are named with {@link #withColumns} (typically the feature spec's inputs); other fields are
 * ignored, absent ones are null, and values are kept as text (nested values as JSON) for the feature
 * spec to type. A line that is not JSON ({@code malformed_json}) or not an object
 * ({@code not_an_object}) is a dead letter; blank lines are skipped.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(ReadRecords.jsonLines("/data/events-*.jsonl")
 *     .withKeyColumns("user_id").withColumns(spec.inputNames()));
 * }</pre>
 */
public final class JsonLinesRecords extends RecordSource<JsonLinesRecords> {
  private static final long serialVersionUID = 1L;
  private final String pattern;
  private List<String> columns = List.of();

  JsonLinesRecords(String pattern) {
    this.pattern = pattern;
  }

  private JsonLinesRecords(JsonLinesRecords from) {
    super(from);
    this.pattern = from.pattern;
    this.columns = from.columns;
  }

  @Override
  protected JsonLinesRecords copy() {
    return new JsonLinesRecords(this);
  }

  /** The columns kept from each object (the key columns are always kept). */
  public JsonLinesRecords withColumns(List<String> names) {
    JsonLinesRecords c = copy();
    c.columns = TextSchema.checkedColumns(names);
    return c;
  }

  @Override
  protected ReadRecords.Result read(PBegin begin, RecordKeys keys) {
    // Only the first file names the input in messages; the columns come from the settings.
    String first = InputFiles.matched(pattern).get(0);
    Schema schema = TextSchema.keptColumns(keys, columns, first);
    return ReadRecords.Result.of(begin
        .apply("ReadLines", TextIO.read().from(pattern))
        .apply("ParseJson", new JsonFn(schema, keys).parDo()), schema);
  }

  /** A line as a row of the named fields' text. */
  private static final class JsonFn extends KeyingFn<String> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Schema schema;

    JsonFn(Schema schema, RecordKeys keys) {
      super(keys);
      this.schema = schema;
    }

    @ProcessElement
    public void process(@Element String line, MultiOutputReceiver out) {
      if (line.isBlank()) {
        return;
      }
      read.inc();
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JsonProcessingException e) {
        reject(out, line, null, Reasons.MALFORMED_JSON, String.valueOf(e.getOriginalMessage()));
        return;
      }
      if (node == null || !node.isObject()) {
        reject(out, line, null, Reasons.NOT_AN_OBJECT, "each line must be one JSON object");
        return;
      }
      Row.Builder b = Row.withSchema(schema);
      for (String field : schema.getFieldNames()) {
        JsonNode v = node.get(field);
        b.addValue(v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString());
      }
      emit(b.build(), out, r -> line, "the key field is absent or empty");
    }
  }
}
