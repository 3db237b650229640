package dev.batchserve.transforms.features;

import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.TransformResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns keyed {@link Row}s into keyed {@link FeatureVector}s with a fitted {@link FeatureSpec}: the
 * same {@link FeatureSpec#transform} that training used, so serving cannot skew. Invalid records go
 * to {@link Result#deadLetters()}, records dropped by a {@code skip} policy to {@link
 * Result#skipped()}; every input is in exactly one of the three outputs.
 *
 * <pre>{@code
 * FeatureTransform.Result<String> features =
 *     keyedRows.apply(
 *         FeatureTransform.<String>fromSpec("gs://bucket/models/v7/feature_spec.json")
 *             .withModelFeatures(model.inputFeatureNames()));
 * features.vectors();      // PCollection<KV<String, FeatureVector>>
 * features.deadLetters();  // PCollection<DeadLetter>, step "features"
 * features.skipped();      // PCollection<DeadLetter>
 * }</pre>
 *
 * <p>The spec can also be fitted in the same pipeline: {@link #of(PCollectionView)} takes it as a
 * side input from {@link AnalyzeFeatures} (see {@link AnalyzeFeatures#asView}), and {@link
 * SaveSpecToModel} saves it into the model directory once the fit is done:
 *
 * <pre>{@code
 * PCollection<FeatureSpec> fitted = trainingRows.apply("Fit", AnalyzeFeatures.of(template));
 * PCollectionView<FeatureSpec> spec = AnalyzeFeatures.asView(fitted);
 * FeatureTransform.Result<String> features =
 *     keyedRows.apply(FeatureTransform.<String>of(spec).withModelFeatures(manifest.getInputFeatures()));
 * fitted.apply("SaveSpec", SaveSpecToModel.into(modelDir));
 * }</pre>
 *
 * <p>Both forms run the same encoding step, so for the same spec they produce the same vectors,
 * dead letters, skipped records and metrics. The output coders do not depend on the spec (a {@link
 * FeatureVector} carries its own length), so they are set at construction in both forms; what
 * needs the spec's values waits for it in the side-input form: the fitted-spec check and the
 * {@link #withModelFeatures} layout check run when the first record of a worker meets the spec,
 * and fail the pipeline with the construction-time message, prefixed by "the feature spec fitted
 * in this pipeline cannot be used".
 *
 * <p>A Row is read as a map of its field names to values: fields the spec does not know are
 * ignored, and features absent from the Row's schema are missing. Metrics (namespace {@value
 * #NAMESPACE}): {@code records_validated}, {@code records_valid}, {@code records_skipped}, {@code
 * invalid_<reason>}, {@code skipped_<reason>}, and {@code null_<feature>} (records where the
 * feature was absent or null: its serving null rate).
 */
public final class FeatureTransform<K>
    extends PTransform<PCollection<KV<K, Row>>, FeatureTransform.Result<K>> {
  private static final long serialVersionUID = 1L;

  /** Beam Metrics namespace of this transform's counters. */
  public static final String NAMESPACE = "batchserve.features";

  /** The step name on dead letters and skipped records. */
  public static final String STEP = "features";

  // Exactly one of spec (known at construction) and specView (fitted in this pipeline) is set.
  private final @Nullable FeatureSpec spec;
  private final @Nullable PCollectionView<FeatureSpec> specView;
  private @Nullable List<String> modelFeatures;
  private boolean profile;

  private FeatureTransform(@Nullable FeatureSpec spec, @Nullable PCollectionView<FeatureSpec> specView) {
    this.spec = spec;
    this.specView = specView;
  }

  private FeatureTransform<K> copy() {
    FeatureTransform<K> c = new FeatureTransform<>(spec, specView);
    c.modelFeatures = modelFeatures;
    c.profile = profile;
    return c;
  }

  /**
   * Refuses, before anything runs, an input whose schema lacks a column that a {@code required}
   * feature of {@code spec} reads: such a run would only turn every record into a
   * {@code missing_required} dead letter and then fail on the dead-letter rate, without naming the
   * column. Optional (imputed) features may be absent. Used by the batch job right after its source;
   * a pipeline of your own can call it the same way.
   *
   * <pre>{@code
   * FeatureTransform.checkRequiredColumns(spec, read.schema(), "gs://in/accounts-*.csv");
   * }</pre>
   *
   * <p>Only names and required flags are read, which fitting does not change: with a spec fitted
   * in the pipeline ({@link #of(PCollectionView)}), pass its template.
   *
   * @throws IllegalArgumentException naming the missing column(s), the input and what to change
   */
  public static void checkRequiredColumns(FeatureSpec spec, Schema input, String inputName) {
    List<String> missing = new ArrayList<>();
    for (Feature f : spec.features()) {
      if (f.required() && !input.hasField(f.name())) {
        missing.add(f.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("the input " + inputName + " has no column " + String.join(", ", missing)
          + ", which the feature spec requires (its columns: " + input.getFieldNames() + "): add the column"
          + (missing.size() > 1 ? "s" : "") + " to the input, or make the feature optional (imputed) in the spec");
    }
  }

  /** Uses a fitted spec; refuses a template. */
  public static <K> FeatureTransform<K> of(FeatureSpec spec) {
    if (spec == null) {
      throw new IllegalArgumentException("spec must not be null");
    }
    checkFitted(spec);
    return new FeatureTransform<>(spec, null);
  }

  /**
   * Uses the spec fitted in this pipeline, as a singleton side input: records are encoded once the
   * fit is done, exactly as {@link #of(FeatureSpec)} would encode them with the same spec.
   *
   * <pre>{@code
   * PCollectionView<FeatureSpec> spec =
   *     AnalyzeFeatures.asView(trainingRows.apply("Fit", AnalyzeFeatures.of(template)));
   * FeatureTransform.Result<String> features = keyedRows.apply(FeatureTransform.<String>of(spec));
   * }</pre>
   *
   * <p>The spec is only known when the pipeline runs, so the checks {@link #of(FeatureSpec)} and
   * {@link #withModelFeatures} make at construction are made when a worker first meets the spec:
   * an unfitted spec or a layout that differs from the model fails the pipeline with an {@link
   * IllegalArgumentException} saying so. The view must hold exactly one spec ({@link
   * AnalyzeFeatures#asView} makes such a view).
   */
  public static <K> FeatureTransform<K> of(PCollectionView<FeatureSpec> fittedSpec) {
    if (fittedSpec == null) {
      throw new IllegalArgumentException("fittedSpec view must not be null");
    }
    return new FeatureTransform<>(null, fittedSpec);
  }

  /** Reads the fitted spec now (at construction), from a local path or a Beam filesystem URI. */
  public static <K> FeatureTransform<K> fromSpec(String uri) {
    return of(FeatureSpec.read(uri));
  }

  /**
   * The model's input feature names in order; {@link #expand} fails when the spec's output layout
   * differs, so a mismatch stops the pipeline at construction instead of scoring garbage. With a
   * spec from a side input ({@link #of(PCollectionView)}) the same check runs when the spec is
   * first used, before any record is encoded, and fails the pipeline.
   */
  public FeatureTransform<K> withModelFeatures(List<String> names) {
    if (names == null) {
      throw new IllegalArgumentException("model feature names must not be null");
    }
    FeatureTransform<K> c = copy();
    c.modelFeatures = Collections.unmodifiableList(new ArrayList<>(names));
    return c;
  }

  /**
   * Also profiles the records as they are encoded: {@link Result#featureProfiles()} then holds one
   * {@link FeatureProfile} per bundle (rows, nulls, unreadable values and training-bucket counts
   * per feature), made from the same parse as the vectors, so that a quality check needs no second
   * parser and no second pass over the rows. Needs input in the global window (a batch run).
   *
   * <pre>{@code
   * FeatureTransform.Result<String> f = rows.apply(FeatureTransform.<String>of(spec).withFeatureProfile());
   * rows.apply(MeasureRunQuality.<String>of(spec).withFeatureProfiles(f.featureProfiles())...);
   * }</pre>
   */
  public FeatureTransform<K> withFeatureProfile() {
    FeatureTransform<K> c = copy();
    c.profile = true;
    return c;
  }

  /**
   * The spec given at construction.
   *
   * @throws IllegalStateException when the spec is a side input ({@link #of(PCollectionView)}):
   *     it exists only when the pipeline runs; see {@link #specView()}
   */
  public FeatureSpec spec() {
    if (spec == null) {
      throw new IllegalStateException(
          "this FeatureTransform takes its spec from the side input " + specView
              + ", which is only known when the pipeline runs: use specView()");
    }
    return spec;
  }

  /** The side input the spec comes from, or null when it was given at construction. */
  public @Nullable PCollectionView<FeatureSpec> specView() {
    return specView;
  }

  @Override
  public Result<K> expand(PCollection<KV<K, Row>> input) {
    if (spec != null && modelFeatures != null) {
      spec.checkMatches(modelFeatures);
    }
    if (!(input.getCoder() instanceof KvCoder)) {
      throw new IllegalStateException(
          "FeatureTransform needs a KvCoder on its input, but it has " + input.getCoder());
    }
    Coder<K> keyCoder = ((KvCoder<K, Row>) input.getCoder()).getKeyCoder();
    TupleTag<KV<K, FeatureVector>> vectors = new TupleTag<KV<K, FeatureVector>>() {};
    TupleTag<DeadLetter> deadLetters = new TupleTag<DeadLetter>() {};
    TupleTag<DeadLetter> skipped = new TupleTag<DeadLetter>() {};
    TupleTag<FeatureProfile> profiles = new TupleTag<FeatureProfile>() {};
    if (profile && !(input.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
      throw new IllegalStateException("FeatureTransform.withFeatureProfile() profiles one batch run in the global"
          + " window, but the input is windowed by " + input.getWindowingStrategy().getWindowFn()
          + ": apply it before windowing, or drop withFeatureProfile()");
    }
    TupleTagList extra = TupleTagList.of(deadLetters).and(skipped);
    ParDo.MultiOutput<KV<K, Row>, KV<K, FeatureVector>> encode =
        ParDo.of(new EncodeFn<K>(spec, specView, modelFeatures, vectors, deadLetters, skipped,
                profile ? profiles : null))
            .withOutputTags(vectors, profile ? extra.and(profiles) : extra);
    if (specView != null) {
      encode = encode.withSideInputs(specView);
    }
    PCollectionTuple out = input.apply("Encode", encode);
    out.get(vectors).setCoder(KvCoder.of(keyCoder, FeatureVector.FeatureVectorCoder.of()));
    out.get(deadLetters).setCoder(DeadLetter.DeadLetterCoder.of());
    out.get(skipped).setCoder(DeadLetter.DeadLetterCoder.of());
    if (profile) {
      out.get(profiles).setCoder(FeatureProfile.coder());
    }
    return new Result<>(
        input.getPipeline(),
        vectors,
        out.get(vectors),
        deadLetters,
        out.get(deadLetters),
        skipped,
        out.get(skipped),
        profiles,
        profile ? out.get(profiles) : null);
  }

  private static void checkFitted(FeatureSpec spec) {
    if (!spec.isFitted()) {
      throw new IllegalArgumentException(
          "FeatureTransform needs a fitted FeatureSpec, but " + spec
              + " is an unfitted template: fit it with AnalyzeFeatures or FeatureSpec.fit first");
    }
  }

  /** Reads a Row as the map {@link FeatureSpec#transform} takes: field name to value. */
  static Map<String, Object> asMap(Row row) {
    Schema schema = row.getSchema();
    Map<String, Object> map = new HashMap<>(schema.getFieldCount() * 2);
    for (int i = 0; i < schema.getFieldCount(); i++) {
      map.put(schema.getField(i).getName(), row.getValue(i));
    }
    return map;
  }

  private static final class EncodeFn<K> extends DoFn<KV<K, Row>, KV<K, FeatureVector>> {
    private static final long serialVersionUID = 1L;

    private final @Nullable FeatureSpec spec;
    private final @Nullable PCollectionView<FeatureSpec> specView;
    private final @Nullable List<String> modelFeatures;
    private final TupleTag<KV<K, FeatureVector>> vectors;
    private final TupleTag<DeadLetter> deadLetters;
    private final TupleTag<DeadLetter> skipped;
    private final @Nullable TupleTag<FeatureProfile> profiles;

    private final Counter validated = Metrics.counter(NAMESPACE, "records_validated");
    private final Counter valid = Metrics.counter(NAMESPACE, "records_valid");
    private final Counter skippedRecords = Metrics.counter(NAMESPACE, "records_skipped");
    // Counters by reason/feature are made on first use: the set of names is small and fixed.
    private transient @Nullable Map<String, Counter> dynamic;
    // The side-input spec last checked; by identity, since a runner hands out the same object
    // for as long as it caches the side input (and re-checking another copy is cheap).
    private transient @Nullable FeatureSpec checked;
    // This bundle's profile, when profiling.
    private transient @Nullable FeatureProfile bundleProfile;

    EncodeFn(
        @Nullable FeatureSpec spec,
        @Nullable PCollectionView<FeatureSpec> specView,
        @Nullable List<String> modelFeatures,
        TupleTag<KV<K, FeatureVector>> vectors,
        TupleTag<DeadLetter> deadLetters,
        TupleTag<DeadLetter> skipped,
        @Nullable TupleTag<FeatureProfile> profiles) {
      this.spec = spec;
      this.specView = specView;
      this.modelFeatures = modelFeatures;
      this.vectors = vectors;
      this.deadLetters = deadLetters;
      this.skipped = skipped;
      this.profiles = profiles;
    }

    @StartBundle
    public void startBundle() {
      bundleProfile = profiles == null ? null : new FeatureProfile();
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      if (bundleProfile != null && !bundleProfile.isEmpty()) {
        c.output(profiles, bundleProfile, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
      }
      bundleProfile = null;
    }

    @Setup
    public void setup() {
      dynamic = new LinkedHashMap<>();
    }

    @ProcessElement
    public void process(@Element KV<K, Row> element, MultiOutputReceiver out, ProcessContext c) {
      FeatureSpec spec = specView == null ? this.spec : checkedSideInput(c.sideInput(specView));
      validated.inc();
      Row row = element.getValue();
      FeatureOutcome outcome = spec.transform(row == null ? Collections.emptyMap() : asMap(row), bundleProfile);
      for (String feature : outcome.missingFields()) {
        counter("null_" + feature).inc();
      }
      switch (outcome.kind()) {
        case VALID:
          valid.inc();
          out.get(vectors).output(KV.of(element.getKey(), FeatureVector.of(outcome.vectorUnsafe())));
          break;
        case INVALID:
          counter("invalid_" + outcome.reason()).inc();
          out.get(deadLetters).output(letter(element, outcome));
          break;
        case SKIPPED:
          skippedRecords.inc();
          counter("skipped_" + outcome.reason()).inc();
          out.get(skipped).output(letter(element, outcome));
          break;
        default:
          throw new IllegalStateException("unhandled outcome " + outcome.kind());
      }
    }

    /** The checks {@code of(spec)} and {@code expand} make at construction, on the side input. */
    private FeatureSpec checkedSideInput(@Nullable FeatureSpec fromView) {
      if (fromView == checked && fromView != null) {
        return fromView;
      }
      if (fromView == null) {
        throw new IllegalArgumentException(
            "FeatureTransform's spec side input " + specView + " holds null instead of a fitted"
                + " FeatureSpec: build the view with AnalyzeFeatures.asView");
      }
      try {
        checkFitted(fromView);
        if (modelFeatures != null) {
          fromView.checkMatches(modelFeatures);
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "the feature spec fitted in this pipeline cannot be used: " + e.getMessage()
                + " (checked when the spec first reached FeatureTransform, since it is only known"
                + " at run time)",
            e);
      }
      checked = fromView;
      return fromView;
    }

    private DeadLetter letter(KV<K, Row> element, FeatureOutcome outcome) {
      K key = element.getKey();
      return DeadLetter.of(
          STEP,
          key == null ? null : String.valueOf(key),
          DeadLetter.rowRecord(element.getValue()),
          outcome.field(),
          outcome.reason(),
          outcome.message());
    }

    private Counter counter(String name) {
      return dynamic.computeIfAbsent(name, n -> Metrics.counter(NAMESPACE, n));
    }
  }

  /**
   * The three outputs of {@link FeatureTransform}: vectors, dead letters and skipped records.
   *
   * <pre>{@code
   * FeatureTransform.Result<String> r = rows.apply(FeatureTransform.of(spec));
   * r.vectors().apply(BatchInfer.of(...));
   * }</pre>
   */
  public static final class Result<K> extends TransformResult {
    private final PCollection<KV<K, FeatureVector>> vectors;
    private final PCollection<DeadLetter> deadLetters;
    private final PCollection<DeadLetter> skipped;
    private final @Nullable PCollection<FeatureProfile> profiles;

    private Result(
        Pipeline pipeline,
        TupleTag<KV<K, FeatureVector>> vectorsTag,
        PCollection<KV<K, FeatureVector>> vectors,
        TupleTag<DeadLetter> deadLettersTag,
        PCollection<DeadLetter> deadLetters,
        TupleTag<DeadLetter> skippedTag,
        PCollection<DeadLetter> skipped,
        TupleTag<FeatureProfile> profilesTag,
        @Nullable PCollection<FeatureProfile> profiles) {
      super(pipeline);
      this.vectors = output(vectorsTag, vectors);
      this.deadLetters = output(deadLettersTag, deadLetters);
      this.skipped = output(skippedTag, skipped);
      this.profiles = profiles == null ? null : output(profilesTag, profiles);
    }

    /**
     * Partial profiles of the records read (one per bundle; merge with {@link
     * FeatureProfile#combine()}), when {@link FeatureTransform#withFeatureProfile()} was set.
     *
     * @throws IllegalStateException without {@code withFeatureProfile()}
     */
    public PCollection<FeatureProfile> featureProfiles() {
      if (profiles == null) {
        throw new IllegalStateException("no feature profiles: build the FeatureTransform withFeatureProfile()");
      }
      return profiles;
    }

    /** Valid records as vectors in the spec's layout, keyed as the input. */
    public PCollection<KV<K, FeatureVector>> vectors() {
      return vectors;
    }

    /** Invalid records (error policy), step {@code features}, with field and reason. */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }

    /** Records dropped by a skip policy, with field and reason. */
    public PCollection<DeadLetter> skipped() {
      return skipped;
    }
  }
}
