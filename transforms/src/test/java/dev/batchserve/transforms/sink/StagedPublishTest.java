package dev.batchserve.transforms.sink;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.PValue;
import org.joda.time.Duration;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * {@link StagedPublish} with an in-memory store: the count check, the window check, the gates and the
 * backfill accounting that every sink gets from it.
 */
@RunWith(JUnit4.class)
public class StagedPublishTest {
  private static final RunInfo RUN = day(28);
  private static final String NS = "batchserve.sink.memory";

  /** The store: staged values per attempt, and the served attempt (the "pointer"). */
  static final Map<String, Map<String, String>> STAGED = new ConcurrentHashMap<>();
  static final Map<String, String> SERVED = new ConcurrentHashMap<>();
  /** Whether the slow gate had finished when the write / the publish ran. */
  static final Map<String, Boolean> GATE_DONE = new ConcurrentHashMap<>();
  static final Map<String, Boolean> GATE_SEEN_AT = new ConcurrentHashMap<>();

  @Before
  public void clear() {
    STAGED.clear();
    SERVED.clear();
    GATE_DONE.clear();
    GATE_SEEN_AT.clear();
  }

  /** How the memory store is set up for one test. */
  enum Mode {
    CONFIRMED, CONFIRMS_ONE_LESS, COUNTED_AT_PUBLISH, NEVER_COUNTS, BACKFILL, VISIBLE_WRITE
  }

  /** A sink over the memory store, built like the real ones: its expand hands its steps to StagedPublish. */
  static final class MemorySink extends PTransform<PCollection<KV<String, Prediction>>, PublishedRun> {
    private final Mode mode;
    private final transient List<PCollection<?>> signals;
    /** The Write step's output, once expanded. */
    transient @org.checkerframework.checker.nullness.qual.MonotonicNonNull PCollection<Long> written;

    MemorySink(Mode mode, PCollection<?>... signals) {
      this.mode = mode;
      this.signals = StagedPublish.plus(List.of(), signals);
    }

    @Override
    public PublishedRun expand(PCollection<KV<String, Prediction>> input) {
      Mode m = mode;
      StagedPublish<String> publish = StagedPublish.<String>of("MemorySink", NS, RUN, signals)
          .preparedBy(new PrepareFn());
      if (m == Mode.VISIBLE_WRITE) {
        publish = publish.gatingTheWrite();
      }
      return publish.writing((in, attempt) -> {
        PCollectionView<String> id = attempt.view();
        PCollection<Long> confirmed = in.apply("Write", ParDo.of(new WriteFn(id, m)).withSideInputs(id))
            .setCoder(VarLongCoder.of());
        written = confirmed;
        SwitchFn publisher = new SwitchFn(m);
        return m == Mode.COUNTED_AT_PUBLISH || m == Mode.NEVER_COUNTS
            ? StagedPublish.Staged.counted(confirmed, publisher)
            : StagedPublish.Staged.confirmed(confirmed, "memory", publisher);
      }).expand(input);
    }
  }

