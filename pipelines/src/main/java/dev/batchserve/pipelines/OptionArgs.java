package dev.batchserve.pipelines;

import dev.batchserve.transforms.monitoring.QualityThresholds;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Command-line arguments of {@link BatchScoringOptions} as Beam's {@link PipelineOptionsFactory}
 * takes them, its failures as messages that name the option, and typed values in the text form the
 * command line takes ({@link #text}: what the help and the Flex Template metadata show).
 *
 * <p>Beam reads a typed option's text with the value type's own factory ({@code --fallback} with
 * {@code Fallback.parse}, {@code --formats} with {@code FileFormat.parse}), but wraps the factory's
 * message in Jackson's and its own, without the option's name ("Unable to parse JSON value x").
 * {@link #parse} unwraps it: {@code --fallback=median} fails with
 * {@code --fallback must be 'abstain', 'constant:<score>' or 'previous_run[:...]', but was 'median'},
 * the message the job file's {@code fallback} gets too.
 *
 * <pre>{@code
 * BatchScoringOptions o = OptionArgs.parse(BatchScoringOptions.class, "--maxPsi=off", "--formats=jsonl");
 * }</pre>
 */
public final class OptionArgs {
  /**
   * Typed options whose empty text meant "unset" when they were strings ({@code --interval=}):
   * Beam refuses an empty value for any type but String, so such an argument is dropped and the
   * option keeps its default.
   */
  static final Set<String> EMPTY_MEANS_UNSET = Set.of("runDate", "inputFormat", "interval", "passThroughColumns",
      "noDriftFeatures", "onnxOptimizationLevel", "onnxExecutionProvider", "segmentModels", "jdbcViewColumns");

  private static final ObjectMapper JSON = new ObjectMapper();

  private OptionArgs() {}

  /**
   * {@code value} as the command line gives it: its JSON form ({@code FileFormat.JSONL} is
   * {@code jsonl}, a fallback its spec), a list's items and a map's {@code name=value} entries joined by
   * commas, a duration in ISO-8601, a date as {@code yyyy-mm-dd}; {@code "null"} for null.
   */
  public static String text(@Nullable Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof java.time.Duration || value instanceof java.time.LocalDate) {
      return value.toString(); // as their options' ToStringSerializer writes them
    }
    if (value instanceof java.util.Map) {
      return MapText.text((java.util.Map<?, ?>) value);
    }
    JsonNode n = JSON.valueToTree(value);
    if (n.isArray()) {
      List<String> items = new ArrayList<>();
      n.forEach(i -> items.add(i.asText()));
      return String.join(",", items);
    }
    return n.isValueNode() ? n.asText() : n.toString();
  }

  /** The {@code @Default} of an option's getter in its {@link #text} form; null when it has none. */
  public static @Nullable String defaultText(Method getter) {
    for (Annotation a : getter.getAnnotations()) {
      if (a instanceof Default.String) {
        return ((Default.String) a).value();
      } else if (a instanceof Default.Integer) {
        return String.valueOf(((Default.Integer) a).value());
      } else if (a instanceof Default.Long) {
        return String.valueOf(((Default.Long) a).value());
      } else if (a instanceof Default.Double) {
        return String.valueOf(((Default.Double) a).value());
      } else if (a instanceof Default.Float) {
        return String.valueOf(((Default.Float) a).value());
      } else if (a instanceof Default.Boolean) {
        return String.valueOf(((Default.Boolean) a).value());
      } else if (a instanceof Default.Enum) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object value = Enum.valueOf((Class) getter.getReturnType(), ((Default.Enum) a).value());
        return text(value);
      } else if (a instanceof Default.InstanceFactory) {
        try {
          return text(((Default.InstanceFactory) a).value().getDeclaredConstructor().newInstance().create(null));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException("cannot create the default of " + getter, e);
        }
      }
    }
    return null;
  }

  /**
   * Parses and validates {@code args} as {@code type} after {@link #normalize}.
   *
   * @throws IllegalArgumentException naming the option, for a value its type refuses
   */
  public static <T extends PipelineOptions> T parse(Class<T> type, String... args) {
    String[] normalized = normalize(type, args);
    try {
      return PipelineOptionsFactory.fromArgs(normalized).withValidation().as(type);
    } catch (IllegalArgumentException e) {
      throw namingTheOption(type, normalized, e);
    }
  }

  /** {@link #normalize(Class, String[])} for {@link BatchScoringOptions}. */
  public static String[] normalize(String[] args) {
    return normalize(BatchScoringOptions.class, args);
  }

  /**
   * {@code args} with every quality limit's value as the number its option takes ({@code off}
   * becomes {@code Infinity}, {@code 0} for {@code --minRecords}), without the empty values of
   * {@link #EMPTY_MEANS_UNSET}, and with the text of an option of a value type ({@code --fallback},
   * a duration) as a JSON string: Beam reads such a value as JSON first, so {@code 36 hours} would
   * reach the type as the number 36 and {@code null} as no value. Other arguments are unchanged.
   *
   * @throws IllegalArgumentException naming the option, for a limit that is neither a number nor off
   */
  public static String[] normalize(Class<? extends PipelineOptions> type, String[] args) {
    List<String> out = new ArrayList<>(args.length);
    for (String a : args) {
      int eq = a.indexOf('=');
      String name = a.startsWith("--") && eq > 2 ? a.substring(2, eq) : null;
      String value = name == null ? null : a.substring(eq + 1);
      if (name != null && QualityThresholds.LIMITS.contains(name)) {
        out.add("--" + name + "=" + QualityThresholds.parseLimit(name, value));
      } else if (name != null && EMPTY_MEANS_UNSET.contains(name) && value.isBlank()) {
        continue;
      } else if (name != null && !value.isEmpty() && isReadAsJson(type, name)) {
        try {
          out.add("--" + name + "=" + JSON.writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalStateException(e); // a String always has a JSON form
        }
      } else {
        out.add(a);
      }
    }
    return out.toArray(new String[0]);
  }

  /** Whether Beam reads option {@code name} of {@code type} as JSON: not a string, number, boolean, enum or list. */
  private static boolean isReadAsJson(Class<? extends PipelineOptions> type, String name) {
    Method getter;
    try {
      getter = type.getMethod("get" + Character.toUpperCase(name.charAt(0)) + name.substring(1));
    } catch (NoSuchMethodException e) {
      return false; // another interface's option, or none: Beam says so
    }
    Class<?> t = getter.getReturnType();
    return getter.isAnnotationPresent(com.fasterxml.jackson.databind.annotation.JsonDeserialize.class) || !(t.isPrimitive() || t.isEnum() || t.isArray() || t == String.class || t == Class.class
        || Number.class.isAssignableFrom(t) || t == Boolean.class || t == Character.class
        || java.util.Collection.class.isAssignableFrom(t) || java.util.Map.class.isAssignableFrom(t)
        || t.getName().startsWith("org.apache.beam."));
  }

  /**
   * The failure of {@code args} as one naming its option: the message of the value type's factory
   * (the deepest {@link IllegalArgumentException} under Beam's and Jackson's wrappers), prefixed
   * with {@code --} when it starts with the option's name, with {@code --<option> } when it starts
   * with "must be" (a duration's), else with {@code --<option>: }. A failure
   * no single argument explains (an unknown option) is returned as it is.
   */
  static IllegalArgumentException namingTheOption(
      Class<? extends PipelineOptions> type, String[] args, IllegalArgumentException e) {
    String option = null;
    for (String a : args) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 3) {
        continue;
      }
      try {
        PipelineOptionsFactory.fromArgs(a).as(type);
      } catch (IllegalArgumentException one) {
        option = a.substring(2, eq);
        break;
      }
    }
    if (option == null) {
      return e;
    }
    IllegalArgumentException root = e;
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException) {
        root = (IllegalArgumentException) t;
      }
    }
    String message = root == e ? e.getMessage() : root.getMessage();
    if (message == null) {
      message = String.valueOf(e);
    }
    String named = message.startsWith("--" + option) ? message
        : message.startsWith(option + " ") ? "--" + message
        : message.startsWith("must be ") ? "--" + option + " " + message : "--" + option + ": " + message;
    return new IllegalArgumentException(named, e);
  }
}
