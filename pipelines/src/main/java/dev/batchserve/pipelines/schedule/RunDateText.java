package dev.batchserve.pipelines.schedule;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.LocalDate;

/**
 * The {@code --runDate} option's text: read as {@link Schedule#parseRunDate} reads it
 * ({@code yyyy-mm-dd}), written the same way, so that the option survives the JSON trip to the
 * workers. A job file's run date is set as the {@link LocalDate} it is; the command line's text is
 * parsed once, here.
 *
 * <pre>{@code
 * @JsonDeserialize(using = RunDateText.Reader.class)
 * @JsonSerialize(using = RunDateText.Writer.class)
 * @Nullable LocalDate getRunDate();
 * }</pre>
 */
public final class RunDateText {
  private RunDateText() {}

  /** Reads {@code 2026-11-28}; fails with {@link Schedule#parseRunDate}'s message. */
  public static final class Reader extends StdDeserializer<LocalDate> {
    private static final long serialVersionUID = 1L;

    public Reader() {
      super(LocalDate.class);
    }

    @Override
    public LocalDate deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      return Schedule.parseRunDate(p.getValueAsString());
    }
  }

  /** Writes {@code yyyy-mm-dd}, which {@link Reader} reads back. */
  public static final class Writer extends StdSerializer<LocalDate> {
    private static final long serialVersionUID = 1L;

    public Writer() {
      super(LocalDate.class);
    }

    @Override
    public void serialize(LocalDate value, JsonGenerator gen, SerializerProvider provider) throws IOException {
      gen.writeString(value.toString());
    }
  }
}
