package dev.batchserve.transforms.features;

import dev.batchserve.transforms.values.Reasons;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads one raw value as its declared feature type and validates it: the single place where CSV
 * strings, Beam Row values and Java objects become feature values, shared by transforming and
 * fitting so that both see the same numbers.
 *
 * <pre>{@code
 * FeatureValues.Cell c = FeatureValues.read(feature, true, "12.5", true);
 * if (c.reason == null && !c.missing) { double x = c.num; }
 * }</pre>
 */
final class FeatureValues {
  static final String MISSING_REQUIRED = Reasons.MISSING_REQUIRED;
  static final String WRONG_TYPE = Reasons.WRONG_TYPE;
  static final String UNPARSABLE = Reasons.UNPARSABLE;
  static final String NOT_FINITE = Reasons.NOT_FINITE;
  /** A well-formed literal a double or long cannot hold ({@code 1e-400}, {@code 1e400}). */
  static final String NOT_REPRESENTABLE = Reasons.NOT_REPRESENTABLE;
  static final String OUT_OF_RANGE = Reasons.OUT_OF_RANGE;
  static final String UNKNOWN_CATEGORY = Reasons.UNKNOWN_CATEGORY;
  static final String WRONG_LENGTH = Reasons.WRONG_LENGTH;

  private static final Pattern EPOCH_MILLIS = Pattern.compile("-?\\d+");

  private FeatureValues() {}

  /** One feature of one record after reading: missing, invalid (reason set), or a value. */
  static final class Cell {
    boolean missing;
    /** The numeric value (epoch millis for timestamps, 1/0 for booleans). */
    double num;
    /** The category text (strings, and longs/booleans used as categories). */
    @Nullable String cat;
    double @Nullable [] list;
    @Nullable String reason;
    @Nullable String message;

    static Cell missing() {
      Cell c = new Cell();
      c.missing = true;
      return c;
    }

    static Cell invalid(String reason, String message) {
      Cell c = new Cell();
      c.reason = reason;
      c.message = message;
      return c;
    }
  }

  /**
   * Reads {@code value} for feature {@code f}. {@code present} says whether the record had the
   * column at all; {@code checkVocabulary} is false while fitting (the vocabulary does not exist
   * yet).
   */
  static Cell read(Feature f, boolean present, @Nullable Object value, boolean checkVocabulary) {
    if (!present || value == null || (value instanceof CharSequence && isBlank((CharSequence) value))) {
      if (f.required) {
        return Cell.invalid(
            MISSING_REQUIRED,
            present
                ? "required feature '" + f.name + "' is null or empty"
                : "required feature '" + f.name + "' is absent from the record");
      }
      return Cell.missing();
    }
    Cell c = coerce(f, value);
    if (c.reason != null) {
      return c;
    }
    return validate(f, c, checkVocabulary);
  }

  /** Converts a stored value (imputation constant, fitted mode) into a cell, without validation. */
  static Cell ofStored(Feature f, Object value) {
    if (value instanceof Number
        && (f.type == FeatureType.DOUBLE || f.type == FeatureType.LONG || f.type == FeatureType.TIMESTAMP)) {
      // Mean/median imputations of integer features are not integers: keep the exact double.
      Cell c = new Cell();
      c.num = ((Number) value).doubleValue();
      c.cat = f.type == FeatureType.LONG ? Long.toString((long) c.num) : Double.toString(c.num);
      return c;
    }
    Cell c = coerce(f, value);
    if (c.reason != null) {
      throw new IllegalArgumentException(
          "stored value " + value + " of feature '" + f.name + "' is not a " + f.type.json() + ": "
              + c.message);
    }
    return c;
  }

