package dev.batchserve.pipelines.config;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.pipelines.schedule.UpstreamMarker;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.monitoring.QualityThresholds;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.sink.JdbcEndpoint;
import dev.batchserve.transforms.sink.JdbcSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.FileSystems;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A batch-scoring job described in one YAML or JSON file: where the records come from, how they are
 * keyed, which feature spec and model score them, where the predictions go, what a key without a
 * prediction gets, how the job is scheduled and when it alerts.
 *
 * <p>{@link #parse} and {@link #read} reject unknown fields and invalid values with messages that
 * name the field path ({@code sinks[1].port must be in [1, 65535], but was 0}); every problem of a
 * file is reported at once. {@code --set key.path=value} overrides ({@link #withOverrides}) are
 * applied to the document before it is validated, so they are checked like the file itself.
 * {@link #toPipelineArgs} turns the job into {@code BatchScoringPipeline} arguments: every source
 * type (files, JDBC, BigQuery table or query) and sink type (files, Redis, PostgreSQL with an
 * optional serving view, BigQuery) runs; it fails, naming the field, for a job without a files sink
 * (the run's manifest and report live there) or with two sinks of one type.
 *
 * <pre>{@code
 * JobConfig job = JobConfig.read("jobs/fraud-daily.yaml", List.of("batchSize=512"));
 * String[] args = job.toPipelineArgs(job.runInfo(LocalDate.parse("2026-11-28"), 0));
 * BatchScoringPipeline.main(args);
 * }</pre>
 *
 * <p>The format (every field but {@code name}, {@code source}, {@code keyColumns}, {@code model}
 * and {@code sinks} is optional):
 *
 * <pre>
 * name: fraud                       # the run id's first part: [a-z0-9][a-z0-9_-]{0,62}
 * source: {type: files, path: data/accounts-*.parquet, format: parquet}   # csv, jsonl or parquet
 *         # or {type: jdbc, url: jdbc:postgresql://..., query: SELECT ...} / {type: bigquery, table: p:d.t}
 *         # or {type: bigquery, query: "SELECT ... WHERE day = '{run_date}'"} (standard SQL)
 * keyColumns: [account_id]          # or one string
 * passThroughColumns: [row_id]      # copied into each prediction (JSON lines: "pass_through")
 * featureSpec: models/fraud/1/feature-spec.json   # default: inside the model directory
 * model: models/fraud/1
 * segments: {column: region, models: {eu: models/churn-eu/3, us: models/churn-us/5}}
 *         # a model per segment (or keySeparator: ":" for the key's prefix); model scores the others
 * batchSize: 256                    # 1 to 100000
 * modelRuntime: {intraOpThreads: 2, interOpThreads: 1, device: /CPU:0,   # as --modelIntraOpThreads ...
 *                onnxOptimizationLevel: extended, onnxExecutionProvider: cpu}
 * sinks:
 *   - {type: files, root: predictions/fraud, formats: [parquet, jsonl], numShards: 4}
 *   - {type: redis, host: localhost, port: 6379, prefix: fraud, ttl: 36h}
 *   - {type: jdbc, url: jdbc:postgresql://db/scores, table: fraud_predictions,
 *      view: fraud_risk, viewColumns: {account_id: key, risk_score: score, score_date: run_date}}
 *   - {type: bigquery, table: project:dataset.fraud_predictions, tempLocation: gs://bucket/tmp}
 * fallback: {policy: constant, value: 0.02}       # or {policy: abstain}
 * duplicateKeys: error              # or last_wins
 * schedule: {interval: daily, waitForMarker: lake/tx/dt={run_date}, markerTimeout: 2h, markerPoll: 1m}
 * alerts:
 *   thresholds: {maxDeadLetterRate: 0.05, maxPsi: 0.25, maxJsDivergence: 0.1, maxCategoryShift: 0.2,
 *                maxPredictionMeanShift: 0.1, minDriftSample: 100,
 *                minRecords: 1, maxRecordDrop: 0.5}   # off turns any of these checks off: maxPsi: off
 *   noDriftFeatures: [signup_ts]      # profiled, never compared with training
 *   webhook: https://hooks.example.com/batchserve
 * </pre>
 *
 * <p>Values are checked by the code that uses them: source formats by {@code ReadRecords.Format},
 * file formats by {@code FileFormat}, Redis and JDBC sinks by {@code RedisEndpoint}/{@code RedisSink}
 * and {@code JdbcEndpoint}/{@code JdbcSink}, thresholds by {@code QualityThresholds.withLimit}; an
 * error names the field, then gives that code's message ({@code sinks[1].prefix: keyPrefix must match ...}).
 * A threshold is a number or {@code off} (the one spelling, also for {@code --maxPsi=off}; YAML reads
 * an unquoted {@code off} as false, which a threshold takes as off too; {@code Infinity} also turns a
 * max limit off). Options given on {@code ConfigJob}'s command line win over the file's values.
 */
public final class JobConfig {
  private static final ObjectMapper YAML = configure(new ObjectMapper(new YAMLFactory()));
  private static final ObjectMapper JSON = configure(new ObjectMapper());
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  /**
   * YAML's {@code .inf} where a value starts: the YAML parser used here cannot read it as a number
   * ("Malformed numeric value"), so it is quoted before parsing, and a threshold reads '.inf' as off.
   */
  private static final Pattern YAML_INF =
      Pattern.compile("(?m)(^|:\\s+|[\\[,]\\s*|-\\s+)(\\+?\\.(?:inf|Inf|INF))(?=\\s*(?:[,\\]}#]|$))");
  private static final Pattern SEGMENT = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)(?:\\[(\\d+)])?");

  private static ObjectMapper configure(ObjectMapper m) {
    m.setVisibility(PropertyAccessor.ALL, Visibility.NONE);
    m.setVisibility(PropertyAccessor.FIELD, Visibility.ANY);
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    return m;
  }

  // ---- the document (Jackson binds these fields) ----
  @Nullable String name;
  @Nullable Source source;
  @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
  @Nullable List<String> keyColumns;
  /** Input columns copied, as text, into each key's prediction (as {@code --passThroughColumns}). */
  @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
  @Nullable List<String> passThroughColumns;
  @Nullable String featureSpec;
  @Nullable String model;
  /** A model per segment (as {@code --segmentColumn}/{@code --segmentKeySeparator} and {@code --segmentModels}). */
  @Nullable Segments segments;
  @Nullable Integer batchSize;
  @Nullable ModelRuntime modelRuntime;
  @Nullable List<Sink> sinks;
  @Nullable FallbackConfig fallback;
  @Nullable String duplicateKeys;
  @Nullable Schedule schedule;
  @Nullable Alerts alerts;

  JobConfig() {}

  /** Where the records come from: {@code files}, {@code jdbc} or {@code bigquery}. */
  public static final class Source {
    @Nullable String type;
    @Nullable String path;
    @Nullable String format;
    @Nullable String url;
    @Nullable String query;
    @Nullable String table;

    public @Nullable String type() {
      return type;
    }

    /** File pattern of a files source; may hold {@code {run_date}}-style placeholders. */
    public @Nullable String path() {
      return path;
    }

    /** {@code csv}, {@code jsonl} or {@code parquet}; null = from the path's extension. */
    public @Nullable String format() {
      return format;
    }

    public @Nullable String url() {
      return url;
    }

    public @Nullable String query() {
      return query;
    }

    public @Nullable String table() {
      return table;
    }
  }

  /** One prediction store; which fields apply depends on {@code type}. */
  public static final class Sink {
    @Nullable String type;
    @Nullable String root;
    @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
    @Nullable List<String> formats;
    @Nullable Integer numShards;
    @Nullable String host;
    @Nullable Integer port;
    @Nullable String prefix;
    @Nullable String ttl;
    @Nullable String url;
    @Nullable String table;
    @Nullable String view;
    java.util.@Nullable LinkedHashMap<String, String> viewColumns;
    @Nullable String tempLocation;

    public @Nullable String type() {
      return type;
    }

    /** A jdbc sink's serving view (see {@code JdbcSink.withView}), or null. */
    public @Nullable String view() {
      return view;
    }

    /** The view's columns: view column -> prediction field, in order. */
    public Map<String, String> viewColumns() {
      return viewColumns == null ? Map.of() : Collections.unmodifiableMap(viewColumns);
    }

    /** A bigquery sink's directory for load files, or null for the pipeline's temp location. */
    public @Nullable String tempLocation() {
      return tempLocation;
    }

    public @Nullable String root() {
      return root;
    }

    public List<String> formats() {
      return formats == null ? List.of("parquet", "jsonl") : Collections.unmodifiableList(formats);
    }

    public @Nullable Integer numShards() {
      return numShards;
    }

    public @Nullable String host() {
      return host;
    }

    /** Redis port, default 6379. */
    public int port() {
      return port == null ? 6379 : port;
    }

    public @Nullable String prefix() {
      return prefix;
    }

    /** Redis TTL, or null for the store's default. */
    public @Nullable Duration ttl() {
      return ttl == null ? null : parseDuration(ttl);
    }

    public @Nullable String url() {
      return url;
    }

    public @Nullable String table() {
      return table;
    }
  }

  /** What a key without a model prediction gets: {@code abstain} or {@code constant} with a value. */
  /** A model per segment: the segment is a record {@code column} or the key before {@code keySeparator}. */
  public static final class Segments {
    @Nullable String column;
    @Nullable String keySeparator;
    @Nullable Map<String, String> models;

    public @Nullable String column() {
      return column;
    }

    public @Nullable String keySeparator() {
      return keySeparator;
    }

    /** Segment to model directory. */
    public @Nullable Map<String, String> models() {
      return models;
    }
  }

  public static final class FallbackConfig {
    @Nullable String policy;
    @Nullable Double value;

    public @Nullable String policy() {
      return policy;
    }

    public @Nullable Double value() {
      return value;
    }
  }

  /**
   * The engine settings of the model load on the workers, as {@code --modelIntraOpThreads},
   * {@code --modelInterOpThreads}, {@code --modelDevice}, {@code --onnxOptimizationLevel} and
   * {@code --onnxExecutionProvider}; each field is optional.
   */
  public static final class ModelRuntime {
    @Nullable Integer intraOpThreads;
    @Nullable Integer interOpThreads;
    @Nullable String device;
    @Nullable String onnxOptimizationLevel;
    @Nullable String onnxExecutionProvider;

    /** The options these fields stand for. */
    public ModelOptions toModelOptions() {
      ModelOptions m = ModelOptions.defaults()
          .withIntraOpThreads(intraOpThreads == null ? 0 : intraOpThreads)
          .withInterOpThreads(interOpThreads == null ? 0 : interOpThreads)
          .withDevice(device);
      if (onnxOptimizationLevel != null) {
        m = m.withOptimizationLevel(ModelOptions.OptimizationLevel.parse(onnxOptimizationLevel));
      }
      if (onnxExecutionProvider != null) {
        m = m.withExecutionProvider(ModelOptions.ExecutionProvider.parse(onnxExecutionProvider));
      }
      return m;
    }
  }

  /** How the job is triggered: its interval and the upstream marker it waits for. */
  public static final class Schedule {
    @Nullable String interval;
    @Nullable String waitForMarker;
    @Nullable String markerTimeout;
    @Nullable String markerPoll;

    /** {@code daily} unless set. */
    public RunInfo.Interval interval() {
      return interval == null ? RunInfo.Interval.DAILY : RunInfo.Interval.parse(interval);
    }

    /** Upstream directory (or {@code _SUCCESS} file) to await; placeholders as in {@link UpstreamMarker#resolve}. */
    public @Nullable String waitForMarker() {
      return waitForMarker;
    }

    /** Default 6 hours. */
    public Duration markerTimeout() {
      return markerTimeout == null ? Duration.ofHours(6) : parseDuration(markerTimeout);
    }

    /** Default 1 minute. */
    public Duration markerPoll() {
      return markerPoll == null ? Duration.ofMinutes(1) : parseDuration(markerPoll);
    }
  }

  /** Circuit-breaker limits and the webhook that gets alerts. */
  public static final class Alerts {
    @Nullable Thresholds thresholds;
    @Nullable String webhook;
    /** Features profiled but never compared with training (as {@code --noDriftFeatures}). */
    @Nullable List<String> noDriftFeatures;

    public @Nullable List<String> noDriftFeatures() {
      return noDriftFeatures;
    }

    public @Nullable Thresholds thresholds() {
      return thresholds;
    }

    public @Nullable String webhook() {
      return webhook;
    }
  }

  /**
   * The circuit breaker's limits (see {@code QualityThresholds}), each a number or {@code off};
   * unset ones keep their defaults.
   */
  public static final class Thresholds {
    @JsonDeserialize(using = LimitText.class) @Nullable String maxDeadLetterRate;
    @JsonDeserialize(using = LimitText.class) @Nullable String maxPsi;
    @JsonDeserialize(using = LimitText.class) @Nullable String maxJsDivergence;
    @JsonDeserialize(using = LimitText.class) @Nullable String maxCategoryShift;
    @JsonDeserialize(using = LimitText.class) @Nullable String maxPredictionMeanShift;
    @JsonDeserialize(using = LimitText.class) @Nullable String minDriftSample;
    @JsonDeserialize(using = LimitText.class) @Nullable String minRecords;
    @JsonDeserialize(using = LimitText.class) @Nullable String maxRecordDrop;

    /** Limit name -> its text, for the limits set, in {@code QualityThresholds.LIMITS} order. */
    public Map<String, String> limits() {
      Map<String, String> m = new java.util.LinkedHashMap<>();
      String[] values = {maxDeadLetterRate, maxPsi, maxJsDivergence, maxCategoryShift, maxPredictionMeanShift,
          minDriftSample, minRecords, maxRecordDrop};
      for (int i = 0; i < values.length; i++) {
        if (values[i] != null) {
          m.put(QualityThresholds.LIMITS.get(i), values[i]);
        }
      }
      return m;
    }
  }

  /**
   * A limit's text as written: a number as is, {@code off} as {@code off} although YAML 1.1 (and so
   * the tree of the document) reads an unquoted {@code off} as the boolean false.
   */
  static final class LimitText extends JsonDeserializer<String> {
    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_FALSE) {
        return QualityThresholds.OFF;
      }
      if (t != null && t.isScalarValue() && t != JsonToken.VALUE_TRUE) {
        return p.getText();
      }
      throw JsonMappingException.from(p, "must be a number or " + QualityThresholds.OFF + ", but was " + t);
    }
  }

  /** A config that failed validation; {@link #errors()} has one message per problem, each naming its field. */
  public static final class InvalidConfig extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final List<String> errors;

    InvalidConfig(String origin, List<String> errors) {
      super("invalid job config " + origin + ": " + String.join("; ", errors));
      this.errors = List.copyOf(errors);
    }

    public List<String> errors() {
      return errors;
    }
  }

  // ---- reading ----

  /**
   * Reads a job file (local path, any Beam FileSystems URI, or {@code classpath:jobs/x.yaml}); YAML
   * unless the name ends in {@code .json}. {@code overrides} are {@code key.path=value} strings.
   */
  public static JobConfig read(String uri, List<String> overrides) {
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

  /** Parses YAML (or JSON, when {@code json}), applies the overrides, binds and validates. */
  public static JobConfig parse(String text, boolean json, String origin, List<String> overrides) {
    JsonNode tree;
    try {
      tree = json ? JSON.readTree(text) : YAML.readTree(quoteInf(text));
    } catch (JsonProcessingException e) {
      throw new InvalidConfig(origin, List.of("not valid " + (json ? "JSON" : "YAML") + ": " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr())));
    }
    if (tree == null || tree.isMissingNode() || tree instanceof NullNode) {
      throw new InvalidConfig(origin, List.of("the document is empty"));
    }
    if (!tree.isObject()) {
      throw new InvalidConfig(origin, List.of("the document must be a mapping of fields, but was " + tree.getNodeType()));
    }
    ObjectNode root = (ObjectNode) tree;
    List<String> errors = new ArrayList<>();
    for (String o : overrides) {
      applyOverride(root, o, errors);
    }
    if (!errors.isEmpty()) {
      throw new InvalidConfig(origin, errors);
    }
    JobConfig config;
    try {
      config = YAML.treeToValue(root, JobConfig.class);
    } catch (UnrecognizedPropertyException e) {
      String path = path(e);
      Set<String> known = new TreeSet<>();
      e.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
      throw new InvalidConfig(origin, List.of("unknown field '" + path + "' (known fields there: "
          + String.join(", ", known) + ")"));
    } catch (JsonMappingException e) {
      throw new InvalidConfig(origin, List.of(path(e) + " has the wrong type: " + e.getOriginalMessage()));
    } catch (JsonProcessingException e) {
      throw new InvalidConfig(origin, List.of(e.getOriginalMessage()));
    }
    List<String> problems = config.validate();
    if (!problems.isEmpty()) {
      throw new InvalidConfig(origin, problems);
    }
    return config;
  }

  /** This config with more {@code key.path=value} overrides applied (re-validated). */
  public JobConfig withOverrides(List<String> overrides) {
    return parse(toJson(), true, "(with overrides)", overrides);
  }

  /** The config as JSON (unset fields omitted). */
  public String toJson() {
    try {
      return JSON.copy().setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
          .writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

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

  /** Sets {@code a.b[1].c=value} in the tree; the value is read as a YAML scalar, list or mapping. */
  static void applyOverride(ObjectNode root, String override, List<String> errors) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      errors.add("--set needs key.path=value, but was '" + override + "'");
      return;
    }
    String key = override.substring(0, eq).trim();
    String raw = override.substring(eq + 1);
    JsonNode value;
    try {
      value = raw.isEmpty() ? NullNode.getInstance() : YAML.readTree(quoteInf(raw));
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

  /** {@code maxPsi: .inf} as {@code maxPsi: '.inf'}; see {@link #YAML_INF}. */
  static String quoteInf(String yaml) {
    return YAML_INF.matcher(yaml).replaceAll("$1'$2'");
  }

  // ---- validation ----

  private void validateSegments(List<String> e) {
    Segments g = java.util.Objects.requireNonNull(segments);
    if (isBlank(g.column) == (g.keySeparator == null || g.keySeparator.isEmpty())) {
      e.add("segments needs exactly one of column (the segment is a record column) and keySeparator (the segment"
          + " is the key before it)");
    }
    if (g.keySeparator != null && g.keySeparator.contains(",")) {
      e.add("segments.keySeparator must not contain ',', but was '" + g.keySeparator + "'");
    }
    if (g.models == null || g.models.isEmpty()) {
      e.add("segments.models must map at least one segment to its model directory, e.g. {eu: models/churn-eu/3}");
      return;
    }
    for (Map.Entry<String, String> m : g.models.entrySet()) {
      // --segmentModels is <segment>=<model>,...: neither may hold a ',' nor the segment a '='.
      if (isBlank(m.getKey()) || m.getKey().contains(",") || m.getKey().contains("=")) {
        e.add("segments.models: a segment must be non-empty without ',' or '=', but was '" + m.getKey() + "'");
      }
      if (isBlank(m.getValue()) || m.getValue().contains(",")) {
        e.add("segments.models." + m.getKey() + " must be a model directory without ',', but was '" + m.getValue() + "'");
      }
    }
  }

  /** Every problem of the config, each naming its field path; empty when valid. */
  List<String> validate() {
    List<String> e = new ArrayList<>();
    if (isBlank(name)) {
      e.add("name is required");
    } else if (!NAME.matcher(name).matches()) {
      e.add("name must match " + NAME.pattern() + ", but was '" + name + "'");
    }
    validateSource(e);
    if (passThroughColumns != null) {
      for (int i = 0; i < passThroughColumns.size(); i++) {
        String c = passThroughColumns.get(i);
        if (c == null || c.isBlank() || c.contains(",")) {
          e.add("passThroughColumns[" + i + "] must be a column name, but was '" + c + "'");
        }
      }
    }
    if (segments != null) {
      validateSegments(e);
    }
    if (keyColumns == null || keyColumns.isEmpty()) {
      e.add("keyColumns must name at least one column");
    } else {
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < keyColumns.size(); i++) {
        String k = keyColumns.get(i);
        if (isBlank(k)) {
          e.add("keyColumns[" + i + "] must be a non-empty column name");
        } else if (!seen.add(k.trim())) {
          e.add("keyColumns[" + i + "] repeats the column '" + k + "'");
        }
      }
    }
    if (isBlank(model)) {
      e.add("model is required");
    }
    if (featureSpec != null && featureSpec.isBlank()) {
      e.add("featureSpec must be a path when set, but was empty");
    }
    if (batchSize != null && (batchSize < 1 || batchSize > 100_000)) {
      e.add("batchSize must be in [1, 100000], but was " + batchSize);
    }
    if (modelRuntime != null) {
      try {
        modelRuntime.toModelOptions();
      } catch (IllegalArgumentException bad) {
        e.add("modelRuntime: " + bad.getMessage());
      }
    }
    if (sinks == null || sinks.isEmpty()) {
      e.add("sinks must list at least one sink");
    } else {
      for (int i = 0; i < sinks.size(); i++) {
        validateSink("sinks[" + i + "]", sinks.get(i), e);
      }
    }
    if (fallback != null) {
      String p = lower(fallback.policy);
      if (p == null) {
        e.add("fallback.policy is required: abstain or constant");
      } else if (p.equals("constant")) {
        if (fallback.value == null) {
          e.add("fallback.value is required for the constant policy");
        } else if (!Double.isFinite(fallback.value)) {
          e.add("fallback.value must be finite, but was " + fallback.value);
        }
      } else if (p.equals("abstain")) {
        if (fallback.value != null) {
          e.add("fallback.value is not used by the abstain policy, but was " + fallback.value);
        }
      } else {
        e.add("fallback.policy must be one of abstain, constant, but was '" + fallback.policy + "'");
      }
    }
    if (duplicateKeys != null && !List.of("error", "last_wins").contains(lower(duplicateKeys))) {
      e.add("duplicateKeys must be one of error, last_wins, but was '" + duplicateKeys + "'");
    }
    if (schedule != null) {
      if (schedule.interval != null && !List.of("hourly", "daily", "weekly").contains(lower(schedule.interval))) {
        e.add("schedule.interval must be one of hourly, daily, weekly, but was '" + schedule.interval + "'");
      }
      if (schedule.waitForMarker != null && schedule.waitForMarker.isBlank()) {
        e.add("schedule.waitForMarker must be a path when set, but was empty");
      }
      checkDuration("schedule.markerTimeout", schedule.markerTimeout, e);
      checkDuration("schedule.markerPoll", schedule.markerPoll, e);
      if (schedule.waitForMarker == null && (schedule.markerTimeout != null || schedule.markerPoll != null)) {
        e.add("schedule.markerTimeout and schedule.markerPoll need schedule.waitForMarker");
      }
    }
    if (alerts != null) {
      Thresholds t = alerts.thresholds;
      if (t != null) {
        // QualityThresholds' own checks, as for the options; its messages start with the limit's name.
        QualityThresholds q = QualityThresholds.defaults();
        for (Map.Entry<String, String> limit : t.limits().entrySet()) {
          try {
            q = q.withLimit(limit.getKey(), limit.getValue());
          } catch (IllegalArgumentException ex) {
            e.add("alerts.thresholds." + ex.getMessage());
          }
        }
      }
      if (alerts.noDriftFeatures != null) {
        for (String f : alerts.noDriftFeatures) {
          if (f == null || f.isBlank() || f.contains(",")) {
            e.add("alerts.noDriftFeatures must list feature names, but had '" + f + "'");
          }
        }
      }
      if (alerts.webhook != null && !alerts.webhook.matches("https?://\\S+")) {
        e.add("alerts.webhook must be an http(s) URL, but was '" + alerts.webhook + "'");
      }
    }
    return e;
  }

  private void validateSource(List<String> e) {
    if (source == null) {
      e.add("source is required");
      return;
    }
    String type = lower(source.type);
    if (type == null) {
      e.add("source.type is required: files, jdbc or bigquery");
      return;
    }
    switch (type) {
      case "files":
        if (isBlank(source.path)) {
          e.add("source.path is required for a files source");
        }
        if (source.format != null) {
          check("source.format", e, () -> ReadRecords.Format.parseFile(source.format));
        } else if (!isBlank(source.path) && formatOf(source.path) == null) {
          e.add("source.format is required: cannot tell it from the extension of '" + source.path + "'");
        }
        notUsed("source", "a files source", e, "url", source.url, "query", source.query, "table", source.table);
        break;
      case "jdbc":
        check("source.url", e, () -> JdbcEndpoint.of(source.url));
        if (isBlank(source.query) == isBlank(source.table)) {
          e.add("source needs exactly one of query, table for a jdbc source");
        }
        notUsed("source", "a jdbc source", e, "path", source.path, "format", source.format);
        break;
      case "bigquery":
        if (isBlank(source.query) == isBlank(source.table)) {
          e.add("source needs exactly one of query, table for a bigquery source");
        } else if (source.table != null && !isBigQueryTable(source.table)) {
          e.add("source.table must be [project:]dataset.table, but was '" + source.table + "'");
        }
        notUsed("source", "a bigquery source", e, "path", source.path, "format", source.format, "url", source.url);
        break;
      default:
        e.add("source.type must be one of files, jdbc, bigquery, but was '" + source.type + "'");
    }
  }

  private static void validateSink(String at, @Nullable Sink s, List<String> e) {
    if (s == null) {
      e.add(at + " is empty");
      return;
    }
    String type = lower(s.type);
    if (type == null) {
      e.add(at + ".type is required: files, redis, jdbc or bigquery");
      return;
    }
    switch (type) {
      case "files":
        if (isBlank(s.root)) {
          e.add(at + ".root is required for a files sink");
        }
        if (s.formats != null) {
          if (s.formats.isEmpty()) {
            e.add(at + ".formats must name at least one format");
          }
          for (int i = 0; i < s.formats.size(); i++) {
            String f = s.formats.get(i);
            check(at + ".formats[" + i + "]", e, () -> FileFormat.parse(String.valueOf(f)));
          }
        }
        if (s.numShards != null && (s.numShards < 0 || s.numShards > 10_000)) {
          e.add(at + ".numShards must be 0 (auto: from the input's size) or in [1, 10000], but was " + s.numShards);
        }
        notUsed(at, "a files sink", e, "host", s.host, "port", s.port, "prefix", s.prefix, "ttl", s.ttl,
            "url", s.url, "table", s.table, "view", s.view, "viewColumns", s.viewColumns, "tempLocation", s.tempLocation);
        break;
      case "redis":
        if (isBlank(s.host)) {
          e.add(at + ".host is required for a redis sink");
        }
        check(at + ".port", e, () -> RedisEndpoint.of("localhost", s.port()));
        if (s.prefix != null) {
          check(at + ".prefix", e, () -> redisSink().withKeyPrefix(s.prefix));
        }
        checkDuration(at + ".ttl", s.ttl, e);
        notUsed(at, "a redis sink", e, "root", s.root, "formats", s.formats, "numShards", s.numShards,
            "url", s.url, "table", s.table, "view", s.view, "viewColumns", s.viewColumns, "tempLocation", s.tempLocation);
        break;
      case "jdbc":
        check(at + ".url", e, () -> JdbcEndpoint.of(s.url));
        check(at + ".table", e, () -> jdbcSink().withTable(s.table));
        if ((s.view == null) != (s.viewColumns == null)) {
          e.add(at + (s.view == null ? ".viewColumns needs view (the view's name)" : ".view needs viewColumns"));
        }
        if (s.view != null) {
          // Without viewColumns (reported above), the name is still checked, on a one-column view.
          check(at + ".view", e, () -> jdbcSink().withView(s.view,
              s.viewColumns == null ? Map.of("key", "key") : s.viewColumns));
        }
        notUsed(at, "a jdbc sink", e, "root", s.root, "formats", s.formats, "numShards", s.numShards,
            "host", s.host, "port", s.port, "prefix", s.prefix, "ttl", s.ttl, "tempLocation", s.tempLocation);
        break;
      case "bigquery":
        if (isBlank(s.table) || !isBigQueryTable(s.table)) {
          e.add(at + ".table must be [project:]dataset.table, but was " + quote(s.table));
        }
        notUsed(at, "a bigquery sink", e, "root", s.root, "formats", s.formats, "numShards", s.numShards,
            "host", s.host, "port", s.port, "prefix", s.prefix, "ttl", s.ttl, "url", s.url, "view", s.view,
            "viewColumns", s.viewColumns);
        break;
      default:
        e.add(at + ".type must be one of files, redis, jdbc, bigquery, but was '" + s.type + "'");
    }
  }

  /** A Redis sink to run {@link RedisSink}'s own checks of a job's values on; it connects to nothing. */
  private static RedisSink<String> redisSink() {
    return RedisSink.to("localhost", 6379);
  }

  /** A JDBC sink to run {@link JdbcSink}'s own checks of a job's values on; it connects to nothing. */
  private static JdbcSink<String> jdbcSink() {
    return SinkWithMetadata.jdbc("jdbc:postgresql://localhost/check");
  }

  /** Whether Beam's own parser takes {@code spec} as a table ([project:]dataset.table), as the job will. */
  private static boolean isBigQueryTable(String spec) {
    try {
      org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers.parseTableSpec(spec);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Fields of another kind of source/sink are mistakes (a typo'd type, a half-edited block): name them. */
  private static void notUsed(String at, String what, List<String> e, Object... nameValue) {
    for (int i = 0; i < nameValue.length; i += 2) {
      if (nameValue[i + 1] != null) {
        e.add(at + "." + nameValue[i] + " is not used by " + what);
      }
    }
  }

  private static void checkDuration(String at, @Nullable String value, List<String> e) {
    if (value == null) {
      return;
    }
    try {
      Duration d = parseDuration(value);
      if (d.isZero() || d.isNegative()) {
        e.add(at + " must be a positive duration, but was '" + value + "'");
      }
    } catch (IllegalArgumentException ex) {
      e.add(at + " must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '" + value + "'");
    }
  }

  /** Runs the check of the code that will use a value; its message, after the field's path, is the error. */
  private static void check(String at, List<String> e, Runnable check) {
    try {
      check.run();
    } catch (IllegalArgumentException ex) {
      e.add(at + ": " + ex.getMessage());
    }
  }

  /** {@code 500ms}, {@code 90s}, {@code 15m}, {@code 36h}, {@code 2d}, or ISO-8601 ({@code PT36H}). */
  public static Duration parseDuration(String s) {
    return dev.batchserve.pipelines.schedule.Schedule.parseDuration(s);
  }

  // ---- use ----

  public String name() {
    return name;
  }

  public Source source() {
    return source;
  }

  public List<String> keyColumns() {
    return keyColumns.stream().map(String::trim).collect(Collectors.toList());
  }

  public @Nullable String featureSpec() {
    return featureSpec;
  }

  public String model() {
    return model;
  }

  /** Default 256. */
  public int batchSize() {
    return batchSize == null ? 256 : batchSize;
  }

  /** The model's engine settings; engine defaults when the job has no {@code modelRuntime}. */
  public ModelOptions modelOptions() {
    return modelRuntime == null ? ModelOptions.defaults() : modelRuntime.toModelOptions();
  }

  public List<Sink> sinks() {
    return Collections.unmodifiableList(sinks);
  }

  public @Nullable FallbackConfig fallback() {
    return fallback;
  }

  /** {@code error} unless set. */
  public String duplicateKeys() {
    return duplicateKeys == null ? "error" : lower(duplicateKeys);
  }

  public @Nullable Schedule schedule() {
    return schedule;
  }

  public @Nullable Alerts alerts() {
    return alerts;
  }

  /** The schedule's interval (daily unless set). */
  public RunInfo.Interval interval() {
    return schedule == null ? RunInfo.Interval.DAILY : schedule.interval();
  }

  /** The run of this job for a date (and hour, for hourly jobs). */
  public RunInfo runInfo(LocalDate runDate, int hour) {
    RunInfo.Interval interval = interval();
    return interval == RunInfo.Interval.HOURLY
        ? RunInfo.hourly(name, runDate, hour) : RunInfo.of(name, runDate, interval);
  }

  /** {@link #toPipelineArgs(RunInfo)} without a run: the pipeline's default run date (today) applies. */
  public String[] toPipelineArgs() {
    return toPipelineArgs(null);
  }

  /**
   * {@code BatchScoringPipeline} arguments for this job; placeholders in {@code source.path} are
   * filled from {@code run} when it is given, and {@code --runDate}/{@code --runHour} set from it.
   *
   * @throws UnsupportedOperationException naming the field, for a job without a files sink or with
   *     two sinks of one type
   */
  public String[] toPipelineArgs(@Nullable RunInfo run) {
    List<String> unsupported = new ArrayList<>();
    String type = lower(source.type);
    Map<String, Sink> byType = new java.util.HashMap<>();
    for (int i = 0; i < sinks.size(); i++) {
      Sink s = sinks.get(i);
      String t = lower(s.type);
      if (byType.put(t, s) != null) {
        unsupported.add("sinks[" + i + "]: BatchScoringPipeline writes one " + t + " sink, this is the second");
      }
    }
    Sink files = byType.get("files");
    if (files == null && unsupported.isEmpty()) {
      unsupported.add("sinks: BatchScoringPipeline needs a files sink (the run's report and manifest live there)");
    }
    if (!unsupported.isEmpty()) {
      throw new UnsupportedOperationException("job '" + name + "' uses what BatchScoringPipeline cannot run yet: "
          + String.join("; ", unsupported));
    }
    List<String> a = new ArrayList<>();
    a.add("--pipelineName=" + name);
    if ("jdbc".equals(type)) {
      String query = source.query != null ? source.query : "SELECT * FROM " + source.table;
      a.add("--input=" + source.url);
      a.add("--inputFormat=jdbc");
      a.add("--inputQuery=" + (run == null ? query : UpstreamMarker.resolve(query, run)));
    } else if ("bigquery".equals(type)) {
      a.add("--inputFormat=bigquery");
      if (source.query != null) {
        a.add("--inputQuery=" + (run == null ? source.query : UpstreamMarker.resolve(source.query, run)));
      } else {
        a.add("--input=" + (run == null ? source.table : UpstreamMarker.resolve(source.table, run)));
      }
    } else {
      String path = run == null ? source.path : UpstreamMarker.resolve(source.path, run);
      a.add("--input=" + path);
      a.add("--inputFormat=" + (source.format != null ? lower(source.format) : formatOf(source.path)));
    }
    a.add("--keyColumns=" + String.join(",", keyColumns()));
    if (passThroughColumns != null && !passThroughColumns.isEmpty()) {
      a.add("--passThroughColumns=" + String.join(",", passThroughColumns));
    }
    a.add("--model=" + model);
    if (segments != null) {
      if (!isBlank(segments.column)) {
        a.add("--segmentColumn=" + segments.column.trim());
      } else {
        a.add("--segmentKeySeparator=" + segments.keySeparator);
      }
      a.add("--segmentModels=" + java.util.Objects.requireNonNull(segments.models).entrySet().stream()
          .map(m -> m.getKey().trim() + "=" + m.getValue().trim()).collect(Collectors.joining(",")));
    }
    if (featureSpec != null) {
      a.add("--featureSpec=" + featureSpec);
    }
    a.add("--batchSize=" + batchSize());
    if (modelRuntime != null) {
      ModelOptions m = modelOptions();
      a.add("--modelIntraOpThreads=" + m.getIntraOpThreads());
      a.add("--modelInterOpThreads=" + m.getInterOpThreads());
      if (m.getDevice() != null) {
        a.add("--modelDevice=" + m.getDevice());
      }
      if (m.getOptimizationLevel() != null) {
        a.add("--onnxOptimizationLevel=" + lower(m.getOptimizationLevel().name()));
      }
      if (m.getExecutionProvider() != null) {
        a.add("--onnxExecutionProvider=" + lower(m.getExecutionProvider().name()));
      }
    }
    a.add("--output=" + files.root);
    a.add("--formats=" + files.formats().stream().map(JobConfig::lower).collect(Collectors.joining(",")));
    if (files.numShards != null) {
      a.add("--numShards=" + files.numShards);
    }
    Sink redis = byType.get("redis");
    Sink jdbc = byType.get("jdbc");
    Sink bigQuery = byType.get("bigquery");
    if (redis != null) {
      a.add("--redisHost=" + redis.host);
      a.add("--redisPort=" + redis.port());
      if (redis.prefix != null) {
        a.add("--redisPrefix=" + redis.prefix);
      }
      if (redis.ttl() != null) {
        a.add("--redisTtl=" + redis.ttl());
      }
    }
    if (jdbc != null) {
      a.add("--jdbcUrl=" + jdbc.url);
      if (jdbc.table != null) {
        a.add("--jdbcTable=" + jdbc.table);
      }
      if (jdbc.view != null) {
        a.add("--jdbcView=" + jdbc.view);
        a.add("--jdbcViewColumns=" + jdbc.viewColumns().entrySet().stream()
            .map(c -> c.getKey() + "=" + c.getValue()).collect(Collectors.joining(",")));
      }
    }
    if (bigQuery != null) {
      a.add("--bigQueryTable=" + bigQuery.table);
      if (bigQuery.tempLocation != null) {
        a.add("--bigQueryTempLocation=" + bigQuery.tempLocation);
      }
    }
    if (fallback != null) {
      a.add("--fallback=" + ("constant".equals(lower(fallback.policy))
          ? "constant:" + fallback.value.floatValue() : "abstain"));
    }
    a.add("--duplicateKeys=" + duplicateKeys());
    a.add("--interval=" + interval().name().toLowerCase(Locale.ROOT));
    if (schedule != null && schedule.waitForMarker != null) {
      // Placeholders are filled by the pipeline from the same run (--runDate, --interval, --runHour).
      a.add("--waitForMarker=" + schedule.waitForMarker);
      a.add("--markerTimeout=" + schedule.markerTimeout());
      a.add("--markerPoll=" + schedule.markerPoll());
    }
    if (run != null) {
      a.add("--runDate=" + run.runDate());
      long hour = Duration.between(run.runDate().atStartOfDay(java.time.ZoneOffset.UTC).toInstant(),
          run.windowStart()).toHours();
      if (hour != 0) {
        a.add("--runHour=" + hour);
      }
    }
    if (alerts != null) {
      Thresholds t = alerts.thresholds;
      if (t != null) {
        // As numbers the options take: off -> Infinity (0 for minRecords).
        t.limits().forEach((limit, text) -> a.add("--" + limit + "=" + QualityThresholds.parseLimit(limit, text)));
      }
      if (alerts.webhook != null) {
        a.add("--alertWebhook=" + alerts.webhook);
      }
      if (alerts.noDriftFeatures != null && !alerts.noDriftFeatures.isEmpty()) {
        a.add("--noDriftFeatures=" + String.join(",", alerts.noDriftFeatures));
      }
    }
    return a.toArray(new String[0]);
  }

  /** The file format of a path's extension, as the pipeline tells it ({@code ReadRecords.Format.fromPattern}); null if none. */
  static @Nullable String formatOf(String path) {
    try {
      ReadRecords.Format f = ReadRecords.Format.fromPattern(path);
      return f.isFile() ? f.name().toLowerCase(Locale.ROOT) : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean isBlank(@Nullable String s) {
    return s == null || s.isBlank();
  }

  private static @Nullable String lower(@Nullable String s) {
    return s == null ? null : s.trim().toLowerCase(Locale.ROOT);
  }

  private static String quote(@Nullable Object v) {
    return v == null ? "unset" : "'" + v + "'";
  }
}
