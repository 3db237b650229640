package dev.batchserve.pipelines.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystems;

/**
 * Reads a job file into a {@link JobConfig}: text -> document tree -> {@code --set} overrides
 * ({@link JobOverrides}) -> Jackson binds the sections (an unknown field fails naming its path and
 * the fields known there) -> {@link JobConfig#validate}. Every step's problems are reported at once,
 * as one {@link JobConfig.InvalidConfig}.
 */
final class JobFile {
  static final ObjectMapper YAML = configure(new ObjectMapper(new YAMLFactory()));
  static final ObjectMapper JSON = configure(new ObjectMapper());
  /**
   * YAML's {@code .inf} where a value starts: the YAML parser used here cannot read it as a number
   * ("Malformed numeric value"), so it is quoted before parsing, and a threshold reads '.inf' as off.
   */
  private static final Pattern YAML_INF =
      Pattern.compile("(?m)(^|:\\s+|[\\[,]\\s*|-\\s+)(\\+?\\.(?:inf|Inf|INF))(?=\\s*(?:[,\\]}#]|$))");

  private JobFile() {}

  private static ObjectMapper configure(ObjectMapper m) {
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    return m;
  }

  /** See {@link JobConfig#read}. */
  static JobConfig read(String uri, List<String> overrides) {
    String text;
    try (InputStream in = open(uri)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read job config " + uri, e);
    }
    return parse(text, uri.toLowerCase(Locale.ROOT).endsWith(".json"), uri, overrides);
  }

  private static InputStream open(String uri) throws IOException {
    if (uri.startsWith("classpath:")) {
      String resource = uri.substring("classpath:".length());
      InputStream in = JobConfig.class.getClassLoader().getResourceAsStream(resource);
      if (in == null) {
        throw new IOException("no resource " + resource + " on the class path");
      }
      return in;
    }
    return Channels.newInputStream(FileSystems.open(FileSystems.matchSingleFileSpec(uri).resourceId()));
  }

  /** See {@link JobConfig#parse}. */
  static JobConfig parse(String text, boolean json, String origin, List<String> overrides) {
    JsonNode tree;
    try {
      tree = json ? JSON.readTree(text) : YAML.readTree(quoteInf(text));
    } catch (JsonProcessingException e) {
      throw new JobConfig.InvalidConfig(origin, List.of("not valid " + (json ? "JSON" : "YAML") + ": "
          + e.getOriginalMessage() + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr())));
    }
    if (tree == null || tree.isMissingNode() || tree instanceof NullNode) {
      throw new JobConfig.InvalidConfig(origin, List.of("the document is empty"));
    }
    if (!tree.isObject()) {
      throw new JobConfig.InvalidConfig(origin,
          List.of("the document must be a mapping of fields, but was " + tree.getNodeType()));
    }
    ObjectNode root = (ObjectNode) tree;
    List<String> errors = new ArrayList<>();
    for (String o : overrides) {
      JobOverrides.apply(root, o, errors);
    }
    if (!errors.isEmpty()) {
      throw new JobConfig.InvalidConfig(origin, errors);
    }
    JobConfig config;
    try {
      config = YAML.treeToValue(root, JobConfig.class);
    } catch (UnrecognizedPropertyException e) {
      Set<String> known = new TreeSet<>();
      e.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
      throw new JobConfig.InvalidConfig(origin, List.of("unknown field '" + path(e) + "' (known fields there: "
          + String.join(", ", known) + ")"));
    } catch (JsonMappingException e) {
      throw new JobConfig.InvalidConfig(origin, List.of(path(e) + " has the wrong type: " + e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      throw new JobConfig.InvalidConfig(origin, List.of(e.getOriginalMessage()));
    }
    List<String> problems = config.validate();
    if (!problems.isEmpty()) {
      throw new JobConfig.InvalidConfig(origin, problems);
    }
    return config;
  }

  /** The job as JSON, unset fields left out. */
  static String toJson(JobConfig job) {
    try {
      return JSON.copy().setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
          .writeValueAsString(job);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The field path of a binding error: {@code sinks[1].port}. */
  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "(document)" : sb.toString();
  }

  /** {@code maxPsi: .inf} as {@code maxPsi: '.inf'}; see {@link #YAML_INF}. */
  static String quoteInf(String yaml) {
    return YAML_INF.matcher(yaml).replaceAll("$1'$2'");
  }
}
