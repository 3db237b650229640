package dev.batchserve.pipelines.schedule;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.time.Duration;

/**
 * A {@link Duration} option's text: read as {@link Schedule#parseDuration} reads it ({@code 90s},
 * {@code 15m}, {@code 36h}, {@code 2d}, {@code 500ms} or ISO-8601 {@code PT36H}) and written as ISO-8601 by
 * Jackson's {@code ToStringSerializer} ({@link Duration#toString}), so that the option survives the
 * JSON trip to the workers. A job file's duration is set as the
 * {@code Duration} it is; the command line's text is parsed once, here, with the message a job file's
 * duration gets too.
 *
 * <pre>{@code
 * @JsonDeserialize(using = DurationText.Reader.class)
 * @JsonSerialize(using = ToStringSerializer.class)
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
}
