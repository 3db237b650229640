package dev.batchserve.transforms.monitoring;

import dev.batchserve.transforms.values.DeadLetter;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;

final class TallyDeadLettersFn extends Combine.CombineFn<DeadLetter, DeadLetterTally, DeadLetterTally> {
  private static final long serialVersionUID = 1L;

  @Override
  public DeadLetterTally createAccumulator() {
    return new DeadLetterTally();
  }

  @Override
  public DeadLetterTally addInput(DeadLetterTally acc, DeadLetter d) {
    acc.total++;
    if ("read".equals(d.getStep())) {
      acc.unreadable++;
    }
    acc.byReason.merge(d.getStep() + ":" + d.getReason(), 1L, Long::sum);
    if (d.getField() != null) {
      acc.byField.computeIfAbsent(d.getField(), f -> new TreeMap<>()).merge(d.getReason(), 1L, Long::sum);
    }
    return acc;
  }

  @Override
  public DeadLetterTally mergeAccumulators(Iterable<DeadLetterTally> accs) {
    DeadLetterTally m = new DeadLetterTally();
    for (DeadLetterTally a : accs) {
      m.total += a.total;
      m.unreadable += a.unreadable;
      a.byReason.forEach((k, v) -> m.byReason.merge(k, v, Long::sum));
      a.byField.forEach((f, reasons) -> reasons.forEach(
          (k, v) -> m.byField.computeIfAbsent(f, x -> new TreeMap<>()).merge(k, v, Long::sum)));
    }
    return m;
  }

  @Override
  public DeadLetterTally extractOutput(DeadLetterTally acc) {
    return acc;
  }

  @Override
  public Coder<DeadLetterTally> getAccumulatorCoder(CoderRegistry r, Coder<DeadLetter> in) {
    return SerializableCoder.of(DeadLetterTally.class);
  }

  @Override
  public Coder<DeadLetterTally> getDefaultOutputCoder(CoderRegistry r, Coder<DeadLetter> in) {
    return SerializableCoder.of(DeadLetterTally.class);
  }
}