  private static Cell validate(Feature f, Cell c, boolean checkVocabulary) {
    if (f.type == FeatureType.DOUBLE && !Double.isFinite(c.num)) {
      if (Double.isNaN(c.num) && Boolean.TRUE.equals(f.nanAsMissing)) {
        return f.required
            ? Cell.invalid(MISSING_REQUIRED, "required feature '" + f.name + "' is NaN")
            : Cell.missing();
      }
      return Cell.invalid(NOT_FINITE, f.name + " must be finite, but was " + c.num);
    }
    if (f.type == FeatureType.LIST) {
      double[] xs = c.list;
      if (xs.length != f.length) {
        return Cell.invalid(
            WRONG_LENGTH, f.name + " must have " + f.length + " elements, but had " + xs.length);
      }
      for (int i = 0; i < xs.length; i++) {
        if (!Double.isFinite(xs[i])) {
          return Cell.invalid(NOT_FINITE, f.name + "[" + i + "] must be finite, but was " + xs[i]);
        }
        String range = rangeViolation(f, xs[i]);
        if (range != null) {
          return Cell.invalid(OUT_OF_RANGE, f.name + "[" + i + "] " + range);
        }
      }
      return c;
    }
    if (f.type == FeatureType.DOUBLE || f.type == FeatureType.LONG || f.type == FeatureType.TIMESTAMP) {
      String range = rangeViolation(f, c.num);
      if (range != null) {
        Cell outside = Cell.invalid(OUT_OF_RANGE, f.name + " " + range);
        // Kept so that a run's profile counts the value where it fell (FeatureProfile).
        outside.num = c.num;
        outside.cat = c.cat;
        return outside;
      }
    }
    if (checkVocabulary && f.vocabulary != null && c.cat != null && f.vocabularyIndex().get(c.cat) == null) {
      Cell unknown = Cell.invalid(
          UNKNOWN_CATEGORY, f.name + " has value '" + c.cat + "' outside its vocabulary");
      // Kept so that a keep policy can route it to an OOV bucket.
      unknown.cat = c.cat;
      unknown.num = c.num;
      return unknown;
    }
    return c;
  }

  private static @Nullable String rangeViolation(Feature f, double x) {
    if (f.min != null && x < f.min) {
      return "must be >= " + f.min + ", but was " + x;
    }
    if (f.max != null && x > f.max) {
      return "must be <= " + f.max + ", but was " + x;
    }
    return null;
  }

  private static Cell coerce(Feature f, Object value) {
    switch (f.type) {
      case DOUBLE:
        return coerceDouble(f, value);
      case LONG:
        return coerceLong(f, value);
      case STRING:
        if (value instanceof CharSequence) {
          Cell c = new Cell();
          c.cat = value.toString();
          return c;
        }
        return wrongType(f, value);
      case BOOLEAN:
        return coerceBoolean(f, value);
      case TIMESTAMP:
        return coerceTimestamp(f, value);
      case LIST:
        return coerceList(f, value);
      default:
        throw new IllegalStateException("unhandled type " + f.type);
    }
  }

  private static Cell coerceDouble(Feature f, Object value) {
    if (value instanceof Number) {
      return number(((Number) value).doubleValue(), null);
    }
    if (value instanceof CharSequence) {
      String s = value.toString().trim();
      try {
        return number(DecimalText.parseDouble(s), null);
      } catch (DecimalText.NotANumber e) {
        return notANumber(f, s, e);
      }
    }
    return wrongType(f, value);
  }

