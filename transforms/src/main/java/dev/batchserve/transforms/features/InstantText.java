package dev.batchserve.transforms.features;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.time.temporal.TemporalQueries;
import java.util.Date;
import java.util.Locale;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The one way instants are read from text and typed values, and the one text they are written as,
 * so that a timestamp gives the same feature value and the same key whatever the source encoding
 * (Parquet millis, micros or nanos, JDBC, BigQuery, CSV or JSON text).
 *
 * <p><b>Canonical text</b> ({@link #canonical}): ISO-8601 in UTC, {@code Z}-suffixed, with as many
 * fraction digits as the instant needs in groups of three (Java's {@link DateTimeFormatter#ISO_INSTANT}):
 * {@code 2001-01-01T00:01:00Z}, {@code 2001-01-01T00:01:00.120Z}, {@code 2001-01-01T00:01:00.000001Z}.
 *
 * <p><b>Text read without a format</b> ({@link #parse} with a null pattern): an ISO-8601 instant
 * ({@code 2001-01-01T00:01:00Z}), with an offset ({@code 2001-01-01T01:01:00+01:00}), BigQuery's
 * text ({@code 2001-01-01 00:01:00 UTC}, {@code 2001-01-01 00:01:00.000001+00}), or a local date-time
 * or date without zone ({@code 2001-01-01T00:01:00}, {@code 2001-01-01 00:01:00}, {@code 2001-01-01}),
 * which is read in UTC. <b>With a format</b>: only that {@link DateTimeFormatter} pattern (locale
 * {@code ROOT}); a pattern without zone or offset is read in UTC, one without a time of day as
 * midnight UTC.
 *
 * <p><b>Typed values</b> ({@link #of}): {@link Instant}, Joda instants (Beam's {@code DATETIME}),
 * {@link Date} and {@link java.sql.Timestamp} (with its nanoseconds), {@link OffsetDateTime},
 * {@link ZonedDateTime}, and the zoneless {@link LocalDateTime} and {@link LocalDate} (Parquet
 * {@code local-timestamp-*} and {@code DATE}), read in UTC.
 *
 * <pre>{@code
 * Instant t = InstantText.parse("2001-01-01 00:01:00", "yyyy-MM-dd HH:mm:ss");
 * String key = InstantText.canonical(t); // "2001-01-01T00:01:00Z"
 * }</pre>
 */
public final class InstantText {
  /** Date, optional time (after {@code T} or a space), optional offset or zone, as ISO and BigQuery write them. */
  private static final DateTimeFormatter LENIENT_ISO = new DateTimeFormatterBuilder()
      .parseCaseInsensitive()
      .append(DateTimeFormatter.ISO_LOCAL_DATE)
      .optionalStart()
      .appendLiteral('T')
      .optionalEnd()
      .optionalStart()
      .appendLiteral(' ')
      .optionalEnd()
      .optionalStart()
      .append(DateTimeFormatter.ISO_LOCAL_TIME)
      .optionalEnd()
      .optionalStart()
      .appendLiteral(' ')
      .optionalEnd()
      .optionalStart()
      .appendOffset("+HH:MM:ss", "Z")
      .optionalEnd()
      .optionalStart()
      .appendOffset("+HH", "Z")
      .optionalEnd()
      .optionalStart()
      .appendLiteral("UTC")
      .optionalEnd()
      .toFormatter(Locale.ROOT);

  private InstantText() {}

  /** {@code t} as ISO-8601 UTC with the fraction digits it needs; see the class documentation. */
  public static String canonical(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t);
  }

  /**
   * The formatter of a feature's timestamp {@code pattern}; fails, naming the pattern, when it is not
   * a valid {@link DateTimeFormatter} pattern.
   */
  public static DateTimeFormatter formatter(String pattern) {
    if (pattern == null || pattern.isBlank()) {
      throw new IllegalArgumentException("a timestamp format must be a non-empty pattern such as"
          + " 'yyyy-MM-dd HH:mm:ss', but was '" + pattern + "'");
    }
    try {
      return DateTimeFormatter.ofPattern(pattern, Locale.ROOT);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("timestamp format '" + pattern + "' is not a java.time"
          + " DateTimeFormatter pattern (e.g. 'yyyy-MM-dd HH:mm:ss'): " + e.getMessage(), e);
    }
  }

  /** Reads {@code text} with {@code pattern} (see {@link #formatter}), or the default forms when it is null. */
  public static Instant parse(String text, @Nullable String pattern) {
    return parse(text, pattern == null ? null : formatter(pattern));
  }

  /** Reads {@code text} with {@code format}, or the default forms when it is null. */
  public static Instant parse(String text, @Nullable DateTimeFormatter format) {
    String s = text.trim();
    TemporalAccessor t = (format == null ? LENIENT_ISO : format).parse(s);
    try {
      if (t.isSupported(ChronoField.INSTANT_SECONDS)) {
        return Instant.from(t);
      }
      LocalDate date = LocalDate.from(t);
      LocalTime time = t.query(TemporalQueries.localTime());
      if (time == null && (t.isSupported(ChronoField.MINUTE_OF_HOUR) || t.isSupported(ChronoField.CLOCK_HOUR_OF_AMPM)
          || t.isSupported(ChronoField.HOUR_OF_AMPM))) {
        // "hh:mm" without "a" parses but cannot say which hour: never read it as midnight.
        throw new DateTimeException("its time of day has no full hour (use HH, or hh with a)");
      }
      LocalDateTime local = time == null ? date.atStartOfDay() : date.atTime(time);
      if (t.isSupported(ChronoField.OFFSET_SECONDS)) {
        return local.toInstant(ZoneOffset.ofTotalSeconds(t.get(ChronoField.OFFSET_SECONDS)));
      }
      return local.toInstant(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      throw new DateTimeParseException("'" + s + "' is not a whole date and time: " + e.getMessage(), s, 0, e);
    }
  }

  /**
   * The instant a typed value stands for (see the class documentation), or null when it is not a
   * date or time type (numbers and text are read by the caller: a bare number's unit is its choice).
   */
  public static @Nullable Instant of(Object value) {
    if (value instanceof Instant) {
      return (Instant) value;
    }
    if (value instanceof org.joda.time.ReadableInstant) {
      return Instant.ofEpochMilli(((org.joda.time.ReadableInstant) value).getMillis());
    }
    if (value instanceof java.sql.Timestamp) {
      return ((java.sql.Timestamp) value).toInstant();
    }
    if (value instanceof java.sql.Date) {
      return ((java.sql.Date) value).toLocalDate().atStartOfDay().toInstant(ZoneOffset.UTC);
    }
    if (value instanceof Date) {
      return ((Date) value).toInstant();
    }
    if (value instanceof OffsetDateTime) {
      return ((OffsetDateTime) value).toInstant();
    }
    if (value instanceof ZonedDateTime) {
      return ((ZonedDateTime) value).toInstant();
    }
    if (value instanceof LocalDateTime) {
      return ((LocalDateTime) value).toInstant(ZoneOffset.UTC);
    }
    if (value instanceof LocalDate) {
      return ((LocalDate) value).atStartOfDay().toInstant(ZoneOffset.UTC);
    }
    return null;
  }

  /** Epoch milliseconds of {@code t}, floored: the unit of a timestamp feature's value. */
  public static long epochMillis(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1000L), t.getNano() / 1_000_000);
  }
}
