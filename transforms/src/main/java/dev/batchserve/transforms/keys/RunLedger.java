package dev.batchserve.transforms.keys;

import static dev.batchserve.transforms.keys.KeyedPrediction.RUN_METRICS_NAMESPACE;
import dev.batchserve.transforms.values.RunCounts;
import java.io.IOException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionView;

/** The run ledger: one combine over {@code (tag, amount)} entries gives the five counts of the completeness invariant, which {@link CompletenessFn} enforces. */
final class RunLedger {
  private RunLedger() {}

  /** One ledger entry per element: {@code (tag, 1)}. */
  static final class TallyFn<T> extends DoFn<T, KV<Integer, Long>> {
    private final int tag;

    TallyFn(int tag) {
      this.tag = tag;
    }

    @ProcessElement
    public void process(OutputReceiver<KV<Integer, Long>> out) {
      out.output(KV.of(tag, 1L));
    }
  }

  /**
   * The run's ledger: the sums of every count the completeness invariant reads, made by one combine
   * over {@code (tag, amount)} entries (lifted before the shuffle, so one small array per bundle
   * travels).
   */
  static final class Ledger extends Combine.CombineFn<KV<Integer, Long>, long[], long[]> {
    static final int INPUT = 0;
    static final int EXPECTED = 1;
    static final int RESULTS = 2;
    static final int FALLBACKS = 3;
    static final int DEAD = 4;
    private static final int SIZE = 5;

    @Override
    public long[] createAccumulator() {
      return new long[SIZE];
    }

    @Override
    public long[] addInput(long[] acc, KV<Integer, Long> entry) {
      acc[entry.getKey()] += entry.getValue();
      return acc;
    }

    @Override
    public long[] mergeAccumulators(Iterable<long[]> accs) {
      long[] sum = new long[SIZE];
      for (long[] a : accs) {
        for (int i = 0; i < SIZE; i++) {
          sum[i] += a[i];
        }
      }
      return sum;
    }

    @Override
    public long[] extractOutput(long[] acc) {
      return acc;
    }

    @Override
    public Coder<long[]> getAccumulatorCoder(org.apache.beam.sdk.coders.CoderRegistry registry, Coder<KV<Integer, Long>> in) {
      return LongsCoder.INSTANCE;
    }

    @Override
    public Coder<long[]> getDefaultOutputCoder(org.apache.beam.sdk.coders.CoderRegistry registry, Coder<KV<Integer, Long>> in) {
      return LongsCoder.INSTANCE;
    }
  }

  /** A {@code long[]} as its length and its values (variable-length). */
  static final class LongsCoder extends org.apache.beam.sdk.coders.AtomicCoder<long[]> {
    static final LongsCoder INSTANCE = new LongsCoder();
    private static final VarLongCoder LONG = VarLongCoder.of();

    @Override
    public void encode(long[] value, java.io.OutputStream out) throws IOException {
      VarIntCoder.of().encode(value.length, out);
      for (long v : value) {
        LONG.encode(v, out);
      }
    }

    @Override
    public long[] decode(java.io.InputStream in) throws IOException {
      long[] value = new long[VarIntCoder.of().decode(in)];
      for (int i = 0; i < value.length; i++) {
        value[i] = LONG.decode(in);
      }
      return value;
    }

    @Override
    public void verifyDeterministic() {}
  }

  /** Enforces the completeness invariant once all counts are known. */
  static final class CompletenessFn extends DoFn<Integer, RunCounts> {
    private final PCollectionView<long[]> ledger;

    CompletenessFn(PCollectionView<long[]> ledger) {
      this.ledger = ledger;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      long[] sums = c.sideInput(ledger);
      long fb = sums[Ledger.FALLBACKS];
      RunCounts counts = new RunCounts(sums[Ledger.INPUT], sums[Ledger.EXPECTED], sums[Ledger.RESULTS] - fb, fb,
          sums[Ledger.DEAD]);
      String violation = counts.violation();
      if (violation != null) {
        throw new IllegalStateException("completeness invariant violated: " + violation + " (" + counts + ")");
      }
      Metrics.counter(RUN_METRICS_NAMESPACE, "input_records").inc(counts.getInputRecords());
      Metrics.counter(RUN_METRICS_NAMESPACE, "expected_keys").inc(counts.getExpectedKeys());
      Metrics.counter(RUN_METRICS_NAMESPACE, "predictions").inc(counts.getPredictions());
      Metrics.counter(RUN_METRICS_NAMESPACE, "fallbacks").inc(counts.getFallbacks());
      Metrics.counter(RUN_METRICS_NAMESPACE, "dead_letters").inc(counts.getDeadLetters());
      c.output(counts);
    }
  }
}
