package dev.batchserve.transforms.inference;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.ModelOptions;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import dev.batchserve.transforms.values.TransformResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A model per segment in one pass: {@code KV<K, Row>} in, {@code KV<K, Prediction>} out, each record
 * scored by the model of its segment (a region, a tenant, a product line).
 *
 * <p>A record's segment is the value of a record column ({@link #byColumn}) or the part of its key
 * before a separator ({@link #byKeyPrefix}), read before any feature is computed. Each segment is
 * mapped to a model directory ({@link #withModel}); a segment without a model of its own goes to
 * the default model ({@link #withDefaultModel}), or, without one, becomes a dead letter
 * ({@value #STEP}, reason {@value #NO_MODEL_FOR_SEGMENT}, field = the segment) so that
 * {@code KeyedPrediction} gives its key a fallback with the reason
 * {@code segments:no_model_for_segment:<segment>}. A record without a segment (a null column, a key
 * without the separator) is handled the same way, with reason {@value #MISSING_SEGMENT}.
 *
 * <p>Every distinct model directory gets its own branch: the records routed to it are encoded with
 * that model's own feature spec (the {@code feature-spec.json} saved into the directory by
 * {@link SaveSpecToModel}, checked against its manifest at construction) and scored by its own
 * {@link BatchInfer}, so batches never mix models and each model is loaded once per JVM through
 * the shared model cache. The branches are flattened at the end; a prediction's {@code model_name}
 * and {@code model_version} name the model that scored it, which is why two model directories must
 * not share a name and version.
 *
 * <p>Per-model accounting: {@link Result#modelCounts()} holds the predictions per model
 * ({@code <name>:<version>}); the counters {@code predictions:<name>:<version>} and
 * {@code no_model_records} (namespace {@value #METRICS_NAMESPACE}) carry the same figures into the
 * runner's metrics.
 *
 * <p>The churn job, each region scored by its own model, unknown regions by the global one, then
 * the usual join back with its fallbacks and completeness invariant:
 *
 * <pre>{@code
 * ScoreBySegment.Result<String> scored = rows.apply("ScoreByRegion",
 *     ScoreBySegment.<String>byColumn("region")
 *         .withModel("eu", "/models/churn-eu/3")
 *         .withModel("us", "/models/churn-us/5")
 *         .withDefaultModel("/models/churn/7")
 *         .withRunInfo(run));
 * KeyedPrediction.Result<String> keyed = scored.predictions().apply("JoinBack",
 *     KeyedPrediction.<String>fromPredictions()
 *         .withRunInfo(run)
 *         .withInputRecords(rows)
 *         .withDeadLetters(scored.deadLetters())
 *         .withFallback(Fallback.constant(0.02f)));
 * scored.modelCounts(); // KV("churn-eu:3", 1200), KV("churn-us:5", 900), KV("churn:7", 40)
 * }</pre>
 *
 * <p>Or in one call: {@code KeyedPrediction.of(spec, "/models/churn/7").withSegmentModels(
 * ScoreBySegment.<String>byColumn("region").withModel("eu", "/models/churn-eu/3"))}, where
 * {@code KeyedPrediction}'s own model is the default.
 */
public final class ScoreBySegment<K>
    extends PTransform<PCollection<KV<K, Row>>, ScoreBySegment.Result<K>> {
  private static final long serialVersionUID = 1L;

  public static final String METRICS_NAMESPACE = "batchserve.segments";
  /** The step name on this transform's own dead letters. */
  public static final String STEP = "segments";
  /** Reason of a record whose segment has no model while no default model is set. */
  public static final String NO_MODEL_FOR_SEGMENT = Reasons.NO_MODEL_FOR_SEGMENT;
  /** Reason of a record without a segment (null column, key without the separator) and no default model. */
  public static final String MISSING_SEGMENT = Reasons.MISSING_SEGMENT;
  /** Each model's prediction counter is this prefix and the model's {@code <name>:<version>}. */
  public static final String PREDICTIONS_COUNTER_PREFIX = "predictions:";

  private final SegmentOf segmentOf;
  /** Segment to model URI; each copy has its own map. */
  private TreeMap<String, String> models = new TreeMap<>();
  private @Nullable String defaultModel;
  private @Nullable FeatureSpec defaultSpec;
  private @Nullable RunInfo runInfo;
  private int maxBatchSize = 256;
  private double failureThreshold = 1.0;
  private ModelOptions modelOptions = ModelOptions.defaults();

  private ScoreBySegment(SegmentOf segmentOf) {
    this.segmentOf = segmentOf;
  }

  private ScoreBySegment<K> copy() {
    ScoreBySegment<K> c = new ScoreBySegment<>(segmentOf);
    c.models = new TreeMap<>(models);
    c.defaultModel = defaultModel;
    c.defaultSpec = defaultSpec;
    c.runInfo = runInfo;
    c.maxBatchSize = maxBatchSize;
    c.failureThreshold = failureThreshold;
    c.modelOptions = modelOptions;
    return c;
  }

  /** The segment is the text form of the record column {@code column} (null: no segment). */
  public static <K> ScoreBySegment<K> byColumn(String column) {
    checkArgument(column != null && !column.trim().isEmpty(), "the segment column must be named, but was '%s'", column);
    return new ScoreBySegment<>(SegmentOf.column(column.trim()));
  }

  /**
   * The segment is the part of the key's string form before the first {@code separator}
   * ({@code "eu:acct-7"} with {@code ":"} is segment {@code eu}); a key without it has no segment.
   */
  public static <K> ScoreBySegment<K> byKeyPrefix(String separator) {
    checkArgument(separator != null && !separator.isEmpty(), "the key separator must be set, but was '%s'", separator);
    return new ScoreBySegment<>(SegmentOf.keyPrefix(separator));
  }

  /** Records of {@code segment} are scored by the model at {@code modelUri}, with the spec saved in it. */
  public ScoreBySegment<K> withModel(String segment, String modelUri) {
    checkArgument(segment != null && !segment.isEmpty(), "the segment must be set, but was '%s'", segment);
    checkArgument(modelUri != null && !modelUri.isEmpty(), "the model of segment '%s' must be set, but was '%s'",
        segment, modelUri);
    checkArgument(!models.containsKey(segment), "segment '%s' has a model already (%s); give each segment one model",
        segment, models.get(segment));
    ScoreBySegment<K> c = copy();
    c.models.put(segment, modelUri);
    return c;
  }

  /** {@link #withModel} for every entry of {@code segmentModels} (segment to model URI). */
  public ScoreBySegment<K> withModels(Map<String, String> segmentModels) {
    Objects.requireNonNull(segmentModels, "segmentModels");
    ScoreBySegment<K> s = this;
    for (Map.Entry<String, String> e : new TreeMap<>(segmentModels).entrySet()) {
      s = s.withModel(e.getKey(), e.getValue());
    }
    return s;
  }

  /** The model of every segment without one of its own, and of records without a segment. */
  public ScoreBySegment<K> withDefaultModel(String modelUri) {
    checkArgument(modelUri != null && !modelUri.isEmpty(), "the default model must be set, but was '%s'", modelUri);
    ScoreBySegment<K> c = copy();
    c.defaultModel = modelUri;
    c.defaultSpec = null;
    return c;
  }

  /** {@link #withDefaultModel(String)} with its feature spec given rather than read from the model. */
  public ScoreBySegment<K> withDefaultModel(FeatureSpec spec, String modelUri) {
    Objects.requireNonNull(spec, "spec");
    checkArgument(modelUri != null && !modelUri.isEmpty(), "the default model must be set, but was '%s'", modelUri);
    ScoreBySegment<K> c = copy();
    c.defaultModel = modelUri;
    c.defaultSpec = spec;
    return c;
  }

  /** The run every prediction is stamped with (required). */
  public ScoreBySegment<K> withRunInfo(RunInfo run) {
    ScoreBySegment<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** See {@link BatchInfer#withMaxBatchSize}: per model, batches never mix models. */
  public ScoreBySegment<K> withMaxBatchSize(int n) {
    BatchInfer.withModel("unused").withMaxBatchSize(n); // BatchInfer's own check and message
    ScoreBySegment<K> c = copy();
    c.maxBatchSize = n;
    return c;
  }

  /** See {@link BatchInfer#withModelOptions}: the same engine settings for every model. */
  public ScoreBySegment<K> withModelOptions(ModelOptions options) {
    BatchInfer.withModel("unused").withModelOptions(options); // BatchInfer's own check and message
    ScoreBySegment<K> c = copy();
    c.modelOptions = options;
    return c;
  }

  /** See {@link BatchInfer#withFailureThreshold}: judged per model. */
  public ScoreBySegment<K> withFailureThreshold(double ratio) {
    BatchInfer.withModel("unused").withFailureThreshold(ratio);
    ScoreBySegment<K> c = copy();
    c.failureThreshold = ratio;
    return c;
  }

  /** Segment to model URI, sorted by segment. */
  public Map<String, String> getModels() {
    return Collections.unmodifiableMap(models);
  }

  public @Nullable String getDefaultModel() {
    return defaultModel;
  }

  /** The record column the segment is read from, or null when it is a key prefix. */
  public @Nullable String getSegmentColumn() {
    return segmentOf.column;
  }

  /**
   * The feature spec of each segment model (model URI to spec, sorted by URI), read from its
   * directory now, as {@link #expand} reads it: what a job needs to know which columns to read.
   *
   * <pre>{@code
   * for (FeatureSpec s : bySegment.segmentSpecs().values()) {
   *   FeatureTransform.checkRequiredColumns(s, schema, input);
   * }
   * }</pre>
   */
  public Map<String, FeatureSpec> segmentSpecs() {
    Map<String, FeatureSpec> specs = new TreeMap<>();
    for (String uri : new TreeSet<>(models.values())) {
      specs.put(uri, Branch.load(uri, uri.equals(defaultModel) ? defaultSpec : null).spec);
    }
    return specs;
  }

  @Override
  public Result<K> expand(PCollection<KV<K, Row>> input) {
    checkState(runInfo != null, "ScoreBySegment needs withRunInfo(run) so predictions carry a run id");
    checkState(!models.isEmpty() || defaultModel != null,
        "ScoreBySegment has no model: add withModel(segment, modelUri) per segment and/or withDefaultModel(modelUri)");
    checkState(input.getCoder() instanceof KvCoder,
        "ScoreBySegment input must use a KvCoder, but was %s", input.getCoder());
    Coder<?> valueCoder = ((KvCoder<?, ?>) input.getCoder()).getValueCoder();
    if (segmentOf.column != null && valueCoder instanceof SchemaCoder) {
      List<String> names = ((SchemaCoder<?>) valueCoder).getSchema().getFieldNames();
      checkArgument(names.contains(segmentOf.column),
          "the segment column '%s' is not in the input rows, whose columns are %s", segmentOf.column, names);
    }

    // One branch per distinct model directory, in a stable order: the default first, then by URI.
    List<String> uris = new ArrayList<>();
    if (defaultModel != null) {
      uris.add(defaultModel);
    }
    for (String uri : new TreeSet<>(models.values())) {
      if (!uris.contains(uri)) {
        uris.add(uri);
      }
    }
    List<Branch> branches = new ArrayList<>();
    Map<String, String> labelToUri = new HashMap<>();
    for (String uri : uris) {
      Branch b = Branch.load(uri, uri.equals(defaultModel) ? defaultSpec : null);
      String earlier = labelToUri.put(b.label, uri);
      checkArgument(earlier == null,
          "the models %s and %s both call themselves %s in their manifests, so their predictions could not tell"
              + " which one scored a record: give each model its own name or version", earlier, uri, b.label);
      branches.add(b);
    }
    Map<String, Integer> segmentBranch = new HashMap<>();
    for (Map.Entry<String, String> e : models.entrySet()) {
      segmentBranch.put(e.getKey(), uris.indexOf(e.getValue()));
    }
    int defaultBranch = defaultModel == null ? -1 : 0;

    TupleTag<DeadLetter> deadTag = new TupleTag<>() {};
    List<TupleTag<KV<K, Row>>> tags = new ArrayList<>();
    List<TupleTag<?>> branchTags = new ArrayList<>();
    for (int i = 0; i < branches.size(); i++) {
      TupleTag<KV<K, Row>> tag = new TupleTag<>("model-" + i);
      tags.add(tag);
      branchTags.add(tag);
    }
    PCollectionTuple routed = input.apply("RouteBySegment",
        ParDo.of(new RouteFn<K>(segmentOf, segmentBranch, defaultBranch, tags, deadTag))
            .withOutputTags(deadTag, TupleTagList.of(branchTags)));

    PCollectionList<KV<K, Prediction>> predictions = PCollectionList.empty(input.getPipeline());
    PCollectionList<DeadLetter> dead = PCollectionList.of(routed.get(deadTag).setCoder(DeadLetter.DeadLetterCoder.of()));
    PCollectionList<KV<String, Long>> counts = PCollectionList.empty(input.getPipeline());
    for (int i = 0; i < branches.size(); i++) {
      Branch b = branches.get(i);
      String name = b.label.replace('/', '_');
      PCollection<KV<K, Row>> rows = routed.get(tags.get(i)).setCoder(input.getCoder());
      FeatureTransform.Result<K> features = rows.apply("Features " + name,
          FeatureTransform.<K>of(b.spec).withModelFeatures(b.manifest.getInputFeatures()));
      BatchInfer.Result<K> inferred = features.vectors().apply("Infer " + name,
          BatchInfer.<K>withModel(b.uri)
              .withRunInfo(runInfo)
              .withMaxBatchSize(maxBatchSize)
              .withFailureThreshold(failureThreshold)
              .withModelOptions(modelOptions));
      predictions = predictions.and(inferred.predictions());
      dead = dead.and(features.deadLetters()).and(features.skipped()).and(inferred.deadLetters());
      counts = counts.and(inferred.predictions()
          .apply("Count " + name, ParDo.of(new CountModelFn<K>(b.label)))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
    }
    @SuppressWarnings("unchecked")
    Coder<K> keyCoder = ((KvCoder<K, Row>) input.getCoder()).getKeyCoder();
    PCollection<KV<K, Prediction>> allPredictions = predictions.apply("FlattenPredictions", Flatten.pCollections())
        .setCoder(KvCoder.of(keyCoder, Prediction.PredictionCoder.of()));
    PCollection<DeadLetter> allDead = dead.apply("FlattenDeadLetters", Flatten.pCollections())
        .setCoder(DeadLetter.DeadLetterCoder.of());
    PCollection<KV<String, Long>> modelCounts = counts.apply("FlattenModelCounts", Flatten.pCollections())
        .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
        .apply("PredictionsPerModel", Sum.longsPerKey());

    Map<String, String> segmentLabels = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : models.entrySet()) {
      segmentLabels.put(e.getKey(), branches.get(uris.indexOf(e.getValue())).label);
    }
    return new Result<>(input.getPipeline(), allPredictions, allDead, modelCounts, segmentLabels,
        defaultModel == null ? null : branches.get(0).label);
  }

  /** One model's branch: its directory, verified manifest and feature spec, read at construction. */
  private static final class Branch {
    final String uri;
    final ModelManifest manifest;
    final FeatureSpec spec;
    final String label;

    private Branch(String uri, ModelManifest manifest, FeatureSpec spec) {
      this.uri = uri;
      this.manifest = manifest;
      this.spec = spec;
      this.label = manifest.getName() + ":" + manifest.getVersion();
    }

    static Branch load(String uri, @Nullable FeatureSpec given) {
      // As KeyedPrediction does: a tampered model or a spec/model mismatch fails before the run.
      Path dir = ModelStaging.localize(uri);
      ModelManifest manifest = ModelManifest.read(dir);
      manifest.verify(dir);
      FeatureSpec spec = given != null ? given : specOf(uri, dir, manifest);
      try {
        spec.checkMatches(manifest.getInputFeatures());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the feature spec of the model " + uri + " does not fit its manifest: "
            + e.getMessage(), e);
      }
      return new Branch(uri, manifest, spec);
    }

    private static FeatureSpec specOf(String uri, Path dir, ModelManifest manifest) {
      String file = manifest.getMetadata() == null ? null : manifest.getMetadata().get(SaveSpecToModel.METADATA_KEY);
      Path spec = dir.resolve(file == null ? SaveSpecToModel.FILE_NAME : file);
      checkArgument(java.nio.file.Files.isRegularFile(spec),
          "the model %s has no feature spec (%s): every segment's model is encoded with its own spec; save it with"
              + " SaveSpecToModel.write(spec, modelDir) when exporting the model", uri, spec);
      return FeatureSpec.read(spec.toString());
    }
  }

  /** Sends each record to its model's branch, or to the dead letters when there is none. */
  private static final class RouteFn<K> extends DoFn<KV<K, Row>, DeadLetter> {
    private final SegmentOf segmentOf;
    private final Map<String, Integer> segmentBranch;
    private final int defaultBranch;
    private final List<TupleTag<KV<K, Row>>> branchTags;
    private final TupleTag<DeadLetter> deadTag;
    private final Counter noModel = Metrics.counter(METRICS_NAMESPACE, "no_model_records");
    private final Counter toDefault = Metrics.counter(METRICS_NAMESPACE, "default_model_records");

    RouteFn(SegmentOf segmentOf, Map<String, Integer> segmentBranch, int defaultBranch,
        List<TupleTag<KV<K, Row>>> branchTags, TupleTag<DeadLetter> deadTag) {
      this.segmentOf = segmentOf;
      this.segmentBranch = new HashMap<>(segmentBranch);
      this.defaultBranch = defaultBranch;
      this.branchTags = branchTags;
      this.deadTag = deadTag;
    }

    @ProcessElement
    public void process(@Element KV<K, Row> kv, MultiOutputReceiver out) {
      String segment = segmentOf.of(kv.getKey(), kv.getValue());
      Integer branch = segment == null ? null : segmentBranch.get(segment);
      if (branch == null && defaultBranch >= 0) {
        toDefault.inc();
        branch = defaultBranch;
      }
      if (branch != null) {
        out.get(branchTags.get(branch)).output(kv);
        return;
      }
      noModel.inc();
      String key = String.valueOf(kv.getKey());
      String record = DeadLetter.rowRecord(kv.getValue());
      out.get(deadTag).output(segment == null
          ? DeadLetter.of(STEP, key, record, segmentOf.field(), MISSING_SEGMENT,
              "the record has no segment (" + segmentOf + ") and no default model is set: use withDefaultModel(modelUri)")
          : DeadLetter.of(STEP, key, record, segment, NO_MODEL_FOR_SEGMENT,
              "segment '" + segment + "' (" + segmentOf + ") has no model and no default model is set: add"
                  + " withModel(\"" + segment + "\", modelUri) or withDefaultModel(modelUri)"));
    }
  }

  /** One per prediction of a model, keyed by the model's {@code name:version}, and its counter. */
  private static final class CountModelFn<K> extends DoFn<KV<K, Prediction>, KV<String, Long>> {
    private final String label;
    private final Counter predictions;

    CountModelFn(String label) {
      this.label = label;
      this.predictions = Metrics.counter(METRICS_NAMESPACE, PREDICTIONS_COUNTER_PREFIX + label);
    }

    @ProcessElement
    public void process(OutputReceiver<KV<String, Long>> out) {
      predictions.inc();
      out.output(KV.of(label, 1L));
    }
  }

  /** The predictions of every model, the records none could score, and the predictions per model. */
  public static final class Result<K> extends TransformResult {
    private final PCollection<KV<K, Prediction>> predictions;
    private final PCollection<DeadLetter> deadLetters;
    private final PCollection<KV<String, Long>> modelCounts;
    private final Map<String, String> segmentModels;
    private final @Nullable String defaultModel;

    Result(Pipeline pipeline, PCollection<KV<K, Prediction>> predictions, PCollection<DeadLetter> deadLetters,
        PCollection<KV<String, Long>> modelCounts, Map<String, String> segmentModels, @Nullable String defaultModel) {
      super(pipeline);
      this.predictions = output(new TupleTag<>(), predictions);
      this.deadLetters = output(new TupleTag<>(), deadLetters);
      this.modelCounts = output(new TupleTag<>(), modelCounts);
      this.segmentModels = Collections.unmodifiableMap(segmentModels);
      this.defaultModel = defaultModel;
    }

    /** One per record a model scored, stamped with that model's name and version. */
    public PCollection<KV<K, Prediction>> predictions() {
      return predictions;
    }

    /**
     * Every record no model scored: step {@code segments} (no model for its segment, no segment), and
     * each model's feature and inference failures.
     */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    /** Predictions per model, keyed {@code <name>:<version>}; a model that scored nothing has no entry. */
    public PCollection<KV<String, Long>> modelCounts() {
      return modelCounts;
    }

    /** Segment to the {@code <name>:<version>} of its model, as read from the manifests at construction. */
    public Map<String, String> segmentModels() {
      return segmentModels;
    }

    /** The default model's {@code <name>:<version>}, or null when there is none. */
    public @Nullable String defaultModel() {
      return defaultModel;
    }
  }
}
