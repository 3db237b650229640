package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/**
 * A calendar part of a timestamp, in UTC.
 *
 * <pre>{@code
 * FeatureSpec.builder().timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK);
 * }</pre>
 */
public enum DatePart {
  /** 0..23. */
  @JsonProperty("hour") HOUR,
  /** 1 (Monday) .. 7 (Sunday), ISO-8601. */
  @JsonProperty("day_of_week") DAY_OF_WEEK,
  /** 1..31. */
  @JsonProperty("day_of_month") DAY_OF_MONTH,
  /** 1..12. */
  @JsonProperty("month") MONTH;

  String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The part's value at {@code t}, as the model sees it. */
  int valueAt(ZonedDateTime t) {
    switch (this) {
      case HOUR:
        return t.getHour();
      case DAY_OF_WEEK:
        return t.getDayOfWeek().getValue();
      case DAY_OF_MONTH:
        return t.getDayOfMonth();
      case MONTH:
        return t.getMonthValue();
      default:
        throw new IllegalStateException("unhandled date part " + this);
    }
  }

  /** The smallest value (0 for hours, 1 otherwise). */
  public int first() {
    return this == HOUR ? 0 : 1;
  }

  /** How many values the part takes (24, 7, 31, 12): the buckets of its training counts. */
  public int cycle() {
    switch (this) {
      case HOUR:
        return 24;
      case DAY_OF_WEEK:
        return 7;
      case DAY_OF_MONTH:
        return 31;
      case MONTH:
        return 12;
      default:
        throw new IllegalStateException("unhandled date part " + this);
    }
  }

  /** The bucket (0 .. cycle - 1) of the instant {@code epochMillis}, in UTC. */
  public int bucketOf(long epochMillis) {
    return valueAt(Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC)) - first();
  }
}
