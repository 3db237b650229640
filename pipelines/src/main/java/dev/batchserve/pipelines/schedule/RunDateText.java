package dev.batchserve.pipelines.schedule;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.time.LocalDate;

/**
 * The {@code --runDate} option's text: read as {@link Schedule#parseRunDate} reads it
 * ({@code yyyy-mm-dd}) and written by Jackson's {@code ToStringSerializer} ({@link LocalDate#toString}
 * is that form), so that the option survives the JSON trip to the workers. A job file's run date is set as the {@link LocalDate} it is; the command line's text is
 * parsed once, here.
 *
 * <pre>{@code
 * @JsonDeserialize(using = RunDateText.Reader.class)
 * @JsonSerialize(using = ToStringSerializer.class)
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
}
