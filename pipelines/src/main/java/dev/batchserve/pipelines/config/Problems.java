package dev.batchserve.pipelines.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The problems found in one job file, each naming its field path. A value is checked by the code
 * that will use it ({@link #check}): that code's message follows the field's path, so a job file and
 * the transform's own {@code withX} say the same thing ({@code sinks[1].prefix: keyPrefix must match ...}).
 */
final class Problems {
  private final List<String> errors = new ArrayList<>();

  /** Adds a problem; {@code message} starts with the field's path. */
  void add(String message) {
    errors.add(message);
  }

  /**
   * Runs the check of the code that will use a value and returns what it returns; on an
   * {@link IllegalArgumentException} adds {@code at + ": " + its message} and returns null.
   */
  <T> @Nullable T check(String at, Supplier<T> check) {
    try {
      return check.get();
    } catch (IllegalArgumentException e) {
      errors.add(at + ": " + e.getMessage());
      return null;
    }
  }

  /** {@link #check} of a check that returns nothing. */
  void run(String at, Runnable check) {
    check(at, () -> {
      check.run();
      return Boolean.TRUE;
    });
  }

  /** Fields of another kind of source/sink are mistakes (a typo'd type, a half-edited block): names them. */
  void notUsed(String at, String what, Object... nameValue) {
    for (int i = 0; i < nameValue.length; i += 2) {
      if (nameValue[i + 1] != null) {
        errors.add(at + "." + nameValue[i] + " is not used by " + what);
      }
    }
  }

  /** A positive duration as {@link JobConfig#parseDuration} reads it, when set. */
  void duration(String at, @Nullable String value) {
    if (value == null) {
      return;
    }
    try {
      Duration d = JobConfig.parseDuration(value);
      if (d.isZero() || d.isNegative()) {
        errors.add(at + " must be a positive duration, but was '" + value + "'");
      }
    } catch (IllegalArgumentException e) {
      errors.add(at + " " + e.getMessage()); // the message an option's duration gets too
    }
  }

  List<String> list() {
    return List.copyOf(errors);
  }

  static boolean isBlank(@Nullable String s) {
    return s == null || s.isBlank();
  }

  static @Nullable String lower(@Nullable String s) {
    return s == null ? null : s.trim().toLowerCase(java.util.Locale.ROOT);
  }
}
