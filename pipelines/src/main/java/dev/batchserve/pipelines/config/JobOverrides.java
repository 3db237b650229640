package dev.batchserve.pipelines.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --set a.b[1].c=value} overrides of a job file, applied to its document tree before the
 * document is bound and checked, so an override is checked like the file itself. The value is read
 * as a YAML scalar, list or mapping; {@code name[n]} with {@code n} the list's size appends.
 */
final class JobOverrides {
  private static final Pattern SEGMENT = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?:\\[(\\d+)])?");

  private JobOverrides() {}

  /** Sets {@code override} in {@code root}; a malformed override adds a problem naming it instead. */
  static void apply(ObjectNode root, String override, List<String> errors) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      errors.add("--set needs key.path=value, but was '" + override + "'");
      return;
    }
    String key = override.substring(0, eq).trim();
    String raw = override.substring(eq + 1);
    JsonNode value;
    try {
      value = raw.isEmpty() ? NullNode.getInstance() : JobFile.YAML.readTree(JobFile.quoteInf(raw));
      if (value == null || value.isMissingNode()) {
        value = NullNode.getInstance();
      }
    } catch (JsonProcessingException e) {
      errors.add("--set " + key + ": cannot read the value '" + raw + "': " + e.getOriginalMessage());
      return;
    }
    String[] segments = key.split("\\.", -1);
    JsonNode node = root;
    String done = "";
    for (int s = 0; s < segments.length; s++) {
      Matcher m = SEGMENT.matcher(segments[s]);
      if (!m.matches()) {
        errors.add("--set " + key + ": '" + segments[s] + "' is not a field name or name[index]");
        return;
      }
      String field = m.group(1);
      boolean last = s == segments.length - 1;
      ObjectNode obj = (ObjectNode) node;
      done = done.isEmpty() ? field : done + "." + field;
      if (m.group(2) == null) {
        if (last) {
          obj.set(field, value);
          return;
        }
        JsonNode next = obj.get(field);
        if (next == null || next.isNull()) {
          next = obj.putObject(field);
        } else if (!next.isObject()) {
          errors.add("--set " + key + ": " + done + " is not a mapping");
          return;
        }
        node = next;
      } else {
        int index = Integer.parseInt(m.group(2));
        JsonNode arr = obj.get(field);
        if (arr == null || arr.isNull()) {
          arr = obj.putArray(field);
        } else if (!arr.isArray()) {
          errors.add("--set " + key + ": " + done + " is not a list");
          return;
        }
        ArrayNode list = (ArrayNode) arr;
        if (index > list.size()) {
          errors.add("--set " + key + ": index " + index + " is out of range (" + done + " has " + list.size()
              + " entries; use index " + list.size() + " to append)");
          return;
        }
        done = done + "[" + index + "]";
        if (last) {
          if (index == list.size()) {
            list.add(value);
          } else {
            list.set(index, value);
          }
          return;
        }
        if (index == list.size()) {
          list.add(JsonNodeFactory.instance.objectNode());
        } else if (!list.get(index).isObject()) {
          errors.add("--set " + key + ": " + done + " is not a mapping");
          return;
        }
        node = list.get(index);
      }
    }
  }
}
