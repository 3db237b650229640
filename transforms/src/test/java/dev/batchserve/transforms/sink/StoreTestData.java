package dev.batchserve.transforms.sink;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/** Runs and predictions shared by the store sink tests. */
public final class StoreTestData {
  private StoreTestData() {}

  public static RunInfo day(int dayOfMonth) {
    return RunInfo.of("fraud", LocalDate.of(2026, 11, dayOfMonth), RunInfo.Interval.DAILY);
  }

  /** A prediction whose score tells the run apart: day + i / 1000. */
  public static Prediction prediction(RunInfo run, int i) {
    float score = run.runDate().getDayOfMonth() + i / 1000f;
    return Prediction.builder()
        .scores(new float[] {score})
        .confidence(i % 2 == 0 ? 0.75 : null)
        .label(i % 3 == 0 ? "fraud" : null)
        .model("fraud-mlp", "3")
        .predictionTimestampMillis(run.predictionTimestamp().toEpochMilli())
        .runId(run.runId())
        .fallbackReason(i % 5 == 4 ? "missing_features" : null)
        .build();
  }

  public static String key(int i) {
    return String.format("acct-%04d", i);
  }

  public static List<KV<String, Prediction>> predictions(RunInfo run, int n) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of(key(i), prediction(run, i)));
    }
    return out;
  }

  /** The pass-through columns of {@link #withPassThrough}: {@code label} is also a prediction field. */
  public static final List<String> PASS_THROUGH = List.of("row_id", "label");

  /**
   * {@link #prediction} with pass-through values: key 0 has none (a cold start), the others
   * {@code row_id = "r<i>"} and {@code label = "L<i>"}, null for odd i.
   */
  public static Prediction withPassThrough(RunInfo run, int i) {
    Prediction p = prediction(run, i);
    if (i == 0) {
      return p;
    }
    java.util.Map<String, String> values = new java.util.LinkedHashMap<>();
    values.put("row_id", "r" + i);
    values.put("label", i % 2 == 0 ? "L" + i : null);
    return p.toBuilder().passThrough(values).build();
  }

  public static Create.Values<KV<String, Prediction>> createWithPassThrough(RunInfo run, int n) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of(key(i), withPassThrough(run, i)));
    }
    return Create.of(out).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
  }

  public static Create.Values<KV<String, Prediction>> create(RunInfo run, int n) {
    return Create.of(predictions(run, n))
        .withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
  }

  /**
   * Runs a pipeline that must fail and returns its exception once none of its work is still running.
   * The direct runner reports the first failure while bundles already in flight may still finish; a
   * test must not look at (or clean) the store while they might write to it.
   */
  public static Exception runExpectingFailure(org.apache.beam.sdk.Pipeline p) throws InterruptedException {
    Exception failure = org.junit.Assert.assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    awaitQuiet();
    return failure;
  }

  /** A fresh pipeline writing run {@code run}'s {@code n} predictions through {@code sink}. */
  public static org.apache.beam.sdk.Pipeline pipeline(RunInfo run, int n,
      org.apache.beam.sdk.transforms.PTransform<org.apache.beam.sdk.values.PCollection<KV<String, Prediction>>,
          ? extends org.apache.beam.sdk.values.POutput> sink) {
    org.apache.beam.sdk.Pipeline p =
        org.apache.beam.sdk.Pipeline.create(org.apache.beam.sdk.options.PipelineOptionsFactory.create());
    p.apply("Predictions", create(run, n)).apply("Sink", sink);
    return p;
  }

  /** Runs a pipeline that must succeed. */
  public static void publish(RunInfo run, int n,
      org.apache.beam.sdk.transforms.PTransform<org.apache.beam.sdk.values.PCollection<KV<String, Prediction>>,
          ? extends org.apache.beam.sdk.values.POutput> sink) {
    pipeline(run, n, sink).run().waitUntilFinish();
  }

  /**
   * Waits (at most 30 s) until no thread runs the sinks' or the direct runner's work any more: the
   * direct runner reports the first failure while bundles already in flight may still finish, and a
   * test must not look at (or clean) the store while they might write to it. Test classes and the
   * fault tests' own steps do not count as work.
   */
  public static void awaitQuiet() throws InterruptedException {
    Thread self = Thread.currentThread();
    for (int i = 0; i < 600; i++) {
      boolean busy = false;
      for (java.util.Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
        if (t.getKey() == self || !t.getKey().isAlive()) {
          continue;
        }
        for (StackTraceElement f : t.getValue()) {
          String c = f.getClassName();
          boolean test = c.endsWith("Test") || c.startsWith("dev.batchserve.transforms.reliability.");
          if ((c.startsWith("dev.batchserve.transforms.") && !test)
              || c.startsWith("org.apache.beam.sdk.io.jdbc.")
              || c.startsWith("org.apache.beam.runners.direct.DirectTransformExecutor")) {
            busy = true;
            break;
          }
        }
      }
      if (!busy) {
        return;
      }
      Thread.sleep(50);
    }
  }

  /** The exception and all its causes, one {@code toString()} per line. */
  public static String chain(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t).append('\n');
    }
    return all.toString();
  }

  /** The completeness check of a broken run: it fails (a deterministic fault before any publish). */
  public static final class FailingCheck extends DoFn<Integer, Integer> {
    @ProcessElement
    public void process(@Element Integer i) {
      throw new IllegalStateException("injected fault: completeness check failed");
    }
  }

  /**
   * A publish signal that holds back the publish of the run it is given to until {@link #open} is
   * called with the same name: the run then finishes after another one, as runs started in order may
   * finish out of order.
   *
   * <pre>{@code
   * older.apply(create(day(27), 10)).apply(sink(day(27)).publishAfter(HeldGate.in(older, "d27")));
   * }</pre>
   */
  public static final class HeldGate extends DoFn<String, String> {
    private static final java.util.Map<String, java.util.concurrent.CountDownLatch> LATCHES =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final String name;

    private HeldGate(String name) {
      this.name = name;
    }

    /** The signal, closed until {@link #open}. */
    public static org.apache.beam.sdk.values.PCollection<String> in(org.apache.beam.sdk.Pipeline p, String name) {
      LATCHES.put(name, new java.util.concurrent.CountDownLatch(1));
      return p.apply("Held" + name, Create.of(name))
          .apply("HeldGate" + name, org.apache.beam.sdk.transforms.ParDo.of(new HeldGate(name)));
    }

    public static void open(String name) {
      LATCHES.get(name).countDown();
    }

    @ProcessElement
    public void process(@Element String e, OutputReceiver<String> out) throws InterruptedException {
      if (!LATCHES.get(name).await(120, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new IllegalStateException("gate " + name + " was never opened");
      }
      out.output(e);
    }
  }

  /** Runs {@code p} on another thread; the future completes when it finished. */
  public static java.util.concurrent.Future<?> runInBackground(org.apache.beam.sdk.Pipeline p) {
    java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      return ex.submit(() -> p.run().waitUntilFinish());
    } finally {
      ex.shutdown();
    }
  }

  /** A fault: passes elements through, and throws on the element with this index's key. */
  public static final class FailOnKey extends DoFn<KV<String, Prediction>, KV<String, Prediction>> {
    private final String key;

    public FailOnKey(int index) {
      this.key = key(index);
    }

    @ProcessElement
    public void process(@Element KV<String, Prediction> kv, OutputReceiver<KV<String, Prediction>> out) {
      if (kv.getKey().equals(key)) {
        throw new IllegalStateException("injected fault at " + key);
      }
      out.output(kv);
    }
  }
}
