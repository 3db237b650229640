package dev.batchserve.pipelines;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.batchserve.transforms.jdbc.JdbcSink;
import java.io.IOException;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The text of a {@code Map<String, String>} option, {@code <name>=<value>,...}: read once, when the
 * options are, by the parser of the step that takes the map ({@link SegmentModels#parse},
 * {@link JdbcSink#parseViewColumns}), with its message; written back in the same form for the
 * workers. A job file's map is set as the map it is.
 *
 * <pre>{@code
 * @JsonDeserialize(using = MapText.SegmentModelsReader.class)
 * @JsonSerialize(using = MapText.Writer.class)
 * @Default.InstanceFactory(MapText.NoEntries.class)
 * Map<String, String> getSegmentModels();
 * }</pre>
 */
public final class MapText {
  private MapText() {}

  /** {@code eu=/models/churn-eu/3,us=/models/churn-us/5}, as {@link SegmentModels#parse} reads it. */
  public static final class SegmentModelsReader extends StdDeserializer<Map<String, String>> {
    private static final long serialVersionUID = 1L;

    public SegmentModelsReader() {
      super(Map.class);
    }

    @Override
    public Map<String, String> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      String text = p.getValueAsString();
      return text == null || text.isEmpty() ? Map.of() : SegmentModels.parse(text); // empty: how no entries are written
    }
  }

  /** {@code account_id=key,risk_score=score}, as {@link JdbcSink#parseViewColumns} reads it. */
  public static final class ViewColumnsReader extends StdDeserializer<Map<String, String>> {
    private static final long serialVersionUID = 1L;

    public ViewColumnsReader() {
      super(Map.class);
    }

    @Override
    public Map<String, String> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      String text = p.getValueAsString();
      return text == null || text.isEmpty() ? Map.of() : JdbcSink.parseViewColumns(text); // empty: no entries
    }
  }

  /** Writes {@code <name>=<value>,...} in the map's order, which the readers read back. */
  public static final class Writer extends StdSerializer<Map<String, String>> {
    private static final long serialVersionUID = 1L;

    @SuppressWarnings({"unchecked", "rawtypes"})
    public Writer() {
      super((Class) Map.class);
    }

    @Override
    public void serialize(Map<String, String> value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeString(text(value));
    }
  }

  /** The default of a map option: no entries. */
  public static final class NoEntries implements org.apache.beam.sdk.options.DefaultValueFactory<Map<String, String>> {
    @Override
    public Map<String, String> create(org.apache.beam.sdk.options.PipelineOptions options) {
      return Map.of();
    }
  }

  /** {@code map} as {@code <name>=<value>,...}, in its order. */
  static String text(Map<?, ?> map) {
    return map.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(","));
  }
}
