package dev.batchserve.transforms.serving;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

/**
 * How long ago a run was published, as the {@code lookup} and {@code check-staleness} verbs report
 * it: from the time the run was published (its {@code published_at}), never from its prediction
 * timestamp (the end of its input window, which for a run of the current interval lies ahead). A
 * publish time ahead of the reader's clock (clock skew) counts as age zero, so an age is never
 * negative.
 *
 * <pre>{@code
 * Age age = Age.since(publishedAt, Instant.now());
 * age.seconds();  // 11520
 * age.human();    // "3h 12m"
 * }</pre>
 */
public final class Age {
  private final Duration duration;

  private Age(Duration duration) {
    this.duration = duration;
  }

  /** The age at {@code now} of something published at {@code publishedAt}; zero when that is ahead of {@code now}. */
  public static Age since(Instant publishedAt, Instant now) {
    Duration d = Duration.between(Objects.requireNonNull(publishedAt, "publishedAt"), Objects.requireNonNull(now, "now"));
    return new Age(d.isNegative() ? Duration.ZERO : d);
  }

  public Duration duration() {
    return duration;
  }

  /** Whole seconds (rounded down): the {@code age_seconds} of the JSON outputs. */
  public long seconds() {
    return duration.getSeconds();
  }

  /** The age for people: days, hours, minutes and seconds, zero parts left out ({@code 1d 2h}, {@code 3h 12m}, {@code 42s}). */
  public String human() {
    return human(duration);
  }

  /** {@code d} written as {@link #human()} does; a negative duration is written as zero. */
  public static String human(Duration d) {
    long s = d.isNegative() ? 0 : d.getSeconds();
    long[] parts = {s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60};
    String[] units = {"d", "h", "m", "s"};
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      if (parts[i] != 0) {
        out.append(out.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%d%s", parts[i], units[i]));
      }
    }
    return out.length() == 0 ? "0s" : out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Age && ((Age) o).duration.equals(duration);
  }

  @Override
  public int hashCode() {
    return duration.hashCode();
  }

  @Override
  public String toString() {
    return human();
  }
}
