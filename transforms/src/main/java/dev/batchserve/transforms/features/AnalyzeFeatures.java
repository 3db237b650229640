package dev.batchserve.transforms.features;

import dev.batchserve.transforms.features.FeatureFitting.Moments;
import dev.batchserve.transforms.features.FeatureFitting.Vocabulary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.transforms.ApproximateQuantiles;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Fits a template {@link FeatureSpec} on a training {@link PCollection} of {@link Row}s with Beam
 * Combine, producing a single fitted spec (the same result as {@link FeatureSpec#fit} on the same
 * rows: exact counts, vocabularies, min and max; mean and std to rounding).
 *
 * <pre>{@code
 * PCollection<FeatureSpec> fitted = trainingRows.apply("Fit", AnalyzeFeatures.of(template));
 * // Save it into the exported model directory (manifest re-hashed), once the fit is done:
 * fitted.apply("SaveSpec", SaveSpecToModel.into("/models/churn/3"));
 * // And/or apply it in the same pipeline, as a side input:
 * FeatureTransform.Result<String> features =
 *     keyedRows.apply(FeatureTransform.<String>of(AnalyzeFeatures.asView(fitted)));
 * }</pre>
 *
 * <p>One pass over the rows computes every statistic: moments (count, mean, squared deviations,
 * min, max, null and invalid counts) merged with a numerically stable combiner; value counts for
 * vocabularies (top N, min frequency) and modes; {@link ApproximateQuantiles} ({@value
 * FeatureFitting#QUANTILES} points) for medians and quantile buckets. Histograms need the fitted
 * min/max for their edges, so they take a second, cheap pass with the first result as a side input.
 * Medians and quantile boundaries are exact while a key's values fit in the quantile buffer, and
 * approximate beyond.
 */
public final class AnalyzeFeatures extends PTransform<PCollection<Row>, PCollection<FeatureSpec>> {
  private static final long serialVersionUID = 1L;

  private final FeatureSpec template;

  private AnalyzeFeatures(FeatureSpec template) {
    this.template = template;
  }

  /** Fits {@code template}, which must not be fitted already. */
  public static AnalyzeFeatures of(FeatureSpec template) {
    if (template == null) {
      throw new IllegalArgumentException("template must not be null");
    }
    if (template.isFitted()) {
      throw new IllegalArgumentException(
          "AnalyzeFeatures needs an unfitted template, but the spec is already fitted");
    }
    return new AnalyzeFeatures(template);
  }

  /**
   * The fitted spec as the singleton side input {@link FeatureTransform#of(PCollectionView)}
   * takes. Call it once per fit and share the view: each call adds a view step to the pipeline.
   *
   * <pre>{@code
   * PCollection<FeatureSpec> fitted = trainingRows.apply("Fit", AnalyzeFeatures.of(template));
   * PCollectionView<FeatureSpec> spec = AnalyzeFeatures.asView(fitted);
   * keyedRows.apply(FeatureTransform.<String>of(spec));
   * }</pre>
   *
   * @param fitted the output of {@link AnalyzeFeatures}: one spec, in the global window
   */
  public static PCollectionView<FeatureSpec> asView(PCollection<FeatureSpec> fitted) {
    if (fitted == null) {
      throw new IllegalArgumentException("fitted must not be null");
    }
    if (!(fitted.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
      throw new IllegalArgumentException(
          "the fitted spec must be in the global window, as AnalyzeFeatures produces it, but "
              + fitted + " is windowed by " + fitted.getWindowingStrategy().getWindowFn()
              + ": take the view of AnalyzeFeatures' output before any Window.into");
    }
    return fitted.apply("FittedSpecView", View.asSingleton());
  }

  @Override
  public PCollection<FeatureSpec> expand(PCollection<Row> rows) {
    return expand(rows, ApproximateQuantiles.ApproximateQuantilesCombineFn.<Double>create(FeatureFitting.QUANTILES));
  }

  /** The fit, with {@code quantiles}' accumulators built per bundle and merged per key. */
  private <A> PCollection<FeatureSpec> expand(
      PCollection<Row> rows, Combine.CombineFn<Double, A, List<Double>> quantileFn) {
    if (!(rows.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
      throw new IllegalArgumentException("AnalyzeFeatures fits one training set in the global window, but its input"
          + " is windowed by " + rows.getWindowingStrategy().getWindowFn() + ": fit before any Window.into");
    }
    // Moments, category counts and histogram counts are added up per bundle and emitted once per
    // bundle and key (a runner encodes every element that crosses a multi-output boundary: per row
    // and feature that was most of the fit's time); quantile sketches are built per bundle and merged.
    TupleTag<KV<String, Moments>> momentsTag = new TupleTag<KV<String, Moments>>() {};
    TupleTag<KV<KV<String, String>, Long>> categoriesTag = new TupleTag<KV<KV<String, String>, Long>>() {};
    TupleTag<KV<String, A>> quantilesTag = new TupleTag<KV<String, A>>() {};
    Coder<A> sketchCoder;
    try {
      sketchCoder = quantileFn.getAccumulatorCoder(rows.getPipeline().getCoderRegistry(), DoubleCoder.of());
    } catch (org.apache.beam.sdk.coders.CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the quantile sketches", e);
    }
    PCollectionTuple observed =
        rows.apply(
            "Observe",
            ParDo.of(new ObserveFn<A>(template, quantileFn, momentsTag, categoriesTag, quantilesTag))
                .withOutputTags(momentsTag, TupleTagList.of(categoriesTag).and(quantilesTag)));

    PCollectionView<Map<String, Moments>> moments =
        observed
            .get(momentsTag)
            .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(Moments.class)))
            .apply("Moments", Combine.perKey(new MomentsFn()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(Moments.class)))
            .apply("MomentsView", View.asMap());

    PCollectionView<Map<String, Vocabulary>> vocabularies =
        observed
            .get(categoriesTag)
            .setCoder(KvCoder.of(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()), VarLongCoder.of()))
            .apply("CountValues", Sum.longsPerKey())
            .apply(
                "ByFeature",
                MapElements.into(
                        TypeDescriptors.kvs(
                            TypeDescriptors.strings(),
                            TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.longs())))
                    .via(
                        (KV<KV<String, String>, Long> kv) ->
                            KV.of(kv.getKey().getKey(), KV.of(kv.getKey().getValue(), kv.getValue()))))
            .setCoder(
                KvCoder.of(
                    StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
            .apply("GroupValues", GroupByKey.create())
            .apply("SelectVocabulary", ParDo.of(new SelectVocabularyFn(template)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(Vocabulary.class)))
            .apply("VocabularyView", View.asMap());

    PCollectionView<Map<String, List<Double>>> quantiles =
        observed
            .get(quantilesTag)
            .setCoder(KvCoder.of(StringUtf8Coder.of(), sketchCoder))
            .apply("Quantiles", Combine.perKey(new MergeSketchesFn<A>(quantileFn, sketchCoder)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), ListCoder.of(DoubleCoder.of())))
            .apply("QuantilesView", View.asMap());

    PCollection<FeatureSpec> withStats =
        rows.getPipeline()
            .apply("Template", Create.of(template).withCoder(FeatureSpec.FeatureSpecCoder.of()))
            .apply(
                "ApplyStats",
                ParDo.of(new ApplyStatsFn(moments, vocabularies, quantiles))
                    .withSideInputs(moments, vocabularies, quantiles))
            .setCoder(FeatureSpec.FeatureSpecCoder.of());
    PCollectionView<FeatureSpec> statsView = withStats.apply("StatsView", View.asSingleton());

    PCollectionView<Map<String, Iterable<KV<Integer, Long>>>> histograms =
        rows.apply(
                "ObserveHistograms",
                ParDo.of(new ObserveHistogramFn(statsView)).withSideInputs(statsView))
            .setCoder(KvCoder.of(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of()), VarLongCoder.of()))
            .apply("CountBuckets", Sum.longsPerKey())
            .apply(
                "BucketsByFeature",
                MapElements.into(
                        TypeDescriptors.kvs(
                            TypeDescriptors.strings(),
                            TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.longs())))
                    .via(
                        (KV<KV<String, Integer>, Long> kv) ->
                            KV.of(kv.getKey().getKey(), KV.of(kv.getKey().getValue(), kv.getValue()))))
            .setCoder(
                KvCoder.of(StringUtf8Coder.of(), KvCoder.of(VarIntCoder.of(), VarLongCoder.of())))
            .apply("GroupBuckets", GroupByKey.create())
            .setCoder(
                KvCoder.of(
                    StringUtf8Coder.of(),
                    IterableCoder.of(KvCoder.of(VarIntCoder.of(), VarLongCoder.of()))))
            .apply("HistogramView", View.asMap());

    return withStats
        .apply(
            "ApplyHistograms",
            ParDo.of(new ApplyHistogramsFn(histograms)).withSideInputs(histograms))
        .setCoder(FeatureSpec.FeatureSpecCoder.of());
  }

  private static final class ObserveFn<A> extends DoFn<Row, KV<String, Moments>> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec template;
    private final Combine.CombineFn<Double, A, List<Double>> quantileFn;
    private transient @Nullable Map<String, A> bundleSketches;
    private final TupleTag<KV<String, Moments>> momentsTag;
    private final TupleTag<KV<KV<String, String>, Long>> categoriesTag;
    private final TupleTag<KV<String, A>> quantilesTag;
    private transient @Nullable Map<String, Moments> bundleMoments;
    private transient @Nullable Map<KV<String, String>, long[]> bundleCategories;

    ObserveFn(
        FeatureSpec template,
        Combine.CombineFn<Double, A, List<Double>> quantileFn,
        TupleTag<KV<String, Moments>> momentsTag,
        TupleTag<KV<KV<String, String>, Long>> categoriesTag,
        TupleTag<KV<String, A>> quantilesTag) {
      this.template = template;
      this.quantileFn = quantileFn;
      this.momentsTag = momentsTag;
      this.categoriesTag = categoriesTag;
      this.quantilesTag = quantilesTag;
    }

    @StartBundle
    public void startBundle() {
      bundleMoments = new HashMap<>();
      bundleCategories = new HashMap<>();
      bundleSketches = new HashMap<>();
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      org.joda.time.Instant end = GlobalWindow.INSTANCE.maxTimestamp();
      bundleMoments.forEach((k, m) -> c.output(momentsTag, KV.of(k, m), end, GlobalWindow.INSTANCE));
      bundleCategories.forEach((k, n) -> c.output(categoriesTag, KV.of(k, n[0]), end, GlobalWindow.INSTANCE));
      bundleSketches.forEach((k, q) -> c.output(quantilesTag, KV.of(k, q), end, GlobalWindow.INSTANCE));
      bundleMoments = null;
      bundleCategories = null;
      bundleSketches = null;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      Map<String, Moments> moments = bundleMoments;
      Map<KV<String, String>, long[]> categories = bundleCategories;
      Map<String, A> sketches = bundleSketches;
      FeatureFitting.observe(
          template,
          FeatureTransform.asMap(row),
          new FeatureFitting.Sink() {
            @Override
            public void moments(String key, Moments single) {
              Moments m = moments.get(key);
              if (m == null) {
                moments.put(key, single);
              } else {
                m.merge(single);
              }
            }

            @Override
            public void category(String feature, String value) {
              categories.computeIfAbsent(KV.of(feature, value), k -> new long[1])[0]++;
            }

            @Override
            public void quantile(String key, double value) {
              A sketch = sketches.get(key);
              sketches.put(key, quantileFn.addInput(sketch == null ? quantileFn.createAccumulator() : sketch, value));
            }
          });
    }
  }

  /** Merges the per-bundle quantile sketches of one key into the key's quantiles. */
  private static final class MergeSketchesFn<A> extends Combine.CombineFn<A, A, List<Double>> {
    private static final long serialVersionUID = 1L;
    private final Combine.CombineFn<Double, A, List<Double>> fn;
    private final Coder<A> coder;

    MergeSketchesFn(Combine.CombineFn<Double, A, List<Double>> fn, Coder<A> coder) {
      this.fn = fn;
      this.coder = coder;
    }

    @Override
    public A createAccumulator() {
      return fn.createAccumulator();
    }

    @Override
    public A addInput(A acc, A sketch) {
      return fn.mergeAccumulators(java.util.Arrays.asList(acc, sketch));
    }

    @Override
    public A mergeAccumulators(Iterable<A> sketches) {
      return fn.mergeAccumulators(sketches);
    }

    @Override
    public List<Double> extractOutput(A acc) {
      return fn.extractOutput(acc);
    }

    @Override
    public Coder<A> getAccumulatorCoder(CoderRegistry registry, Coder<A> inputCoder) {
      return coder;
    }

    @Override
    public Coder<List<Double>> getDefaultOutputCoder(CoderRegistry registry, Coder<A> inputCoder) {
      return ListCoder.of(DoubleCoder.of());
    }
  }

  /** Merges moments; the accumulator is the same stable (count, mean, M2) state. */
  private static final class MomentsFn extends Combine.CombineFn<Moments, Moments, Moments> {
    private static final long serialVersionUID = 1L;

    @Override
    public Moments createAccumulator() {
      return new Moments();
    }

    @Override
    public Moments addInput(Moments acc, Moments input) {
      return acc.merge(input);
    }

    @Override
    public Moments mergeAccumulators(Iterable<Moments> accumulators) {
      Moments merged = new Moments();
      for (Moments m : accumulators) {
        merged.merge(m);
      }
      return merged;
    }

    @Override
    public Moments extractOutput(Moments acc) {
      return acc;
    }

    @Override
    public Coder<Moments> getAccumulatorCoder(CoderRegistry registry, Coder<Moments> inputCoder) {
      return SerializableCoder.of(Moments.class);
    }
  }

  private static final class SelectVocabularyFn
      extends DoFn<KV<String, Iterable<KV<String, Long>>>, KV<String, Vocabulary>> {
    private static final long serialVersionUID = 1L;
    private final FeatureSpec template;

    SelectVocabularyFn(FeatureSpec template) {
      this.template = template;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<KV<String, Long>>> counted,
        OutputReceiver<KV<String, Vocabulary>> out) {
      Map<String, Long> counts = new HashMap<>();
      for (KV<String, Long> kv : counted.getValue()) {
        counts.put(kv.getKey(), kv.getValue());
      }
      String feature = counted.getKey();
      out.output(
          KV.of(feature, FeatureFitting.selectVocabulary(template.feature(feature), counts)));
    }
  }

  private static final class ApplyStatsFn extends DoFn<FeatureSpec, FeatureSpec> {
    private static final long serialVersionUID = 1L;
    private final PCollectionView<Map<String, Moments>> moments;
    private final PCollectionView<Map<String, Vocabulary>> vocabularies;
    private final PCollectionView<Map<String, List<Double>>> quantiles;

    ApplyStatsFn(
        PCollectionView<Map<String, Moments>> moments,
        PCollectionView<Map<String, Vocabulary>> vocabularies,
        PCollectionView<Map<String, List<Double>>> quantiles) {
      this.moments = moments;
      this.vocabularies = vocabularies;
      this.quantiles = quantiles;
    }

    @ProcessElement
    public void process(
        @Element FeatureSpec template, OutputReceiver<FeatureSpec> out, ProcessContext c) {
      out.output(
          FeatureFitting.applyStats(
              template, c.sideInput(moments), c.sideInput(vocabularies), c.sideInput(quantiles)));
    }
  }

  private static final class ObserveHistogramFn extends DoFn<Row, KV<KV<String, Integer>, Long>> {
    private static final long serialVersionUID = 1L;
    private final PCollectionView<FeatureSpec> spec;
    private transient @Nullable Map<KV<String, Integer>, long[]> bundleCounts;

    ObserveHistogramFn(PCollectionView<FeatureSpec> spec) {
      this.spec = spec;
    }

    @ProcessElement
    public void process(@Element Row row, ProcessContext c) {
      Map<KV<String, Integer>, long[]> counts = bundleCounts;
      FeatureFitting.observeHistogram(
          c.sideInput(spec),
          FeatureTransform.asMap(row),
          (feature, bucket) -> counts.computeIfAbsent(KV.of(feature, bucket), k -> new long[1])[0]++);
    }

    @StartBundle
    public void startBundle() {
      bundleCounts = new HashMap<>();
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) {
      bundleCounts.forEach((k, n) ->
          c.output(KV.of(k, n[0]), GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE));
      bundleCounts = null;
    }
  }

  private static final class ApplyHistogramsFn extends DoFn<FeatureSpec, FeatureSpec> {
    private static final long serialVersionUID = 1L;
    private final PCollectionView<Map<String, Iterable<KV<Integer, Long>>>> histograms;

    ApplyHistogramsFn(PCollectionView<Map<String, Iterable<KV<Integer, Long>>>> histograms) {
      this.histograms = histograms;
    }

    @ProcessElement
    public void process(
        @Element FeatureSpec fitted, OutputReceiver<FeatureSpec> out, ProcessContext c) {
      Map<String, long[]> counts = new HashMap<>();
      for (Map.Entry<String, Iterable<KV<Integer, Long>>> e : c.sideInput(histograms).entrySet()) {
        int max = 0;
        for (KV<Integer, Long> kv : e.getValue()) {
          max = Math.max(max, kv.getKey());
        }
        long[] buckets = new long[max + 1];
        for (KV<Integer, Long> kv : e.getValue()) {
          buckets[kv.getKey()] = kv.getValue();
        }
        counts.put(e.getKey(), buckets);
      }
      out.output(FeatureFitting.applyHistograms(fitted, counts));
    }
  }
}
