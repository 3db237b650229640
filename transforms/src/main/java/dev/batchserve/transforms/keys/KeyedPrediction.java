package dev.batchserve.transforms.keys;

import dev.batchserve.transforms.keys.RunLedger.TallyFn;
import dev.batchserve.transforms.keys.RunLedger.Ledger;
import dev.batchserve.transforms.keys.RunLedger.CompletenessFn;
import dev.batchserve.transforms.keys.JoinBack.DeadLetterKeyFn;
import dev.batchserve.transforms.keys.JoinBack.KeyOf;
import dev.batchserve.transforms.keys.JoinBack.ByString;
import dev.batchserve.transforms.keys.JoinBack.SeenFn;
import dev.batchserve.transforms.keys.JoinBack.PredictedFn;
import dev.batchserve.transforms.keys.JoinBack.FailureReasonFn;
import dev.batchserve.transforms.keys.JoinBack.DistinctCountFn;
import dev.batchserve.transforms.keys.JoinBack.ResolveFn;
import dev.batchserve.transforms.keys.DuplicateKeys.OnePerRecordFn;
import dev.batchserve.transforms.keys.DuplicateKeys.SplitDuplicatesFn;
import dev.batchserve.transforms.keys.DuplicateKeys.PickLastFn;
import dev.batchserve.transforms.keys.DuplicateKeys.PassThroughFn;
import static dev.batchserve.transforms.keys.JoinBack.bucketed;
import static dev.batchserve.transforms.keys.DuplicateKeys.PASS_THROUGH_CODER;
import static dev.batchserve.transforms.keys.DuplicateKeys.checkPassThroughColumns;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import dev.batchserve.transforms.compare.CompareModels;
import dev.batchserve.transforms.compare.ModelAgreement;
import dev.batchserve.transforms.features.FeatureProfile;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.inference.ModelStaging;
import dev.batchserve.transforms.inference.ScoreBySegment;
import dev.batchserve.transforms.join.BucketJoin;
import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunCounts;
import dev.batchserve.transforms.values.RunInfo;
import dev.batchserve.transforms.values.TransformResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The composite most users call: {@code KV<K, Row>} in, exactly one {@code KV<K, Prediction>} out for
 * every expected key.
 *
 * <p>Rows are validated and turned into features by {@link FeatureTransform} (from the spec saved at
 * training, checked against the model manifest's feature layout at construction), predicted by
 * {@link BatchInfer}, then joined back with the expected entity set. A key without a model
 * prediction (invalid input, failed inference, no input row at all = cold start) gets a
 * {@link Fallback} whose reason is recorded in the envelope. Duplicate input keys follow a
 * {@link DuplicateKeyPolicy}.
 *
 * <p>At the end the completeness invariant is computed and enforced: {@code input records =
 * predictions + dead letters} and {@code expected keys = predictions + fallbacks}; a violation fails
 * the run with the counts. {@link Result#counts()} holds the accounting once it has passed, so a sink
 * can publish only after it ({@code Wait.on}).
 *
 * <p>Keys are matched by their string form ({@code String.valueOf(key)}), which is also how every
 * store addresses them: distinct keys must have distinct string forms.
 *
 * <pre>{@code
 * KeyedPrediction.Result<String> r = rows.apply(
 *     KeyedPrediction.<String>of(spec, "/models/fraud/3")
 *         .withRunInfo(run)
 *         .withExpectedKeys(activeAccounts)
 *         .withFallback(Fallback.constant(0.02f)));
 * r.predictions(); // one per active account
 * r.deadLetters(); // every record that did not become a prediction, with its reason
 * }</pre>
 *
 * <p><b>Why this class is long.</b> It holds the library's two public entry points to the join
 * back, {@code of(spec, model)} and {@code fromPredictions()}, their configuration methods (each
 * with the example a user copies) and their shared {@code Result}; users name {@code
 * KeyedPrediction.Result} and {@code KeyedPrediction.FromPredictions}, so they stay nested.
 * Everything behind them has its own class: the join's steps ({@link JoinBack}), the run ledger and
 * the completeness check ({@link RunLedger}), the duplicate-key steps ({@link DuplicateKeys}).
 */
public final class KeyedPrediction<K>
    extends PTransform<PCollection<KV<K, Row>>, KeyedPrediction.Result<K>> {
  private static final long serialVersionUID = 1L;

  public static final String METRICS_NAMESPACE = "batchserve.keys";
  public static final int DEFAULT_JOIN_BUCKETS = 64;
  /** Namespace of the run's accounting counters, set once the invariant has passed. */
  public static final String RUN_METRICS_NAMESPACE = "batchserve.run";
  /** The failure a duplicated key's records are accounted under (step {@code keys}). */
  static final String DUPLICATE_FAILURE = Reasons.failure("keys", Reasons.DUPLICATE_KEY, null);

  private final FeatureSpec spec;
  private final String modelUri;
  private @Nullable RunInfo runInfo;
  private transient @Nullable PCollection<K> expectedKeys;
  private transient @Nullable PCollection<KV<String, Prediction>> previous;
  private Fallback fallback = Fallback.abstain();
  private DuplicateKeyPolicy duplicatePolicy = DuplicateKeyPolicy.ERROR;
  private int maxBatchSize = 256;
  private double failureThreshold = 1.0;
  private int joinBuckets = DEFAULT_JOIN_BUCKETS;
  private @Nullable String challengerUri;
  private transient @Nullable PCollection<DeadLetter> readFailures;
  private List<String> passThroughColumns = List.of();
  private @Nullable ShardWriter shardWriter;
  private @Nullable ScoreBySegment<K> segments;
  private ModelOptions modelOptions = ModelOptions.defaults();
  private int adaptiveMin;
  private int adaptiveMax;

  private KeyedPrediction(FeatureSpec spec, String modelUri) {
    this.spec = spec;
    this.modelUri = modelUri;
  }

  private KeyedPrediction<K> copy() {
    KeyedPrediction<K> c = new KeyedPrediction<>(spec, modelUri);
    c.runInfo = runInfo;
    c.expectedKeys = expectedKeys;
    c.previous = previous;
    c.fallback = fallback;
    c.duplicatePolicy = duplicatePolicy;
    c.maxBatchSize = maxBatchSize;
    c.failureThreshold = failureThreshold;
    c.joinBuckets = joinBuckets;
    c.challengerUri = challengerUri;
    c.readFailures = readFailures;
    c.passThroughColumns = passThroughColumns;
    c.shardWriter = shardWriter;
    c.segments = segments;
    c.modelOptions = modelOptions;
    c.adaptiveMin = adaptiveMin;
    c.adaptiveMax = adaptiveMax;
    return c;
  }

  /** Features from {@code spec}, predictions from the model at {@code modelUri}. */
  public static <K> KeyedPrediction<K> of(FeatureSpec spec, String modelUri) {
    Objects.requireNonNull(spec, "spec");
    checkArgument(modelUri != null && !modelUri.isEmpty(), "modelUri must be set, but was '%s'", modelUri);
    return new KeyedPrediction<>(spec, modelUri);
  }

  /**
   * The join back alone, applied to {@code KV<K, Prediction>}s made any way (the user's own features
   * or model): see {@link FromPredictions}.
   */
  public static <K> FromPredictions<K> fromPredictions() {
    return new FromPredictions<>();
  }

  /** The run every prediction is stamped with (required). */
  public KeyedPrediction<K> withRunInfo(RunInfo run) {
    KeyedPrediction<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /**
   * The keys that must each get a result (e.g. all active accounts). Without it, the expected keys
   * are the distinct keys of the input. Predictions for keys outside this set go to the dead letters
   * as {@code unexpected_key}.
   */
  public KeyedPrediction<K> withExpectedKeys(PCollection<K> keys) {
    KeyedPrediction<K> c = copy();
    c.expectedKeys = Objects.requireNonNull(keys, "keys");
    return c;
  }

  /** The previous run's predictions by key, for {@link Fallback#previousRun}. */
  public KeyedPrediction<K> withPreviousPredictions(PCollection<KV<String, Prediction>> previousRun) {
    KeyedPrediction<K> c = copy();
    c.previous = Objects.requireNonNull(previousRun, "previousRun");
    return c;
  }

  /** Policy for keys without a model prediction (default {@link Fallback#abstain()}). */
  public KeyedPrediction<K> withFallback(Fallback policy) {
    KeyedPrediction<K> c = copy();
    c.fallback = Objects.requireNonNull(policy, "policy");
    return c;
  }

  /** Policy for several input records with one key (default {@link DuplicateKeyPolicy#ERROR}). */
  public KeyedPrediction<K> withDuplicateKeyPolicy(DuplicateKeyPolicy policy) {
    KeyedPrediction<K> c = copy();
    c.duplicatePolicy = Objects.requireNonNull(policy, "policy");
    return c;
  }

  /** See {@link BatchInfer#withMaxBatchSize}. */
  public KeyedPrediction<K> withMaxBatchSize(int n) {
    BatchInfer.withModel(modelUri).withMaxBatchSize(n); // validates n with BatchInfer's own message
    KeyedPrediction<K> c = copy();
    c.maxBatchSize = n;
    return c;
  }

  /**
   * Engine settings for loading the model (and the challenger) on the workers; see
   * {@link BatchInfer#withModelOptions}.
   *
   * <pre>{@code
   * rows.apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run)
   *     .withModelOptions(ModelOptions.defaults().withIntraOpThreads(2)));
   * }</pre>
   */
  public KeyedPrediction<K> withModelOptions(ModelOptions options) {
    BatchInfer.withModel(modelUri).withModelOptions(options); // validates with BatchInfer's own message
    KeyedPrediction<K> c = copy();
    c.modelOptions = options;
    return c;
  }

  /**
   * See {@link BatchInfer#withAdaptiveBatchSize}: the model's (and the challenger's) batches adapt
   * between {@code min} and {@code max} records ({@link #withMaxBatchSize} is then unused).
   *
   * <pre>{@code
   * rows.apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run).withAdaptiveBatchSize(16, 4096));
   * }</pre>
   */
  public KeyedPrediction<K> withAdaptiveBatchSize(int min, int max) {
    BatchInfer.withModel(modelUri).withAdaptiveBatchSize(min, max); // BatchInfer's own checks and messages
    KeyedPrediction<K> c = copy();
    c.adaptiveMin = min;
    c.adaptiveMax = max;
    return c;
  }

  /** The model step: the batch size (fixed or adaptive), failure threshold and engine options. */
  private BatchInfer<K> infer(String uri, RunInfo run) {
    BatchInfer<K> infer = BatchInfer.<K>withModel(uri).withRunInfo(run).withMaxBatchSize(maxBatchSize)
        .withModelOptions(modelOptions);
    return adaptiveMax > 0 ? infer.withAdaptiveBatchSize(adaptiveMin, adaptiveMax) : infer;
  }

  /** See {@link BatchInfer#withFailureThreshold}. */
  public KeyedPrediction<K> withFailureThreshold(double ratio) {
    BatchInfer.withModel(modelUri).withFailureThreshold(ratio);
    KeyedPrediction<K> c = copy();
    c.failureThreshold = ratio;
    return c;
  }

  /**
   * Number of hash buckets of the join back to the expected keys (default
   * {@value #DEFAULT_JOIN_BUCKETS}): the parallelism of that step. Each bucket holds its keys'
   * results in memory while they are resolved, so raise it for very large key sets.
   */
  public KeyedPrediction<K> withJoinBuckets(int n) {
    checkArgument(n >= 1 && n <= 1_000_000, "joinBuckets must be in [1, 1000000], but was %s", n);
    KeyedPrediction<K> c = copy();
    c.joinBuckets = n;
    return c;
  }

  /**
   * Champion/challenger: also scores every valid record with a second model (same feature layout,
   * checked at construction) and compares the two per key into {@link Result#challengerAgreement()}.
   * Only the champion's predictions are served; the challenger's are in
   * {@link Result#challengerPredictions()}.
   */
  public KeyedPrediction<K> withChallenger(String challengerModelUri) {
    checkArgument(challengerModelUri != null && !challengerModelUri.isEmpty(),
        "challengerModelUri must be set, but was '%s'", challengerModelUri);
    KeyedPrediction<K> c = copy();
    c.challengerUri = challengerModelUri;
    return c;
  }

  /**
   * The records the source could not read ({@code ReadRecords.Result#deadLetters()}): a dead letter
   * that still carries its key (a CSV record with the wrong column count, say) makes that key get its
   * fallback with the dead letter's reason ({@code read:wrong_column_count}) instead of no row at all.
   * Without {@link #withExpectedKeys} those keys join the expected keys, which needs {@code String}
   * keys. The dead letters themselves are the source's to account: they are not in
   * {@link Result#deadLetters()}.
   *
   * <pre>{@code
   * ReadRecords.Result in = p.apply(ReadRecords.csv(path).withKeyColumns("account_id"));
   * in.records().apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run).withReadFailures(in.deadLetters()));
   * }</pre>
   */
  public KeyedPrediction<K> withReadFailures(PCollection<DeadLetter> unreadable) {
    KeyedPrediction<K> c = copy();
    c.readFailures = Objects.requireNonNull(unreadable, "unreadable");
    return c;
  }

  /**
   * Input columns copied, as text, into every result of their record's key
   * ({@link Prediction#getPassThrough()}, written by JSON lines as {@code "pass_through"}): a row id,
   * a label, a region, carried through without being model features. A key whose record failed
   * (invalid features, failed inference) gets them on its fallback too; a key without a record (cold
   * start) or whose records were all dead-lettered as duplicates gets none. Dead letters carry the
   * whole record, these columns included. Every column must be in the input rows' schema.
   *
   * <pre>{@code
   * rows.apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run)
   *     .withPassThroughColumns("row_id", "label"));
   * // {"key":"a1", ..., "fallback_reason":null, "pass_through":{"row_id":"17","label":"fraud"}}
   * }</pre>
   */
  public KeyedPrediction<K> withPassThroughColumns(String... columns) {
    Objects.requireNonNull(columns, "columns");
    List<String> names = new ArrayList<>();
    for (String c : columns) {
      checkArgument(c != null && !c.trim().isEmpty(),
          "pass-through columns must be non-empty names, but were %s", Arrays.toString(columns));
      checkArgument(!names.contains(c.trim()), "pass-through column '%s' is named twice in %s",
          c.trim(), Arrays.toString(columns));
      names.add(c.trim());
    }
    KeyedPrediction<K> c = copy();
    c.passThroughColumns = List.copyOf(names);
    return c;
  }

  /**
   * Writes the output shards inside the join back ({@link ShardWriter}; e.g.
   * {@code FileSink#shardWriter()}): the join groups by the writer's shards instead of
   * {@link #withJoinBuckets} buckets and writes each shard's results, in key order, as it resolves
   * them, so that the files need no second shuffle. What it wrote is in {@link Result#writtenFiles()},
   * for the sink to publish:
   *
   * <pre>{@code
   * FileSink<String> files = SinkWithMetadata.<String>files(root).withRunInfo(run).withAttempt(FileSink.newAttemptId());
   * KeyedPrediction.Result<String> keyed =
   *     rows.apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run).writingShards(files.shardWriter()));
   * keyed.predictions().apply(files.withWrittenFiles(keyed.writtenFiles())
   *     .withInputCount(keyed.resolvedCount()).publishAfter(keyed.counts()));
   * }</pre>
   */
  public KeyedPrediction<K> writingShards(ShardWriter writer) {
    KeyedPrediction<K> c = copy();
    c.shardWriter = Objects.requireNonNull(writer, "writer");
    return c;
  }

  /**
   * A model per segment in one pass (see {@link ScoreBySegment}): each record is encoded with its
   * segment model's own spec and scored by that model; segments without a model of their own, and
   * records without a segment, are scored by this transform's model (with {@code spec}), which is
   * the default. Everything else (duplicates, fallbacks, the invariant, pass-through columns) is as
   * without segments. Not combined with {@link #withChallenger}; {@link Result#featureProfiles()}
   * is not made (the specs differ per model). For a segment without any model to get a fallback
   * instead of the default model, apply {@link ScoreBySegment} and then {@link #fromPredictions()}.
   *
   * <pre>{@code
   * rows.apply(KeyedPrediction.<String>of(spec, "/models/churn/7").withRunInfo(run)
   *     .withSegmentModels(ScoreBySegment.<String>byColumn("region")
   *         .withModel("eu", "/models/churn-eu/3")
   *         .withModel("us", "/models/churn-us/5")));
   * }</pre>
   */
  public KeyedPrediction<K> withSegmentModels(ScoreBySegment<K> bySegment) {
    Objects.requireNonNull(bySegment, "bySegment");
    checkArgument(bySegment.getDefaultModel() == null,
        "KeyedPrediction's own model (%s) is the segments' default: set no default model (%s) on the ScoreBySegment",
        modelUri, bySegment.getDefaultModel());
    checkArgument(!bySegment.getModels().isEmpty(),
        "withSegmentModels needs at least one segment model: ScoreBySegment.byColumn(column).withModel(segment, modelUri)");
    KeyedPrediction<K> c = copy();
    c.segments = bySegment;
    return c;
  }

  @Override
  public Result<K> expand(PCollection<KV<K, Row>> input) {
    checkState(runInfo != null, "KeyedPrediction needs withRunInfo(run) so predictions carry a run id");
    checkState(input.getCoder() instanceof KvCoder,
        "KeyedPrediction input must use a KvCoder, but was %s", input.getCoder());
    RunInfo run = runInfo;

    // The manifest is read and every model file verified at construction, so that a tampered model
    // or a spec/model layout mismatch fails before the run starts, long before anything is written.
    java.nio.file.Path modelDir = ModelStaging.localize(modelUri);
    ModelManifest manifest = ModelManifest.read(modelDir);
    manifest.verify(modelDir);

    // Duplicates are settled before anything else, on the input records themselves, so that their
    // dead letters carry the record and last_wins compares the records' positions.
    TupleTag<KV<K, Row>> uniqueTag = new TupleTag<>() {};
    TupleTag<KV<String, TimestampedValue<KV<K, Row>>>> duplicateTag = new TupleTag<>() {};
    TupleTag<DeadLetter> duplicateDeadTag = new TupleTag<>() {};
    PCollectionView<Map<String, Long>> duplicated =
        input.apply("CountPerKey", ParDo.of(new OnePerRecordFn<K>()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
            .apply("SumPerKey", Sum.longsPerKey())
            .apply("DuplicatedKeys", Filter.by(kv -> kv.getValue() > 1))
            .apply("DuplicatedKeysView", View.asMap());
    PCollectionTuple split = input.apply("SplitDuplicates",
        ParDo.of(new SplitDuplicatesFn<K>(duplicated, duplicatePolicy, uniqueTag, duplicateTag, duplicateDeadTag))
            .withSideInputs(duplicated)
            .withOutputTags(uniqueTag, TupleTagList.of(duplicateTag).and(duplicateDeadTag)));
    PCollection<KV<K, Row>> unique = split.get(uniqueTag).setCoder(input.getCoder());
    PCollection<DeadLetter> duplicateDead = split.get(duplicateDeadTag).setCoder(DeadLetter.DeadLetterCoder.of());
    PCollection<KV<K, Row>> scored = unique;
    if (duplicatePolicy == DuplicateKeyPolicy.LAST_WINS) {
      TupleTag<KV<K, Row>> winnerTag = new TupleTag<>() {};
      TupleTag<DeadLetter> supersededTag = new TupleTag<>() {};
      PCollectionTuple picked = split.get(duplicateTag)
          .setCoder(KvCoder.of(StringUtf8Coder.of(), TimestampedValue.TimestampedValueCoder.of(input.getCoder())))
          .apply("GroupDuplicates", GroupByKey.create())
          .apply("PickLast", ParDo.of(new PickLastFn<K>(input.getCoder(), winnerTag, supersededTag))
              .withOutputTags(winnerTag, TupleTagList.of(supersededTag)));
      scored = PCollectionList.of(unique).and(picked.get(winnerTag).setCoder(input.getCoder()))
          .apply("FlattenWinners", Flatten.pCollections());
      duplicateDead = PCollectionList.of(duplicateDead)
          .and(picked.get(supersededTag).setCoder(DeadLetter.DeadLetterCoder.of()))
          .apply("FlattenDuplicateDeadLetters", Flatten.pCollections());
    } else {
      split.get(duplicateTag)
          .setCoder(KvCoder.of(StringUtf8Coder.of(), TimestampedValue.TimestampedValueCoder.of(input.getCoder())));
    }

    if (segments != null) {
      checkState(challengerUri == null, "withChallenger cannot be combined with withSegmentModels: score the"
          + " challenger with a KeyedPrediction of its own");
      return joinBack(input, run, manifest, scored, duplicateDead, scored.apply("ScoreBySegment",
          segments.withDefaultModel(spec, modelUri).withRunInfo(run).withMaxBatchSize(maxBatchSize)
              .withModelOptions(modelOptions)
              .withFailureThreshold(failureThreshold)));
    }
    // A batch run (global window) is profiled while it is encoded, so quality needs no second parse.
    boolean profile = scored.getWindowingStrategy().getWindowFn() instanceof GlobalWindows;
    FeatureTransform<K> featureStep = FeatureTransform.<K>of(spec).withModelFeatures(manifest.getInputFeatures());
    FeatureTransform.Result<K> features =
        scored.apply("Features", profile ? featureStep.withFeatureProfile() : featureStep);
    BatchInfer.Result<K> inferred =
        features.vectors().apply("Infer",
            infer(modelUri, run).withFailureThreshold(failureThreshold));

    // The join back, the fallbacks and the invariant: the same transform a user applies to their own
    // predictions (fromPredictions), here told about the input records and the upstream failures.
    PCollection<DeadLetter> upstreamDead =
        PCollectionList.of(duplicateDead)
            .and(features.deadLetters())
            .and(features.skipped())
            .and(inferred.deadLetters())
            .apply("FlattenUpstreamDeadLetters", Flatten.pCollections());
    Result<K> result = joinBack(input, run, manifest, scored, upstreamDead, inferred.predictions());
    result.featureProfiles = profile ? features.featureProfiles() : null;
    if (challengerUri != null) {
      java.nio.file.Path challengerDir = ModelStaging.localize(challengerUri);
      ModelManifest challengerManifest = ModelManifest.read(challengerDir);
      challengerManifest.verify(challengerDir);
      spec.checkMatches(challengerManifest.getInputFeatures());
      BatchInfer.Result<K> challenger =
          features.vectors().apply("InferChallenger",
              infer(challengerUri, run));
      result.challengerPredictions = challenger.predictions();
      result.challengerDeadLetters = challenger.deadLetters();
      result.challengerAgreement =
          PCollectionList.of(inferred.predictions()).and(challenger.predictions())
              .apply("CompareChallenger", CompareModels.<K>atThreshold(0.5));
    }
    return result;
  }

  /** The segments' predictions and failures (after the duplicates' dead letters) joined back. */
  private Result<K> joinBack(PCollection<KV<K, Row>> input, RunInfo run, ModelManifest manifest,
      PCollection<KV<K, Row>> scored, PCollection<DeadLetter> duplicateDead, ScoreBySegment.Result<K> bySegment) {
    PCollection<DeadLetter> upstreamDead = PCollectionList.of(duplicateDead).and(bySegment.deadLetters())
        .apply("FlattenUpstreamDeadLetters", Flatten.pCollections());
    return joinBack(input, run, manifest, scored, upstreamDead, bySegment.predictions());
  }

  /** The join back, the fallbacks and the invariant over {@code predicted}, whatever scored it. */
  private Result<K> joinBack(PCollection<KV<K, Row>> input, RunInfo run, ModelManifest manifest,
      PCollection<KV<K, Row>> scored, PCollection<DeadLetter> upstreamDead, PCollection<KV<K, Prediction>> predicted) {
    FromPredictions<K> join = KeyedPrediction.<K>fromPredictions()
        .withRunInfo(run)
        .withModelVersion(manifest.getVersion())
        .withInputRecords(input)
        .withDeadLetters(upstreamDead)
        .withFallback(fallback)
        .withDuplicateKeyPolicy(duplicatePolicy)
        .withJoinBuckets(joinBuckets);
    if (expectedKeys != null) {
      join = join.withExpectedKeys(expectedKeys);
    }
    if (previous != null) {
      join = join.withPreviousPredictions(previous);
    }
    if (readFailures != null) {
      join = join.withReadFailures(readFailures);
    }
    if (shardWriter != null) {
      join = join.writingShards(shardWriter);
    }
    if (!passThroughColumns.isEmpty()) {
      // Taken after duplicates are settled: the record that is scored is the one whose values travel.
      checkPassThroughColumns(input, passThroughColumns);
      join = join.withPassThroughValues(passThroughColumns,
          scored.apply("PassThroughValues", ParDo.of(new PassThroughFn<K>(passThroughColumns)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), PASS_THROUGH_CODER)));
    }
    return predicted.apply("JoinBack", join);
  }

  /**
   * The join back alone, for predictions made any way: exactly one result per expected key from
   * the {@code KV<K, Prediction>}s of the user's own features and model step, with the same
   * duplicates policy, fallbacks (every {@link Fallback}, previous run included) and completeness
   * invariant as {@link #of}. The composite {@link #of} is {@link FeatureTransform}, then
   * {@link BatchInfer}, then this.
   *
   * <pre>{@code
   * PCollection<KV<String, Prediction>> mine = vectors.apply(ParDo.of(new MyScoringFn()));
   * KeyedPrediction.Result<String> r = mine.apply(
   *     KeyedPrediction.<String>fromPredictions()
   *         .withRunInfo(run)
   *         .withModelVersion("my-model-7")            // stamped on fallbacks
   *         .withInputRecords(rows)                    // counts input records; its keys are the default expected keys
   *         .withDeadLetters(myFailures)               // records my steps could not score, with their keys
   *         .withExpectedKeys(activeAccounts)          // cold-start keys get a fallback
   *         .withFallback(Fallback.constant(0.02f)));
   * r.predictions(); // exactly one per active account
   * r.counts();      // input records = predictions + dead letters, expected keys = predictions + fallbacks
   * }</pre>
   *
   * <p>Keys are matched by their string form. Several predictions for one key follow the
   * {@link DuplicateKeyPolicy}: {@code ERROR} turns each into a {@code duplicate_key} dead letter and
   * gives the key its fallback; {@code LAST_WINS} serves the one with the latest element timestamp
   * (ties: the greatest encoded prediction) and dead-letters the others as
   * {@code duplicate_key_superseded}.
   *
   * <p>Without {@link #withInputRecords}, the input records are counted as the predictions received
   * plus the dead letters given, so the record invariant checks this join's own accounting only,
   * and the expected keys (unless given) are the keys of the predictions and of the keyed dead
   * letters, which needs {@code String} keys when there are dead letters.
   */
  public static final class FromPredictions<K>
      extends PTransform<PCollection<KV<K, Prediction>>, Result<K>> {
    private static final long serialVersionUID = 1L;

    private @Nullable RunInfo runInfo;
    private String modelVersion = "unknown";
    private transient @Nullable PCollection<? extends KV<K, ?>> inputRecords;
    private transient @Nullable PCollection<DeadLetter> deadLetters;
    private transient @Nullable PCollection<DeadLetter> readFailures;
    private transient @Nullable PCollection<K> expectedKeys;
    private transient @Nullable PCollection<KV<String, Prediction>> previous;
    private Fallback fallback = Fallback.abstain();
    private DuplicateKeyPolicy duplicatePolicy = DuplicateKeyPolicy.ERROR;
    private int joinBuckets = DEFAULT_JOIN_BUCKETS;
    private List<String> passThroughColumns = List.of();
    private transient @Nullable PCollection<KV<String, List<@Nullable String>>> passThroughValues;
    private @Nullable ShardWriter shardWriter;

    private FromPredictions() {}

    private FromPredictions<K> copy() {
      FromPredictions<K> c = new FromPredictions<>();
      c.runInfo = runInfo;
      c.modelVersion = modelVersion;
      c.inputRecords = inputRecords;
      c.deadLetters = deadLetters;
      c.readFailures = readFailures;
      c.expectedKeys = expectedKeys;
      c.previous = previous;
      c.fallback = fallback;
      c.duplicatePolicy = duplicatePolicy;
      c.joinBuckets = joinBuckets;
      c.passThroughColumns = passThroughColumns;
      c.passThroughValues = passThroughValues;
      c.shardWriter = shardWriter;
      return c;
    }

    /** The run every fallback is stamped with (required). */
    public FromPredictions<K> withRunInfo(RunInfo run) {
      FromPredictions<K> c = copy();
      c.runInfo = Objects.requireNonNull(run, "run");
      return c;
    }

    /** The model version written on fallbacks (default {@code unknown}); {@link #of} uses the manifest's. */
    public FromPredictions<K> withModelVersion(String version) {
      checkArgument(version != null && !version.isEmpty(), "modelVersion must be set, but was '%s'", version);
      FromPredictions<K> c = copy();
      c.modelVersion = version;
      return c;
    }

    /**
     * The records the predictions were made from: they are the run's input records
     * ({@code input records = predictions + dead letters}), their keys are the default expected
     * keys, and an expected key without a record is a {@code cold_start}.
     */
    public FromPredictions<K> withInputRecords(PCollection<? extends KV<K, ?>> records) {
      FromPredictions<K> c = copy();
      c.inputRecords = Objects.requireNonNull(records, "records");
      return c;
    }

    /**
     * The input records the steps before this one could not turn into a prediction (invalid
     * features, failed inference...). A dead letter with a key gives that key's fallback its reason
     * ({@code step:reason[:field]}); every dead letter is in {@link Result#deadLetters()} and counts
     * in the invariant.
     */
    public FromPredictions<K> withDeadLetters(PCollection<DeadLetter> failures) {
      FromPredictions<K> c = copy();
      c.deadLetters = Objects.requireNonNull(failures, "failures");
      return c;
    }

    /** See {@link KeyedPrediction#withReadFailures}: the source's failures, not counted here. */
    public FromPredictions<K> withReadFailures(PCollection<DeadLetter> unreadable) {
      FromPredictions<K> c = copy();
      c.readFailures = Objects.requireNonNull(unreadable, "unreadable");
      return c;
    }

    /** See {@link KeyedPrediction#withExpectedKeys}. */
    public FromPredictions<K> withExpectedKeys(PCollection<K> keys) {
      FromPredictions<K> c = copy();
      c.expectedKeys = Objects.requireNonNull(keys, "keys");
      return c;
    }

    /** See {@link KeyedPrediction#withPreviousPredictions}. */
    public FromPredictions<K> withPreviousPredictions(PCollection<KV<String, Prediction>> previousRun) {
      FromPredictions<K> c = copy();
      c.previous = Objects.requireNonNull(previousRun, "previousRun");
      return c;
    }

    /** See {@link KeyedPrediction#withFallback}. */
    public FromPredictions<K> withFallback(Fallback policy) {
      FromPredictions<K> c = copy();
      c.fallback = Objects.requireNonNull(policy, "policy");
      return c;
    }

    /** Policy for several predictions with one key (default {@link DuplicateKeyPolicy#ERROR}). */
    public FromPredictions<K> withDuplicateKeyPolicy(DuplicateKeyPolicy policy) {
      FromPredictions<K> c = copy();
      c.duplicatePolicy = Objects.requireNonNull(policy, "policy");
      return c;
    }

    /** See {@link KeyedPrediction#withJoinBuckets}. */
    public FromPredictions<K> withJoinBuckets(int n) {
      checkArgument(n >= 1 && n <= 1_000_000, "joinBuckets must be in [1, 1000000], but was %s", n);
      FromPredictions<K> c = copy();
      c.joinBuckets = n;
      return c;
    }

    /** See {@link KeyedPrediction#writingShards}: the join's buckets are the writer's shards. */
    public FromPredictions<K> writingShards(ShardWriter writer) {
      FromPredictions<K> c = copy();
      c.shardWriter = Objects.requireNonNull(writer, "writer");
      return c;
    }

    /**
     * {@link KeyedPrediction#withPassThroughColumns}: each key's values of {@code columns} (in that
     * order, by the key's string form, at most one per key) are set on its result, model prediction
     * or fallback; a result whose key has none gets an empty pass-through, never a previous run's.
     */
    FromPredictions<K> withPassThroughValues(
        List<String> columns, PCollection<KV<String, List<@Nullable String>>> values) {
      FromPredictions<K> c = copy();
      c.passThroughColumns = List.copyOf(columns);
      c.passThroughValues = Objects.requireNonNull(values, "values");
      return c;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Result<K> expand(PCollection<KV<K, Prediction>> predictionsIn) {
      checkState(runInfo != null,
          "KeyedPrediction.fromPredictions() needs withRunInfo(run) so fallbacks carry a run id");
      checkState(predictionsIn.getCoder() instanceof KvCoder,
          "KeyedPrediction.fromPredictions() input must use a KvCoder, but was %s", predictionsIn.getCoder());
      RunInfo run = runInfo;
      Pipeline p = predictionsIn.getPipeline();
      KvCoder<K, Prediction> inCoder = (KvCoder<K, Prediction>) predictionsIn.getCoder();
      Coder<K> keyCoder = inCoder.getKeyCoder();
      PCollection<DeadLetter> upstreamDead = deadLetters != null ? deadLetters
          : p.apply("NoDeadLetters", Create.empty(DeadLetter.DeadLetterCoder.of()));
      PCollection<KV<K, ?>> records = (PCollection<KV<K, ?>>) (PCollection<?>) inputRecords;

      // Everything is joined by the key's string form.
      PCollection<K> expectedSource = expectedKeys;
      if (expectedSource == null) {
        boolean keysFromDeadLetters = records == null && deadLetters != null;
        expectedSource = records != null
            ? records.apply("InputKeys", ParDo.of(new KeyOf<K>())).setCoder(keyCoder)
            : predictionsIn.apply("PredictedKeys", ParDo.of(new KeyOf<K>())).setCoder(keyCoder);
        PCollection<DeadLetter> keyedFailures = readFailures;
        if (keysFromDeadLetters) {
          keyedFailures = readFailures == null ? upstreamDead
              : PCollectionList.of(upstreamDead).and(readFailures).apply("FlattenKeyedFailures", Flatten.pCollections());
        }
        if (keyedFailures != null) {
          checkState(keyCoder instanceof StringUtf8Coder,
              "without withExpectedKeys, the keys of dead letters (withDeadLetters without withInputRecords,"
                  + " or withReadFailures) join the expected keys, which needs String keys (StringUtf8Coder),"
                  + " but the key coder is %s: pass withExpectedKeys(keys)", keyCoder);
          PCollection<K> failedKeys = (PCollection<K>) (PCollection<?>) keyedFailures
              .apply("DeadLetterKeys", ParDo.of(new DeadLetterKeyFn())).setCoder(StringUtf8Coder.of());
          expectedSource = PCollectionList.of(expectedSource).and(failedKeys)
              .apply("KeysAndDeadLetterKeys", Flatten.pCollections());
        }
      }
      PCollection<KV<String, K>> expected =
          expectedSource
              .apply("KeyExpected", ParDo.of(new ByString<K>()))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), keyCoder));
      PCollection<KV<String, TimestampedValue<KV<K, Prediction>>>> predicted =
          predictionsIn
              .apply("KeyPredicted", ParDo.of(new PredictedFn<K>()))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), TimestampedValue.TimestampedValueCoder.of(inCoder)));
      PCollection<DeadLetter> failures = readFailures == null ? upstreamDead
          : PCollectionList.of(upstreamDead).and(readFailures).apply("FlattenReadFailures", Flatten.pCollections());
      PCollection<KV<String, String>> failed =
          failures
              .apply("KeyFailures", ParDo.of(new FailureReasonFn()))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()));

      // The join runs per hash bucket of the key, not per key (see BucketJoin for why).
      // With a shard writer the buckets are its shards, so the join also writes the output files.
      int buckets = shardWriter != null ? shardWriter.shards() : joinBuckets;
      BucketJoin join = BucketJoin.withBuckets(buckets);
      int expectedTag = join.add("Expected", expected, keyCoder);
      int seenTag = records == null ? -1 : join.add("Seen",
          records.apply("KeySeen", ParDo.of(new SeenFn<K>())).setCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of())),
          VarIntCoder.of());
      int predictedTag = join.add("Predicted", predicted, TimestampedValue.TimestampedValueCoder.of(inCoder));
      int failedTag = join.add("Failed", failed, StringUtf8Coder.of());
      int previousTag = previous == null ? -1 : join.add("Previous", previous, Prediction.PredictionCoder.of());
      int passThroughTag = passThroughValues == null ? -1
          : join.add("PassThrough", passThroughValues, PASS_THROUGH_CODER);

      TupleTag<KV<K, Prediction>> outTag = new TupleTag<>();
      TupleTag<DeadLetter> keyDeadTag = new TupleTag<>();
      TupleTag<Integer> fallbackTag = new TupleTag<>();
      TupleTag<KV<String, KV<String, Long>>> writtenTag = new TupleTag<>();
      PCollectionTuple joined =
          join.group("JoinBack")
              .apply(shardWriter != null ? "ResolveKeysAndWriteShards" : "ResolveKeys",
                  ParDo.of(new ResolveFn<K>(expectedTag, seenTag, predictedTag, failedTag, previousTag,
                          passThroughTag, passThroughColumns, outTag, keyDeadTag, fallbackTag, fallback,
                          duplicatePolicy, run, modelVersion, shardWriter, writtenTag))
                      .withOutputTags(outTag, TupleTagList.of(keyDeadTag).and(fallbackTag).and(writtenTag)));
      PCollection<KV<K, Prediction>> predictions = joined.get(outTag).setCoder(inCoder);
      PCollection<DeadLetter> keyDead = joined.get(keyDeadTag).setCoder(DeadLetter.DeadLetterCoder.of());
      PCollection<Integer> fallbacks = joined.get(fallbackTag).setCoder(VarIntCoder.of());

      PCollection<DeadLetter> allDead =
          PCollectionList.of(upstreamDead).and(keyDead).apply("FlattenDeadLetters", Flatten.pCollections());

      // One ledger: every count the invariant reads is tallied by one combine (tag, amount).
      KvCoder<Integer, Long> entryCoder = KvCoder.of(VarIntCoder.of(), VarLongCoder.of());
      PCollectionList<KV<Integer, Long>> entries = PCollectionList.empty(p);
      if (records != null) {
        entries = entries.and(records.apply("TallyInput", ParDo.of(new TallyFn<KV<K, ?>>(Ledger.INPUT))).setCoder(entryCoder));
      } else {
        // No records given: what reached this step, predictions plus the records that did not.
        entries = entries
            .and(predictionsIn.apply("TallyPredictionsIn", ParDo.of(new TallyFn<KV<K, Prediction>>(Ledger.INPUT))).setCoder(entryCoder))
            .and(upstreamDead.apply("TallyDeadIn", ParDo.of(new TallyFn<DeadLetter>(Ledger.INPUT))).setCoder(entryCoder));
      }
      // Expected keys are counted apart from the join, so that the invariant checks the join rather than restating it.
      entries = entries
          .and(bucketed(expected, "ExpectedForCount", keyCoder, buckets)
              .apply("GroupExpectedForCount", GroupByKey.create())
              .apply("DistinctExpectedPerBucket", ParDo.of(new DistinctCountFn<K>())).setCoder(entryCoder))
          .and(fallbacks.apply("TallyFallbacks", ParDo.of(new TallyFn<Integer>(Ledger.FALLBACKS))).setCoder(entryCoder))
          .and(predictions.apply("TallyResults", ParDo.of(new TallyFn<KV<K, Prediction>>(Ledger.RESULTS))).setCoder(entryCoder))
          .and(allDead.apply("TallyDeadLetters", ParDo.of(new TallyFn<DeadLetter>(Ledger.DEAD))).setCoder(entryCoder));
      PCollectionView<long[]> ledger = entries
          .apply("FlattenLedger", Flatten.pCollections())
          .apply("RunLedger", Combine.globally(new Ledger()).asSingletonView());
      PCollection<RunCounts> counts =
          p.apply("Once", Create.of(0))
              .apply("CheckCompleteness", ParDo.of(new CompletenessFn(ledger)).withSideInputs(ledger))
              .setCoder(RunCounts.RunCountsCoder.of());
      PCollection<KV<String, KV<String, Long>>> written = joined.get(writtenTag)
          .setCoder(KvCoder.of(StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
      Result<K> result = new Result<>(p, predictions, outTag, allDead, keyDeadTag, counts);
      result.writtenFiles = shardWriter != null ? written : null;
      return result;
    }
  }

  /** Predictions (model and fallback), dead letters, and the accounting of the run. */
  public static final class Result<K> extends TransformResult {
    private final PCollection<KV<K, Prediction>> predictions;
    private final PCollection<DeadLetter> deadLetters;
    private final PCollection<RunCounts> counts;
    private @Nullable PCollection<KV<K, Prediction>> challengerPredictions;
    private @Nullable PCollection<DeadLetter> challengerDeadLetters;
    private @Nullable PCollection<ModelAgreement> challengerAgreement;
    private @Nullable PCollection<FeatureProfile> featureProfiles;
    private @Nullable PCollection<KV<String, KV<String, Long>>> writtenFiles;
    private @Nullable PCollection<Long> resolvedCount;

    Result(Pipeline pipeline, PCollection<KV<K, Prediction>> predictions, TupleTag<KV<K, Prediction>> predictionsTag,
        PCollection<DeadLetter> deadLetters, TupleTag<DeadLetter> deadLettersTag, PCollection<RunCounts> counts) {
      super(pipeline);
      this.predictions = output(predictionsTag, predictions);
      this.deadLetters = output(deadLettersTag, deadLetters);
      this.counts = output(new TupleTag<>(), counts);
    }

    /** Exactly one per expected key: a model prediction or a fallback with its reason. */
    public PCollection<KV<K, Prediction>> predictions() {
      return predictions;
    }

    /** Every input record that did not become a prediction, with the step and reason. */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    /** The challenger's predictions (model only, no fallbacks), when {@code withChallenger} was set. */
    public PCollection<KV<K, Prediction>> challengerPredictions() {
      checkState(challengerPredictions != null, "no challenger: use withChallenger(modelUri)");
      return challengerPredictions;
    }

    /** Records the challenger failed on (they do not count in the run's invariant). */
    public PCollection<DeadLetter> challengerDeadLetters() {
      checkState(challengerDeadLetters != null, "no challenger: use withChallenger(modelUri)");
      return challengerDeadLetters;
    }

    /** One {@link ModelAgreement} for the run: champion vs challenger, decisions at 0.5. */
    public PCollection<ModelAgreement> challengerAgreement() {
      checkState(challengerAgreement != null, "no challenger: use withChallenger(modelUri)");
      return challengerAgreement;
    }

    /**
     * The features' partial profiles made while {@link #of} encoded the records (input in the
     * global window), for {@code MeasureRunQuality.withFeatureProfiles}: quality then reads no row
     * again.
     *
     * @throws IllegalStateException for {@link #fromPredictions()} (it parses no record) or windowed input
     */
    public PCollection<FeatureProfile> featureProfiles() {
      checkState(featureProfiles != null,
          "no feature profiles: only KeyedPrediction.of(...) on input in the global window encodes records");
      return featureProfiles;
    }

    /**
     * The files the join wrote through {@code writingShards(writer)}, one {@code (directory, (file,
     * rows))} per file, for {@code FileSink#withWrittenFiles}.
     *
     * @throws IllegalStateException without {@code writingShards}
     */
    public PCollection<KV<String, KV<String, Long>>> writtenFiles() {
      checkState(writtenFiles != null,
          "no files were written in the join: use writingShards(fileSink.shardWriter()) to write them there");
      return writtenFiles;
    }

    /** One element, produced only when the completeness invariant holds (else the run fails). */
    public PCollection<RunCounts> counts() {
      return counts;
    }

    /**
     * The number of results in {@link #predictions()} (predictions + fallbacks, from the run ledger):
     * one element, for a sink's {@code withInputCount} so that the sink does not count them again.
     */
    public PCollection<Long> resolvedCount() {
      if (resolvedCount == null) {
        resolvedCount = counts.apply("ResolvedCount", MapElements.into(TypeDescriptors.longs())
            .via((RunCounts c) -> c.getPredictions() + c.getFallbacks()));
      }
      return resolvedCount;
    }
  }

}
