package dev.batchserve.pipelines.schedule;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.Duration;

/**
 * A {@link Duration} option's text: read as {@link Schedule#parseDuration} reads it ({@code 90s},
 * {@code 15m}, {@code 36h}, {@code 2d}, {@code 500ms} or ISO-8601 {@code PT36H}), written as ISO-8601,
 * so that the option survives the JSON trip to the workers. A job file's duration is set as the
 * {@code Duration} it is; the command line's text is parsed once, here, with the message a job file's
 * duration gets too.
 *
 * <pre>{@code
 * @JsonDeserialize(using = DurationText.Reader.class)
 * @JsonSerialize(using = DurationText.Writer.class)
 * @Default.InstanceFactory(SixHours.class)
 * Duration getMarkerTimeout();
 * }</pre>
 */
public final class DurationText {
  private DurationText() {}

  /** Reads {@code 36h}, {@code PT36H}, ...; fails with {@link Schedule#parseDuration}'s message. */
  public static final class Reader extends StdDeserializer<Duration> {
    private static final long serialVersionUID = 1L;

    public Reader() {
      super(Duration.class);
    }

    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      return Schedule.parseDuration(p.getValueAsString());
    }
  }

  /** Writes the ISO-8601 form, which {@link Reader} reads back. */
  public static final class Writer extends StdSerializer<Duration> {
    private static final long serialVersionUID = 1L;

    public Writer() {
      super(Duration.class);
    }

    @Override
    public void serialize(Duration value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeString(value.toString());
    }
  }
}
