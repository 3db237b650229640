package dev.batchserve.pipelines.templates;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.pipelines.OptionArgs;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * Dataflow Flex Template metadata ({@code metadata.json}) generated from a {@code PipelineOptions}
 * interface: every getter the interface and its super-interfaces of this project declare (not
 * {@code @Hidden}) becomes a parameter, its {@code @Description} the help text, its {@code @Default} the default value; {@code @Validation.Required} makes it
 * mandatory. A typed option shows its default in the text form the command line takes (a list joined
 * by commas, a value's JSON form: {@code parquet,jsonl}); a choice ({@code enum}, or a list of one)
 * gets a regex of its names, any case. The options are documented once, in Java, never again by hand.
 *
 * <pre>{@code
 * String json = FlexTemplateMetadata.of(BatchScoringOptions.class)
 *     .withName("batchserve batch scoring").withDescription("Scores every key ...").toJson();
 * }</pre>
 */
public final class FlexTemplateMetadata {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String INTEGER_REGEX = "^-?[0-9]+$";
  private static final String DECIMAL_REGEX = "^(-?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?|-?Infinity|NaN)$";

  private final Class<? extends PipelineOptions> options;
  private final String name;
  private final String description;

  private FlexTemplateMetadata(Class<? extends PipelineOptions> options, String name, String description) {
    this.options = options;
    this.name = name;
    this.description = description;
  }

  /** Metadata of the options interface {@code options}; named after it until {@link #withName}. */
  public static FlexTemplateMetadata of(Class<? extends PipelineOptions> options) {
    checkArgument(options != null && options.isInterface(), "options must be a PipelineOptions interface, but was %s", options);
    return new FlexTemplateMetadata(options, options.getSimpleName(), "");
  }

  public FlexTemplateMetadata withName(String name) {
    checkArgument(name != null && !name.isBlank(), "template name must not be empty, but was '%s'", name);
    return new FlexTemplateMetadata(options, name, description);
  }

  public FlexTemplateMetadata withDescription(String description) {
    checkArgument(description != null, "template description must not be null");
    return new FlexTemplateMetadata(options, name, description);
  }

  /** The metadata document: {@code {name, description, parameters: [...]}}. */
  public ObjectNode toJsonNode() {
    ObjectNode root = JSON.createObjectNode();
    root.put("name", name);
    root.put("description", description);
    root.put("streaming", false);
    ArrayNode params = root.putArray("parameters");
    for (Method getter : getters()) {
      params.add(parameter(getter));
    }
    return root;
  }

  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJsonNode()) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The option getters the interface and its super-interfaces of this project declare (not Beam's
   * own options), except {@code @Hidden} ones, sorted by name.
   */
  List<Method> getters() {
    List<Class<?>> interfaces = new java.util.ArrayList<>();
    collect(options, interfaces);
    return interfaces.stream().flatMap(i -> Arrays.stream(i.getDeclaredMethods()))
        .filter(m -> !Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0)
        .filter(m -> !m.isAnnotationPresent(org.apache.beam.sdk.options.Hidden.class))
        .filter(m -> propertyName(m) != null)
        .sorted(Comparator.comparing(FlexTemplateMetadata::propertyName))
        .collect(Collectors.toList());
  }

  private static void collect(Class<?> type, List<Class<?>> into) {
    if (into.contains(type) || !type.getName().startsWith(PROJECT_PACKAGE)) {
      return;
    }
    into.add(type);
    for (Class<?> parent : type.getInterfaces()) {
      collect(parent, into);
    }
  }

  private static final String PROJECT_PACKAGE = "dev.batchserve.";

  private static String propertyName(Method m) {
    String n = m.getName();
    if (n.startsWith("get") && n.length() > 3) {
      return Character.toLowerCase(n.charAt(3)) + n.substring(4);
    }
    if (n.startsWith("is") && n.length() > 2 && (m.getReturnType() == boolean.class || m.getReturnType() == Boolean.class)) {
      return Character.toLowerCase(n.charAt(2)) + n.substring(3);
    }
    return null;
  }

  private ObjectNode parameter(Method getter) {
    String property = propertyName(getter);
    Description help = getter.getAnnotation(Description.class);
    checkArgument(help != null && !help.value().isBlank(),
        "option --%s of %s has no @Description: the template's help text comes from it", property, options.getName());
    ObjectNode p = JSON.createObjectNode();
    p.put("name", property);
    p.put("label", label(property));
    p.put("helpText", help.value());
    p.put("isOptional", getter.getAnnotation(Validation.Required.class) == null);
    Class<?> type = getter.getReturnType();
    if (QualityThresholds.LIMITS.contains(property) && !property.equals("minDriftSample")) {
      // A circuit-breaker limit also takes "off" (BatchScoringPipeline.options reads it), so it is no NUMBER;
      // minDriftSample is no check and has no off.
      p.put("paramType", "TEXT");
      String number = type == long.class ? INTEGER_REGEX : DECIMAL_REGEX;
      p.putArray("regexes").add("^(?:" + number.substring(1, number.length() - 1) + "|[oO][fF][fF])$");
    } else if (type == boolean.class || type == Boolean.class) {
      p.put("paramType", "BOOLEAN");
    } else if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
      p.put("paramType", "NUMBER");
      p.putArray("regexes").add(INTEGER_REGEX);
    } else if (type == double.class || type == float.class || type == Double.class || type == Float.class) {
      p.put("paramType", "NUMBER");
      p.putArray("regexes").add(DECIMAL_REGEX);
    } else {
      p.put("paramType", "TEXT");
      Class<?> choice = type.isEnum() ? type : listElement(getter);
      if (choice != null && choice.isEnum()) {
        String names = Arrays.stream(choice.getEnumConstants()).map(OptionArgs::text)
            .collect(Collectors.joining("|", "(?:", ")"));
        p.putArray("regexes").add(type.isEnum() ? "^(?i:" + names + ")$" : "^(?i:" + names + "(?:," + names + ")*)$");
      }
    }
    String def = OptionArgs.defaultText(getter);
    if (def != null && !def.isEmpty()) { // empty defaults mean "derived at run time": nothing to show
      p.put("defaultValue", def);
    }
    return p;
  }

  /** The element type of a {@code List<E>} option, or null. */
  private static Class<?> listElement(Method getter) {
    Type t = getter.getGenericReturnType();
    if (t instanceof ParameterizedType && List.class.equals(((ParameterizedType) t).getRawType())) {
      Type e = ((ParameterizedType) t).getActualTypeArguments()[0];
      return e instanceof Class ? (Class<?>) e : null;
    }
    return null;
  }

  /** "batchSize" -> "Batch size". */
  static String label(String property) {
    StringBuilder s = new StringBuilder();
    for (char c : property.toCharArray()) {
      if (Character.isUpperCase(c) && s.length() > 0) {
        s.append(' ').append(Character.toLowerCase(c));
      } else {
        s.append(s.length() == 0 ? Character.toUpperCase(c) : c);
      }
    }
    return s.toString();
  }
}
