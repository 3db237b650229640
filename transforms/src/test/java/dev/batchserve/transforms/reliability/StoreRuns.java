package dev.batchserve.transforms.reliability;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;

/**
 * Runs and predictions for the fault tests (the sink package's test data is package-private): a run
 * per day, and predictions whose score tells the run apart.
 */
final class StoreRuns {
  private StoreRuns() {}

  static RunInfo day(int dayOfMonth) {
    return RunInfo.of("fraud", LocalDate.of(2026, 11, dayOfMonth), RunInfo.Interval.DAILY);
  }

  /** Score day + i / 1000, so that a value read back names the run it came from. */
  static Prediction prediction(RunInfo run, int i) {
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

  static String key(int i) {
    return String.format("acct-%04d", i);
  }

  static Create.Values<KV<String, Prediction>> create(RunInfo run, int n) {
    List<KV<String, Prediction>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(KV.of(key(i), prediction(run, i)));
    }
    return Create.of(out).withCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
  }

  /** A fresh pipeline writing run {@code run}'s {@code n} predictions through {@code sink}. */
  static Pipeline pipeline(RunInfo run, int n, PTransform<PCollection<KV<String, Prediction>>, ? extends POutput> sink) {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    p.apply("Predictions", create(run, n)).apply("Sink", sink);
    return p;
  }

  /** Runs a pipeline that must succeed. */
  static void publish(RunInfo run, int n, PTransform<PCollection<KV<String, Prediction>>, ? extends POutput> sink) {
    pipeline(run, n, sink).run().waitUntilFinish();
  }

  /**
   * Runs a pipeline that must fail and returns its exception once none of its work is still running
   * (the direct runner reports the first failure while bundles in flight may still finish).
   */
  static Exception runExpectingFailure(Pipeline p) throws InterruptedException {
    Exception failure = org.junit.Assert.assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    awaitQuiet();
    return failure;
  }

  /** Waits (at most 30 s) until no thread runs the sinks' or the direct runner's work any more. */
  static void awaitQuiet() throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      boolean busy = false;
      for (java.util.Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
        if (t.getKey() == Thread.currentThread() || !t.getKey().isAlive()) {
          continue;
        }
        for (StackTraceElement f : t.getValue()) {
          String c = f.getClassName();
          if ((c.startsWith("dev.batchserve.transforms.") && !c.startsWith("dev.batchserve.transforms.reliability."))
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
  static String chain(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t).append('\n');
    }
    return all.toString();
  }
}