  private static Cell coerceLong(Feature f, Object value) {
    if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte) {
      long x = ((Number) value).longValue();
      return number(x, Long.toString(x));
    }
    if (value instanceof BigInteger || value instanceof BigDecimal || value instanceof Double
        || value instanceof Float) {
      // Integral values in a wider type are fine (a Parquet DOUBLE column of counts); 2.5 is not.
      try {
        long x = new BigDecimal(value.toString()).longValueExact();
        return number(x, Long.toString(x));
      } catch (ArithmeticException | NumberFormatException e) {
        return Cell.invalid(WRONG_TYPE, f.name + " must be an integer, but was " + value);
      }
    }
    if (value instanceof CharSequence) {
      String s = value.toString().trim();
      try {
        long x = DecimalText.parseLong(s);
        return number(x, Long.toString(x));
      } catch (DecimalText.NotANumber e) {
        return notANumber(f, s, e);
      }
    }
    return wrongType(f, value);
  }

  private static Cell coerceBoolean(Feature f, Object value) {
    if (value instanceof Boolean) {
      boolean b = (Boolean) value;
      return number(b ? 1 : 0, Boolean.toString(b));
    }
    if (value instanceof CharSequence) {
      String s = value.toString().trim().toLowerCase(Locale.ROOT);
      if (s.equals("true") || s.equals("1")) {
        return number(1, "true");
      }
      if (s.equals("false") || s.equals("0")) {
        return number(0, "false");
      }
      return unparsable(f, value.toString());
    }
    return wrongType(f, value);
  }

  /**
   * A timestamp's value is its epoch milliseconds, floored: typed instants of any precision (Parquet
   * micros and nanos, JDBC) give the same number as their text. A bare integer (a Parquet INT64
   * without a timestamp type, digits in text) is read as epoch milliseconds; text in the feature's
   * format when it has one, else in {@link InstantText}'s default forms.
   */
  private static Cell coerceTimestamp(Feature f, Object value) {
    if (value instanceof Long || value instanceof Integer) {
      return number(((Number) value).longValue(), null);
    }
    Instant typed = InstantText.of(value);
    if (typed != null) {
      return instant(f, typed, value);
    }
    if (value instanceof CharSequence) {
      String s = value.toString().trim();
      if (f.format == null && EPOCH_MILLIS.matcher(s).matches()) {
        try {
          return number(DecimalText.parseLong(s), null);
        } catch (DecimalText.NotANumber e) {
          return notANumber(f, s, e);
        }
      }
      Instant t;
      try {
        t = InstantText.parse(s, f.formatter());
      } catch (DateTimeParseException e) {
        return f.format == null
            ? unparsable(f, s)
            : Cell.invalid(UNPARSABLE, "cannot parse " + f.name + " as a timestamp in format '" + f.format
                + "': '" + s + "'");
      }
      return instant(f, t, s);
    }
    return wrongType(f, value);
  }

  private static Cell instant(Feature f, Instant t, Object value) {
    try {
      return number(InstantText.epochMillis(t), null);
    } catch (ArithmeticException e) {
      return Cell.invalid(NOT_REPRESENTABLE, f.name + ": " + value + " is outside the epoch milliseconds a long holds");
    }
  }

  private static Cell coerceList(Feature f, Object value) {
    List<Object> items = new ArrayList<>();
    if (value instanceof double[]) {
      for (double d : (double[]) value) {
        items.add(d);
      }
    } else if (value instanceof float[]) {
      for (float d : (float[]) value) {
        items.add(d);
      }
    } else if (value instanceof Iterable) {
      for (Object o : (Iterable<?>) value) {
        items.add(o);
      }
    } else if (value instanceof CharSequence) {
      // CSV cells carry lists as "1;2;3" or "[1, 2, 3]".
      String s = value.toString().trim();
      if (s.startsWith("[") && s.endsWith("]")) {
        s = s.substring(1, s.length() - 1);
      }
      for (String part : s.split("[;,]", -1)) {
        items.add(part.trim());
      }
    } else {
      return wrongType(f, value);
    }
    double[] xs = new double[items.size()];
    for (int i = 0; i < xs.length; i++) {
      Object o = items.get(i);
      if (o instanceof Number) {
        xs[i] = ((Number) o).doubleValue();
      } else if (o instanceof CharSequence) {
        try {
          xs[i] = DecimalText.parseDouble(o.toString().trim());
        } catch (DecimalText.NotANumber e) {
          return e.problem() == DecimalText.Problem.SYNTAX
              ? unparsable(f, String.valueOf(value))
              : Cell.invalid(NOT_REPRESENTABLE, f.name + "[" + i + "]: " + e.getMessage());
        }
      } else {
        return Cell.invalid(
            WRONG_TYPE,
            f.name + "[" + i + "] must be a number, but was " + (o == null ? "null" : typeOf(o)));
      }
    }
    Cell c = new Cell();
    c.list = xs;
    return c;
  }

  private static Cell number(double x, @Nullable String cat) {
    Cell c = new Cell();
    c.num = x;
    c.cat = cat;
    return c;
  }

  private static Cell notANumber(Feature f, String text, DecimalText.NotANumber e) {
    return e.problem() == DecimalText.Problem.SYNTAX
        ? unparsable(f, text)
        : Cell.invalid(NOT_REPRESENTABLE, f.name + ": " + e.getMessage());
  }

  private static Cell unparsable(Feature f, String text) {
    return Cell.invalid(
        UNPARSABLE, "cannot parse " + f.name + " as " + f.type.json() + ": '" + text + "'");
  }

  private static Cell wrongType(Feature f, Object value) {
    return Cell.invalid(
        WRONG_TYPE, f.name + " must be " + f.type.json() + ", but was a " + typeOf(value));
  }

  private static String typeOf(Object o) {
    return o instanceof Collection ? "list" : o.getClass().getSimpleName();
  }

  private static boolean isBlank(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      if (!Character.isWhitespace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
