package dev.batchserve.transforms.monitoring;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Several global combines over different collections run as ONE combine: each input is tagged
 * ({@link RawUnionValue}), the tagged inputs are flattened, and one {@code CombineFn} keeps one
 * accumulator per input, so the run pays one shuffle of per-bundle accumulators (combiner lifting)
 * instead of one per measure. The result is a list with each combine's output, in the order added.
 *
 * <pre>{@code
 * QualityLedger ledger = new QualityLedger(p.getCoderRegistry());
 * ledger.add("Rows", ones, Sum.ofLongs());                  // output 0: Long
 * ledger.add("DeadLetters", dead, new TallyDeadLettersFn()); // output 1: DeadLetterTally
 * PCollectionView<List<Object>> view = ledger.combine("QualityLedger");
 * }</pre>
 */
final class QualityLedger {
  private final CoderRegistry registry;
  private final List<String> names = new ArrayList<>();
  private final List<PCollection<?>> inputs = new ArrayList<>();
  private final List<Combine.CombineFn<?, ?, ?>> fns = new ArrayList<>();

  QualityLedger(CoderRegistry registry) {
    this.registry = registry;
  }

  /** Adds a global combine of {@code input} by {@code fn}; its output is at this call's index. */
  <T> void add(String name, PCollection<T> input, Combine.CombineFn<? super T, ?, ?> fn) {
    names.add(name);
    inputs.add(input);
    fns.add(fn);
  }

  /** The one combine, as a singleton view of every output in the order added. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  PCollectionView<List<Object>> combine(String name) {
    List<Coder<?>> inputCoders = new ArrayList<>();
    List<Coder<Object>> accumulatorCoders = new ArrayList<>();
    List<Coder<Object>> outputCoders = new ArrayList<>();
    for (int i = 0; i < fns.size(); i++) {
      Coder in = inputs.get(i).getCoder();
      Combine.CombineFn fn = fns.get(i);
      inputCoders.add(in);
      try {
        accumulatorCoders.add(NullableCoder.of(fn.getAccumulatorCoder(registry, in)));
        outputCoders.add(NullableCoder.of(fn.getDefaultOutputCoder(registry, in)));
      } catch (CannotProvideCoderException e) {
        throw new IllegalStateException("no coder for the " + names.get(i) + " measure of " + name, e);
      }
    }
    UnionCoder union = UnionCoder.of(inputCoders);
    PCollectionList<RawUnionValue> tagged = PCollectionList.empty(inputs.get(0).getPipeline());
    for (int i = 0; i < inputs.size(); i++) {
      PCollection<Object> in = (PCollection<Object>) inputs.get(i);
      tagged = tagged.and(in.apply(name + "Tag" + names.get(i), ParDo.of(new TagFn(i))).setCoder(union));
    }
    return tagged.apply(name + "Flatten", Flatten.pCollections())
        .apply(name, Combine.globally(new LedgerFn((List) fns, accumulatorCoders, outputCoders)).asSingletonView());
  }

  private static final class TagFn extends DoFn<Object, RawUnionValue> {
    private final int tag;

    TagFn(int tag) {
      this.tag = tag;
    }

    @ProcessElement
    public void process(@Element Object value, OutputReceiver<RawUnionValue> out) {
      out.output(new RawUnionValue(tag, value));
    }
  }

  /** One accumulator per measure; an input goes to the measure of its union tag. */
  private static final class LedgerFn extends Combine.CombineFn<RawUnionValue, List<Object>, List<Object>> {
    private final List<Combine.CombineFn<Object, Object, Object>> fns;
    private final List<Coder<Object>> accumulatorCoders;
    private final List<Coder<Object>> outputCoders;

    LedgerFn(List<Combine.CombineFn<Object, Object, Object>> fns, List<Coder<Object>> accumulatorCoders,
        List<Coder<Object>> outputCoders) {
      this.fns = fns;
      this.accumulatorCoders = accumulatorCoders;
      this.outputCoders = outputCoders;
    }

    /**
     * Every measure's accumulator starts as null and is made at its first input: an accumulator that
     * never saw an input is never encoded (some, like the quantiles', cannot encode their empty state),
     * as with a separate combine, which only makes accumulators for bundles that have inputs.
     */
    @Override
    public List<Object> createAccumulator() {
      List<Object> acc = new ArrayList<>(fns.size());
      for (int i = 0; i < fns.size(); i++) {
        acc.add(null);
      }
      return acc;
    }

    @Override
    public List<Object> addInput(List<Object> acc, RawUnionValue input) {
      int i = input.getUnionTag();
      Object mine = acc.get(i);
      acc.set(i, fns.get(i).addInput(mine != null ? mine : fns.get(i).createAccumulator(), input.getValue()));
      return acc;
    }

    @Override
    public List<Object> mergeAccumulators(Iterable<List<Object>> accumulators) {
      List<Object> merged = new ArrayList<>(fns.size());
      for (int i = 0; i < fns.size(); i++) {
        List<Object> column = new ArrayList<>();
        for (List<Object> acc : accumulators) {
          if (acc.get(i) != null) {
            column.add(acc.get(i));
          }
        }
        merged.add(column.isEmpty() ? null : column.size() == 1 ? column.get(0) : fns.get(i).mergeAccumulators(column));
      }
      return merged;
    }

    @Override
    public List<Object> extractOutput(List<Object> acc) {
      List<Object> out = new ArrayList<>(fns.size());
      for (int i = 0; i < fns.size(); i++) {
        Object mine = acc.get(i);
        out.add(fns.get(i).extractOutput(mine != null ? mine : fns.get(i).createAccumulator()));
      }
      return out;
    }

    @Override
    public Coder<List<Object>> getAccumulatorCoder(CoderRegistry r, Coder<RawUnionValue> in) {
      return new ListOfCoder(accumulatorCoders);
    }

    @Override
    public Coder<List<Object>> getDefaultOutputCoder(CoderRegistry r, Coder<RawUnionValue> in) {
      return new ListOfCoder(outputCoders);
    }
  }

  /** A fixed-length list whose element {@code i} has coder {@code i}. */
  static final class ListOfCoder extends CustomCoder<List<Object>> {
    private final List<Coder<Object>> coders;

    ListOfCoder(List<Coder<Object>> coders) {
      this.coders = coders;
    }

    @Override
    public void encode(List<Object> value, OutputStream out) throws IOException {
      for (int i = 0; i < coders.size(); i++) {
        coders.get(i).encode(value.get(i), out);
      }
    }

    @Override
    public List<Object> decode(InputStream in) throws IOException {
      List<Object> value = new ArrayList<>(coders.size());
      for (Coder<Object> c : coders) {
        value.add(c.decode(in));
      }
      return value;
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      for (Coder<Object> c : coders) {
        c.verifyDeterministic();
      }
    }
  }
}
