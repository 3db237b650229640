package dev.batchserve.transforms.features;

/**
 * The one grammar numbers are read in from text: every CSV, JSON-lines or BigQuery value of a numeric
 * feature, while fitting, transforming and measuring a run, so that all three see the same numbers.
 *
 * <p>A decimal number is an optional sign, digits with an optional fraction (or a fraction alone),
 * and an optional exponent: {@code 12}, {@code -0.5}, {@code .5}, {@code 5.}, {@code 1e-3},
 * {@code +2.5E10}. The non-finite words {@code nan}, {@code inf} and {@code infinity} (any case, the
 * last two with an optional sign) are read as NaN and the infinities, so that {@code NaN} and
 * {@code nan} meet the same rule (a feature's {@code not_finite} check, or {@code nanAsMissing}).
 * Nothing else is a number: Java's suffixes and hexadecimal ({@code 100.5f}, {@code 300d},
 * {@code 0x1Ap0}), digits other than ASCII, spaces inside, and a literal whose value a double cannot
 * hold: a nonzero literal that would round to zero ({@code 1e-400}: {@link Problem#UNDERFLOW}) or a
 * finite literal that would round to infinity ({@code 1e400}: {@link Problem#OVERFLOW}). Integers
 * ({@link #parseLong}) are an optional sign and ASCII digits within the range of a long.
 *
 * <pre>{@code
 * try {
 *   double x = DecimalText.parseDouble("2.5e-3");
 * } catch (DecimalText.NotANumber e) {
 *   e.problem(); // SYNTAX, UNDERFLOW or OVERFLOW, and e.getMessage() names the text
 * }
 * }</pre>
 */
public final class DecimalText {
  private DecimalText() {}

  /** Why a text is not a number. */
  public enum Problem {
    /** Not in the grammar at all. */
    SYNTAX,
    /** A nonzero literal too small for a double: it would silently become 0. */
    UNDERFLOW,
    /** A finite literal too large for its type: it would become infinity (or wrap, for a long). */
    OVERFLOW
  }

  /** A text that is not a number in this grammar; {@link #problem()} says why. */
  public static final class NotANumber extends NumberFormatException {
    private static final long serialVersionUID = 1L;
    private final Problem problem;

    NotANumber(Problem problem, String message) {
      super(message);
      this.problem = problem;
    }

    public Problem problem() {
      return problem;
    }
  }

  /** The double {@code text} stands for, in the grammar above (no surrounding spaces). */
  public static double parseDouble(CharSequence text) {
    int n = text.length();
    int i = 0;
    if (n > 0 && (text.charAt(0) == '+' || text.charAt(0) == '-')) {
      i = 1;
    }
    Double word = nonFinite(text, i);
    if (word != null) {
      return word;
    }
    int digits = 0;
    boolean nonzero = false;
    while (i < n && isDigit(text.charAt(i))) {
      nonzero |= text.charAt(i) != '0';
      i++;
      digits++;
    }
    if (i < n && text.charAt(i) == '.') {
      i++;
      while (i < n && isDigit(text.charAt(i))) {
        nonzero |= text.charAt(i) != '0';
        i++;
        digits++;
      }
    }
    if (digits == 0) {
      throw syntax(text);
    }
    if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
      i++;
      if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
        i++;
      }
      int expDigits = 0;
      while (i < n && isDigit(text.charAt(i))) {
        i++;
        expDigits++;
      }
      if (expDigits == 0) {
        throw syntax(text);
      }
    }
    if (i != n) {
      throw syntax(text);
    }
    // The text is now a subset of what Double.parseDouble reads, with the same meaning.
    double x = Double.parseDouble(text.toString());
    if (x == 0.0 && nonzero) {
      throw new NotANumber(Problem.UNDERFLOW,
          "'" + text + "' is too small for a double (its magnitude is below 4.9e-324): it would become 0");
    }
    if (Double.isInfinite(x)) {
      throw new NotANumber(Problem.OVERFLOW,
          "'" + text + "' is too large for a double (its magnitude is above 1.8e308): it would become infinity");
    }
    return x;
  }

  /** The long {@code text} stands for: an optional sign and ASCII digits, within a long's range. */
  public static long parseLong(CharSequence text) {
    int n = text.length();
    int i = n > 0 && (text.charAt(0) == '+' || text.charAt(0) == '-') ? 1 : 0;
    if (i == n) {
      throw syntax(text);
    }
    for (int j = i; j < n; j++) {
      if (!isDigit(text.charAt(j))) {
        throw syntax(text);
      }
    }
    try {
      return Long.parseLong(text.toString());
    } catch (NumberFormatException e) {
      throw new NotANumber(Problem.OVERFLOW,
          "'" + text + "' is outside the range of a 64-bit integer [" + Long.MIN_VALUE + ", " + Long.MAX_VALUE + "]");
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static Double nonFinite(CharSequence text, int from) {
    int len = text.length() - from;
    if (len != 3 && len != 8) {
      return null;
    }
    String word = text.subSequence(from, text.length()).toString();
    if (word.equalsIgnoreCase("nan")) {
      return Double.NaN;
    }
    if (word.equalsIgnoreCase("inf") || word.equalsIgnoreCase("infinity")) {
      return text.charAt(0) == '-' ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    return null;
  }

  private static NotANumber syntax(CharSequence text) {
    return new NotANumber(Problem.SYNTAX,
        "'" + text + "' is not a decimal number (optional sign, digits, optional fraction and exponent,"
            + " e.g. -12.5e3; or nan/inf)");
  }
}