  static final class PrepareFn extends DoFn<String, String> {
    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) {
      String attempt = runId + "~a1";
      STAGED.put(attempt, new ConcurrentHashMap<>());
      out.output(attempt);
    }
  }

  static final class WriteFn extends DoFn<KV<String, Prediction>, Long> {
    private final PCollectionView<String> attempt;
    private final Mode mode;
    private transient long confirmed;

    WriteFn(PCollectionView<String> attempt, Mode mode) {
      this.attempt = attempt;
      this.mode = mode;
    }

    @StartBundle
    public void start() {
      confirmed = 0;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      if (mode == Mode.VISIBLE_WRITE) {
        GATE_SEEN_AT.merge("write", GATE_DONE.getOrDefault("gate", false), Boolean::logicalAnd);
      }
      STAGED.get(c.sideInput(attempt)).put(c.element().getKey(), c.element().getValue().toJson(c.element().getKey()));
      confirmed++;
    }

    @FinishBundle
    public void finish(FinishBundleContext c) {
      // The lossy store confirms one write less than it was given, in its first bundle only.
      long n = mode == Mode.CONFIRMS_ONE_LESS && confirmed > 0 && GATE_SEEN_AT.putIfAbsent("lossy", true) == null
          ? confirmed - 1 : confirmed;
      c.output(n, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
    }
  }

  static final class SwitchFn implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final Mode mode;

    SwitchFn(Mode mode) {
      this.mode = mode;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context c) {
      GATE_SEEN_AT.put("publish", GATE_DONE.getOrDefault("gate", false));
      if (mode == Mode.COUNTED_AT_PUBLISH) {
        c.checkCount(STAGED.get(c.attempt()).size() - 1L, "values in memory attempt " + c.attempt());
      }
      if (mode == Mode.BACKFILL) {
        return StagedPublish.Published.backfill(RUN.runId(), "fraud-daily-20261129", "memory: pointer unchanged");
      }
      SERVED.put("current", c.attempt());
      return StagedPublish.Published.latest(RUN.runId());
    }
  }

  /**
   * A gate that takes its time, and notes when it is done: longer than staging and counting 20 values
   * take on the direct runner, so that a step that did not wait for it runs before it is done.
   */
  static final class SlowGateFn extends DoFn<Integer, Integer> {
    private final long millis;

    SlowGateFn(long millis) {
      this.millis = millis;
    }

    @ProcessElement
    public void process(@Element Integer i, OutputReceiver<Integer> out) throws InterruptedException {
      Thread.sleep(millis);
      GATE_DONE.put("gate", true);
      out.output(i);
    }
  }

  private static Pipeline pipeline() {
    return Pipeline.create(PipelineOptionsFactory.create());
  }

  @Test
  public void publishesTheStagedAttemptOnceItsCountMatches() {
    Pipeline p = pipeline();
    PublishedRun done = p.apply(create(RUN, 20)).apply("Sink", new MemorySink(Mode.CONFIRMED));
    PAssert.that(done.published()).containsInAnyOrder(RUN.runId());
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(SERVED.get("current"), is(RUN.runId() + "~a1"));
    assertThat(STAGED.get(RUN.runId() + "~a1").size(), is(20));
    assertThat(counter(result, "runs_published"), is(1L));
    assertThat(counter(result, Backfill.RUNS_BACKFILLED), is(0L));
  }

  @Test
  public void confirmedWritesShortOfTheInputPublishNothing() throws Exception {
    Pipeline p = pipeline();
    p.apply(create(RUN, 20)).apply("Sink", new MemorySink(Mode.CONFIRMS_ONE_LESS));
    Exception e = StoreTestData.runExpectingFailure(p);

    assertThat(e.getMessage(), containsString(
        "run " + RUN.runId() + ": writes memory confirmed: 19, but the input had 20 records; not publishing"));
    assertThat(SERVED.get("current"), is(nullValue()));
  }

  @Test
  public void aStoreCountingAtPublishIsHeldToItsCount() throws Exception {
    Pipeline p = pipeline();
    p.apply(create(RUN, 20)).apply("Sink", new MemorySink(Mode.COUNTED_AT_PUBLISH));
    Exception e = StoreTestData.runExpectingFailure(p);

    assertThat(e.getMessage(), containsString("run " + RUN.runId() + ": values in memory attempt "
        + RUN.runId() + "~a1: 19, but the input had 20 records; not publishing"));
    assertThat(SERVED.get("current"), is(nullValue()));
  }

  @Test
  public void aStoreThatMustCountButDoesNotFailsItsPublish() throws Exception {
    Pipeline p = pipeline();
    p.apply(create(RUN, 5)).apply("Sink", new MemorySink(Mode.NEVER_COUNTS));
    Exception e = StoreTestData.runExpectingFailure(p);

    assertThat(e.getMessage(), containsString(
        "MemorySink published run " + RUN.runId() + " without checking its count"));
  }

  @Test
  public void refusesInputOutsideTheGlobalWindow() {
    Pipeline p = pipeline();
    PCollection<KV<String, Prediction>> windowed = p.apply(create(RUN, 3))
        .apply(Window.into(FixedWindows.of(Duration.standardMinutes(1))));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> windowed.apply("Sink", new MemorySink(Mode.CONFIRMED)));

    assertThat(e.getMessage(), containsString("MemorySink writes one run of bounded input in the global window,"
        + " but the input is windowed by FixedWindows"));
    assertThat(e.getMessage(), containsString("apply Window.into(new GlobalWindows()) before the sink"));
  }

  @Test
  public void publishesOnlyAfterEveryPublishAfterSignal() {
    Pipeline p = pipeline();
    PCollection<Integer> gate = p.apply("Gate", Create.of(1)).apply("Slow", ParDo.of(new SlowGateFn(3000)));
    PCollection<Integer> unrelated = p.apply("Unrelated", Create.of(2));
    PublishedRun done = p.apply(create(RUN, 20)).apply("Sink", new MemorySink(Mode.CONFIRMED, gate));

    // In the graph: the publish reads the gate (Wait.on), and nothing it was not given.
    assertThat(dependsOn(p, done.published(), gate), is(true));
    assertThat(dependsOn(p, done.published(), unrelated), is(false));
    p.run().waitUntilFinish();

    assertThat("the gate had completed when the publish ran", GATE_SEEN_AT.get("publish"), is(true));
    assertThat(SERVED.get("current"), is(RUN.runId() + "~a1"));
  }

  @Test
  public void aStoreWhoseWriteIsVisibleWritesOnlyAfterTheSignals() {
    Pipeline p = pipeline();
    PCollection<Integer> gate = p.apply("Gate", Create.of(1)).apply("Slow", ParDo.of(new SlowGateFn(3000)));
    MemorySink sink = new MemorySink(Mode.VISIBLE_WRITE, gate);
    p.apply(create(RUN, 20)).apply("Sink", sink);
    MemorySink ordinary = new MemorySink(Mode.CONFIRMED, gate);
    p.apply("Again", create(RUN, 20)).apply("Ordinary", ordinary);

    assertThat("a visible write reads the gate", dependsOn(p, sink.written, gate), is(true));
    assertThat("an ordinary write does not wait for it", dependsOn(p, ordinary.written, gate), is(false));
    p.run().waitUntilFinish();

    assertThat("the gate had completed when every value was written", GATE_SEEN_AT.get("write"), is(true));
  }

  @Test
  public void aBackfillIsCountedInTheSinksNamespaceAndStillEmitsTheRun() {
    Pipeline p = pipeline();
    PublishedRun done = p.apply(create(RUN, 4)).apply("Sink", new MemorySink(Mode.BACKFILL));
    PAssert.that(done.published()).containsInAnyOrder(RUN.runId());
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(counter(result, "runs_published"), is(1L));
    assertThat(counter(result, Backfill.RUNS_BACKFILLED), is(1L));
    assertThat(SERVED.get("current"), is(nullValue()));
  }

  /** Whether {@code target} is computed from {@code source}, through main or side inputs. */
  private static boolean dependsOn(Pipeline p, PValue target, PValue source) {
    Map<PValue, Set<PValue>> inputsOf = new HashMap<>();
    p.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public void visitPrimitiveTransform(TransformHierarchy.Node node) {
        for (PValue out : node.getOutputs().values()) {
          inputsOf.computeIfAbsent(out, k -> new HashSet<>()).addAll(node.getInputs().values());
        }
      }
    });
    Deque<PValue> todo = new ArrayDeque<>(List.of(target));
    Set<PValue> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      PValue v = todo.pop();
      if (v.equals(source)) {
        return true;
      }
      if (seen.add(v)) {
        todo.addAll(inputsOf.getOrDefault(v, Set.of()));
      }
    }
    return false;
  }

  private static long counter(PipelineResult result, String name) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(NS, name)).build()).getCounters()) {
      total += c.getAttempted();
    }
    return total;
  }
}
