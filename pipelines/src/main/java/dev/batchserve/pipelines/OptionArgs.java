package dev.batchserve.pipelines;

import dev.batchserve.transforms.monitoring.QualityThresholds;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Command-line arguments of {@link BatchScoringOptions} as Beam's {@link PipelineOptionsFactory}
 * takes them, and its failures as messages that name the option.
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
  static final Set<String> EMPTY_MEANS_UNSET = Set.of("inputFormat", "interval", "passThroughColumns", "noDriftFeatures");

  private OptionArgs() {}

  /**
   * Parses and validates {@code args} as {@code type} after {@link #normalize}.
   *
   * @throws IllegalArgumentException naming the option, for a value its type refuses
   */
  public static <T extends PipelineOptions> T parse(Class<T> type, String... args) {
    String[] normalized = normalize(args);
    try {
      return PipelineOptionsFactory.fromArgs(normalized).withValidation().as(type);
    } catch (IllegalArgumentException e) {
      throw namingTheOption(type, normalized, e);
    }
  }

  /**
   * {@code args} with every quality limit's value as the number its option takes ({@code off}
   * becomes {@code Infinity}, {@code 0} for {@code --minRecords}) and without the empty values of
   * {@link #EMPTY_MEANS_UNSET}; other arguments are unchanged.
   *
   * @throws IllegalArgumentException naming the option, for a limit that is neither a number nor off
   */
  public static String[] normalize(String[] args) {
    List<String> out = new ArrayList<>(args.length);
    for (String a : args) {
      int eq = a.indexOf('=');
      String name = a.startsWith("--") && eq > 2 ? a.substring(2, eq) : null;
      if (name != null && QualityThresholds.LIMITS.contains(name)) {
        out.add("--" + name + "=" + QualityThresholds.parseLimit(name, a.substring(eq + 1)));
      } else if (name == null || !(EMPTY_MEANS_UNSET.contains(name) && a.substring(eq + 1).isBlank())) {
        out.add(a);
      }
    }
    return out.toArray(new String[0]);
  }

  /**
   * The failure of {@code args} as one naming its option: the message of the value type's factory
   * (the deepest {@link IllegalArgumentException} under Beam's and Jackson's wrappers), prefixed
   * with {@code --} when it starts with the option's name, else with {@code --<option>: }. A failure
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
    return new IllegalArgumentException(
        message.startsWith(option + " ") ? "--" + message : "--" + option + ": " + message, e);
  }
}
