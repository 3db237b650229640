package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The one staged publish of every sink: stage the run where no reader looks, verify its count, wait
 * for every write and every {@code publishAfter} gate, then let the store make it visible. Each sink
 * supplies only its store's steps: a {@code Prepare} DoFn, a {@code Write} and a {@link Publisher}.
 *
 * <p>The steps (their names are the sinks' step names):
 *
 * <ol>
 *   <li>Refuse input outside the global window: a sink publishes one run of bounded input.
 *   <li>{@code RunId}, {@code Prepare}: once per execution, on a worker, the store turns the run id into
 *       this attempt's token (a namespace, an attempt id, a staging table's run id) ({@link #preparedBy}),
 *       or the token is the run id or chosen when the pipeline is built ({@link #inAttempt}).
 *   <li>{@code Write}, the store's ({@link #writing}): stages the predictions; it reports the writes its
 *       store confirmed per bundle ({@link Staged#confirmed}, summed in {@code SumWritten}), or the
 *       publish step counts what was staged ({@link Staged#counted}).
 *   <li>{@code CountInput}: the input's count. {@code WaitForWrites}: the publish step waits on every
 *       write and every {@code publishAfter} signal.
 *   <li>{@code Publish}: checks that the count staged equals the input's, then the store's switch
 *       ({@link Publisher}); counts {@code runs_published} and, for a backfill,
 *       {@value Backfill#RUNS_BACKFILLED}, and logs {@link Backfill#message} (in the sink's metrics
 *       namespace). A store that counts inside its switch (under its lock) calls
 *       {@link Context#checkCount}; a publisher that returns without a count check fails the step.
 * </ol>
 *
 * <p>A store whose write is itself visible (BigQuery loads straight into the run's partition) passes
 * the gates before the write instead ({@link #gatingTheWrite}, step {@code WaitForSignals}).
 *
 * <p>A sink's {@code expand} builds one and calls {@link #expand} itself, so that the steps keep the
 * sink's names ({@code <sink>/Publish}, not {@code <sink>/StagedPublish/Publish}):
 *
 * <pre>{@code
 * public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
 *   return StagedPublish.<K>of("RedisSink", METRICS_NAMESPACE, run, signals)
 *       .preparedBy(new PrepareFn(...))
 *       .writing((in, attempt) -> Staged.confirmed(in.apply("Write", ...), "Redis cache:6379", new Switch(...)))
 *       .expand(input);
 * }
 * }</pre>
 *
 * <p>Public for the store connectors in their own artifacts ({@code batchserve-io-redis},
 * {@code batchserve-io-aws}), which build their sinks on it; a job never calls it.
 */
public final class StagedPublish<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StagedPublish.class);

  private final String sink;
  private final String metricsNamespace;
  private final RunInfo run;
  private final transient List<PCollection<?>> signals;
  private transient @Nullable DoFn<String, String> prepare;
  private @Nullable String attempt;
  private boolean writeIsVisible;
  private transient @Nullable Write<K> write;
  private transient @Nullable PCollection<Long> inputCount;

  private StagedPublish(String sink, String metricsNamespace, RunInfo run, List<PCollection<?>> signals) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.metricsNamespace = Objects.requireNonNull(metricsNamespace, "metricsNamespace");
    this.run = Objects.requireNonNull(run, "run");
    this.signals = List.copyOf(signals);
  }

  /**
   * A staged publish of {@code run} for the sink named {@code sink} ({@code RedisSink}, for messages),
   * counting {@code runs_published} and {@value Backfill#RUNS_BACKFILLED} in {@code metricsNamespace}
   * and waiting for {@code signals} (the sink's {@code publishAfter} gates). It is configured (the
   * methods below return this one) and expanded at once, inside the sink's own {@code expand}.
   */
  public static <K> StagedPublish<K> of(String sink, String metricsNamespace, RunInfo run, List<PCollection<?>> signals) {
    return new StagedPublish<>(sink, metricsNamespace, run, signals);
  }

  /**
   * The {@code Prepare} step: turns the run id into this attempt's token on a worker (registering the
   * attempt, creating a staging table, ...). Without it the token is the run id, or {@link #inAttempt}.
   */
  public StagedPublish<K> preparedBy(DoFn<String, String> prepare) {
    this.prepare = Objects.requireNonNull(prepare, "prepare");
    return this;
  }

  /** The attempt's token when it is chosen as the pipeline is built (the files' attempt directory). */
  public StagedPublish<K> inAttempt(String token) {
    this.attempt = Objects.requireNonNull(token, "token");
    return this;
  }

  /** The write is visible to readers at once (a load into the run's partition): pass the gates before it. */
  public StagedPublish<K> gatingTheWrite() {
    this.writeIsVisible = true;
    return this;
  }

  /** The store's {@code Write} step (a DoFn or any transform), and how it is published. */
  public StagedPublish<K> writing(Write<K> write) {
    this.write = Objects.requireNonNull(write, "write");
    return this;
  }

  /**
   * The input's size as counted upstream (one element, e.g. the run ledger's), which the writes are
   * checked against instead of a count of the input made here (one shuffle fewer); null: count here.
   */
  StagedPublish<K> countedUpstream(@Nullable PCollection<Long> count) {
    this.inputCount = count;
    return this;
  }

  /** {@code signals} and {@code more}: what every sink's {@code publishAfter(...)} keeps. */
  public static List<PCollection<?>> plus(List<PCollection<?>> signals, PCollection<?>... more) {
    List<PCollection<?>> s = new ArrayList<>(signals);
    Collections.addAll(s, more);
    return s;
  }

  /** Fails unless {@code input} is in the global window, naming the sink and the window fn. */
  static void checkGlobalWindow(String sink, PCollection<?> input) {
    checkState(input.getWindowingStrategy().getWindowFn() instanceof GlobalWindows,
        "%s writes one run of bounded input in the global window, but the input is windowed by %s;"
            + " apply Window.into(new GlobalWindows()) before the sink",
        sink, input.getWindowingStrategy().getWindowFn().getClass().getSimpleName());
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkGlobalWindow(sink, input);
    checkState(write != null, "%s: StagedPublish needs writing(...)", sink);
    Pipeline p = input.getPipeline();
    PCollection<String> token;
    if (prepare != null) {
      // Made on the worker when the job runs, so that every launch of one built pipeline (a
      // template, say) is an attempt of its own.
      token = p.apply("RunId", Create.of(run.runId())).apply("Prepare", ParDo.of(prepare));
    } else {
      token = p.apply("RunId", Create.of(attempt != null ? attempt : run.runId()));
    }
    token.setCoder(StringUtf8Coder.of());

    PCollection<KV<K, Prediction>> toWrite = input;
    if (writeIsVisible && !signals.isEmpty()) {
      toWrite = input.apply("WaitForSignals", Wait.on(allDone("Signals", signals)));
    }
    Staged staged = write.write(toWrite, new Attempt(token));

    List<PCollectionView<?>> sideInputs = new ArrayList<>(staged.sideInputs);
    PCollectionView<Long> written = null;
    if (staged.confirmed != null) {
      written = staged.confirmed.apply("SumWritten", Sum.longsGlobally().asSingletonView());
      sideInputs.add(written);
    }
    PCollection<Long> count = inputCount != null
        ? inputCount
        : input.apply("CountInput", Combine.globally(Count.<KV<K, Prediction>>combineFn()));
    // A list, not a singleton view: Beam makes a singleton view with one more combine (a shuffle).
    PCollectionView<List<Long>> expected = count.apply("InputCount", View.asList());
    sideInputs.add(expected);

    List<PCollection<?>> waitOn = new ArrayList<>();
    waitOn.addAll(staged.done);
    waitOn.addAll(signals);
    PCollection<String> published = token
        .apply("WaitForWrites", Wait.on(allDone("Writes", waitOn)))
        .apply("Publish", ParDo.of(new PublishFn(sink, metricsNamespace, run, staged, written, expected))
            .withSideInputs(sideInputs))
        .setCoder(StringUtf8Coder.of());
    if (staged.afterPublish != null) {
      published = staged.afterPublish.apply(published).setCoder(StringUtf8Coder.of());
    }
    return new PublishedRun(p, published);
  }

  /**
   * One collection that is complete when every one of {@code signals} is: each is mapped to nothing
   * and the results flattened, so that {@code Wait.on} samples one collection (one shuffle) instead
   * of one per signal.
   */
  static PCollection<Integer> allDone(String name, List<PCollection<?>> signals) {
    PCollectionList<Integer> none = PCollectionList.empty(signals.get(0).getPipeline());
    for (int i = 0; i < signals.size(); i++) {
      none = none.and(signals.get(i).apply(name + "Done" + i, ParDo.of(new NothingFn<>())).setCoder(VarIntCoder.of()));
    }
    return none.apply(name + "AllDone", Flatten.pCollections());
  }

  /** Emits nothing: its output is complete when its input is. */
  private static final class NothingFn<T> extends DoFn<T, Integer> {
    @ProcessElement
    public void process() {}
  }

  /** A store's {@code Write} step: stages the input; built per {@code expand}, on the launcher. */
  @FunctionalInterface
  public interface Write<K> {
    Staged write(PCollection<KV<K, Prediction>> input, Attempt attempt);
  }

  /** The attempt's token, for the write: as a collection ({@code Wait.on}) or a singleton side input. */
  public static final class Attempt {
    private final PCollection<String> token;
    private @Nullable PCollectionView<String> view;

    Attempt(PCollection<String> token) {
      this.token = token;
    }

    /** One element, the token, once the attempt is prepared. */
    public PCollection<String> prepared() {
      return token;
    }

    /** The token as a singleton side input (made once, on first use: step {@code AttemptId}). */
    public PCollectionView<String> view() {
      if (view == null) {
        view = token.apply("AttemptId", View.asSingleton());
      }
      return view;
    }
  }

  /** What a store's write staged, and how it is published. */
  public static final class Staged {
    private final List<PCollection<?>> done;
    private final @Nullable PCollection<Long> confirmed;
    private final @Nullable String confirmedBy;
    private final boolean publisherCounts;
    private final Publisher publisher;
    private final List<PCollectionView<?>> sideInputs;
    private final java.util.function.@Nullable Function<PCollection<String>, PCollection<String>> afterPublish;

    private Staged(List<PCollection<?>> done, @Nullable PCollection<Long> confirmed, @Nullable String confirmedBy,
        boolean publisherCounts, Publisher publisher, List<PCollectionView<?>> sideInputs,
        java.util.function.@Nullable Function<PCollection<String>, PCollection<String>> afterPublish) {
      this.done = done;
      this.confirmed = confirmed;
      this.confirmedBy = confirmedBy;
      this.publisherCounts = publisherCounts;
      this.publisher = Objects.requireNonNull(publisher, "publisher");
      this.sideInputs = sideInputs;
      this.afterPublish = afterPublish;
    }

    /**
     * The write emits, per bundle, how many writes {@code store} (e.g. {@code Redis host:6379})
     * confirmed; their sum must equal the input's count before {@code publisher} runs.
     */
    public static Staged confirmed(PCollection<Long> perBundle, String store, Publisher publisher) {
      return new Staged(List.of(perBundle), perBundle, store, false, publisher, List.of(), null);
    }

    /**
     * The write's completion is {@code done}; {@code publisher} counts what was staged and calls
     * {@link Context#checkCount} (e.g. inside its transaction).
     */
    public static Staged counted(PCollection<?> done, Publisher publisher) {
      return new Staged(List.of(done), null, null, true, publisher, List.of(), null);
    }

    /**
     * The write's completion is {@code done}, and the store's own write is all-or-nothing, so there is
     * nothing left to count: {@code why} says why (BigQuery: a load job commits every row or none).
     */
    public static Staged atomic(PCollection<?> done, String why, Publisher publisher) {
      checkState(!why.isBlank(), "say why the store's write needs no count");
      return new Staged(List.of(done), null, why, false, publisher, List.of(), null);
    }

    /** Also waits for {@code more} before publishing (e.g. a second write). */
    public Staged alsoAfter(PCollection<?>... more) {
      return new Staged(plus(done, more), confirmed, confirmedBy, publisherCounts, publisher, sideInputs, afterPublish);
    }

    /** The side inputs the publisher reads through {@link Context#sideInput}. */
    public Staged withSideInputs(List<? extends PCollectionView<?>> views) {
      return new Staged(done, confirmed, confirmedBy, publisherCounts, publisher, List.copyOf(views), afterPublish);
    }

    /**
     * Steps from the publish step's outputs to the sink's {@link PublishedRun} (BigQuery's pointer
     * load), applied in the sink's own scope so that they keep their step names.
     */
    public Staged then(java.util.function.Function<PCollection<String>, PCollection<String>> after) {
      return new Staged(done, confirmed, confirmedBy, publisherCounts, publisher, sideInputs, after);
    }
  }

  /** A store's switch: makes the staged, counted run visible. Runs once, in the publish step. */
  @FunctionalInterface
  public interface Publisher extends Serializable {
    Published publish(Context c) throws Exception;
  }

  /** What the publish step gives a {@link Publisher}. */
  public interface Context {
    /** The attempt's token (see {@link StagedPublish#preparedBy}). */
    String attempt();

    /** The input's record count. */
    long records();

    <T> T sideInput(PCollectionView<T> view);

    PipelineOptions options();

    /**
     * Fails the publish unless {@code staged} equals {@link #records()}: {@code what} names what was
     * counted, e.g. {@code "rows in staging table t__r"}.
     */
    void checkCount(long staged, String what);
  }

  /** How a run was published: served (the latest) or a backfill, and what the publish step emits. */
  public static final class Published {
    final @Nullable String output;
    final @Nullable String servedInstead;
    final @Nullable String unchanged;

    private Published(@Nullable String output, @Nullable String servedInstead, @Nullable String unchanged) {
      this.output = output;
      this.servedInstead = servedInstead;
      this.unchanged = unchanged;
    }

    /** Readers now see the run; the publish step emits {@code output} (null: nothing). */
    public static Published latest(@Nullable String output) {
      return new Published(output, null, null);
    }

    /**
     * Published as its own run while readers still see {@code servedRunId}; {@code unchanged} says
     * what stayed, e.g. {@code "Redis cache:6379: fraud:current unchanged"}.
     */
    public static Published backfill(@Nullable String output, String servedRunId, String unchanged) {
      return new Published(output, Objects.requireNonNull(servedRunId, "servedRunId"),
          Objects.requireNonNull(unchanged, "unchanged"));
    }
  }

  private static final class PublishFn extends DoFn<String, String> {
    private final String sink;
    private final RunInfo run;
    private final Publisher publisher;
    private final @Nullable String confirmedBy;
    private final boolean publisherCounts;
    private final @Nullable PCollectionView<Long> written;
    private final PCollectionView<List<Long>> expected;
    private final Counter published;
    private final Counter backfilled;

    PublishFn(String sink, String metricsNamespace, RunInfo run, Staged staged, @Nullable PCollectionView<Long> written,
        PCollectionView<List<Long>> expected) {
      this.sink = sink;
      this.run = run;
      this.publisher = staged.publisher;
      this.confirmedBy = staged.confirmedBy;
      this.publisherCounts = staged.publisherCounts;
      this.written = written;
      this.expected = expected;
      this.published = Metrics.counter(metricsNamespace, "runs_published");
      this.backfilled = Metrics.counter(metricsNamespace, Backfill.RUNS_BACKFILLED);
    }

    @ProcessElement
    public void process(ProcessContext c) throws Exception {
      List<Long> counts = c.sideInput(expected);
      checkState(counts.size() == 1,
          "%s: run %s: the input count given upstream (withInputCount) must be one element, but it had %s: %s",
          sink, run.runId(), counts.size(), counts);
      long records = counts.get(0);
      String attempt = c.element();
      boolean[] counted = {false};
      Context ctx = new Context() {
        @Override
        public String attempt() {
          return attempt;
        }

        @Override
        public long records() {
          return records;
        }

        @Override
        public <T> T sideInput(PCollectionView<T> view) {
          return c.sideInput(view);
        }

        @Override
        public PipelineOptions options() {
          return c.getPipelineOptions();
        }

        @Override
        public void checkCount(long staged, String what) {
          checkState(staged == records, "run %s: %s: %s, but the input had %s records; not publishing",
              run.runId(), what, staged, records);
          counted[0] = true;
        }
      };
      if (written != null) {
        ctx.checkCount(c.sideInput(written), "writes " + confirmedBy + " confirmed");
      }
      Published done = publisher.publish(ctx);
      checkState(!publisherCounts || counted[0],
          "%s published run %s without checking its count (Context.checkCount): a bug in the sink", sink, run.runId());
      published.inc();
      if (done.servedInstead != null) {
        backfilled.inc();
        LOG.warn(Backfill.message(run.runId(), done.servedInstead, done.unchanged));
      }
      if (done.output != null) {
        c.output(done.output);
      }
    }
  }
}
