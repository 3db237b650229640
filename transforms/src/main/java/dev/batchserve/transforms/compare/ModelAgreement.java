package dev.batchserve.transforms.compare;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Locale;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How two sets of scores for the same keys compare: a challenger model against the champion, or
 * this run against the previous one (then the champion side is the previous run).
 *
 * <p>{@code agreeing} counts keys on the same side of the decision threshold in both; {@code changed}
 * counts keys whose scores differ by more than an epsilon; differences are on the primary score.
 *
 * <pre>{@code
 * ModelAgreement a = ...;
 * a.decisionAgreement(); // 0.97: share of compared keys with the same decision
 * }</pre>
 */
@DefaultCoder(ModelAgreement.ModelAgreementCoder.class)
public final class ModelAgreement implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long compared;
  private final long championOnly;
  private final long challengerOnly;
  private final long agreeing;
  private final long changed;
  private final double sumAbsDiff;
  private final double maxAbsDiff;

  public ModelAgreement(long compared, long championOnly, long challengerOnly, long agreeing, long changed,
      double sumAbsDiff, double maxAbsDiff) {
    this.compared = compared;
    this.championOnly = championOnly;
    this.challengerOnly = challengerOnly;
    this.agreeing = agreeing;
    this.changed = changed;
    this.sumAbsDiff = sumAbsDiff;
    this.maxAbsDiff = maxAbsDiff;
  }

  static ModelAgreement empty() {
    return new ModelAgreement(0, 0, 0, 0, 0, 0, 0);
  }

  ModelAgreement merge(ModelAgreement o) {
    return new ModelAgreement(compared + o.compared, championOnly + o.championOnly, challengerOnly + o.challengerOnly,
        agreeing + o.agreeing, changed + o.changed, sumAbsDiff + o.sumAbsDiff, Math.max(maxAbsDiff, o.maxAbsDiff));
  }

  /** Keys scored by both models. */
  public long getCompared() {
    return compared;
  }

  /** Keys only the champion scored (the challenger failed on them). */
  public long getChampionOnly() {
    return championOnly;
  }

  /** Keys only the challenger scored. */
  public long getChallengerOnly() {
    return challengerOnly;
  }

  /** Compared keys on the same side of the decision threshold. */
  public long getAgreeing() {
    return agreeing;
  }

  /** Compared keys whose scores differ by more than the comparison's epsilon. */
  public long getChanged() {
    return changed;
  }

  /** Share of compared keys with the same decision (1 when nothing was compared). */
  public double decisionAgreement() {
    return compared == 0 ? 1.0 : (double) agreeing / compared;
  }

  /** Mean absolute difference of the primary scores over compared keys. */
  public double meanAbsDiff() {
    return compared == 0 ? 0.0 : sumAbsDiff / compared;
  }

  public double getMaxAbsDiff() {
    return maxAbsDiff;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof ModelAgreement)) {
      return false;
    }
    ModelAgreement a = (ModelAgreement) o;
    return compared == a.compared && championOnly == a.championOnly && challengerOnly == a.challengerOnly
        && agreeing == a.agreeing && changed == a.changed && Double.compare(sumAbsDiff, a.sumAbsDiff) == 0
        && Double.compare(maxAbsDiff, a.maxAbsDiff) == 0;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(compared, championOnly, challengerOnly, agreeing, changed, sumAbsDiff, maxAbsDiff);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT,
        "ModelAgreement{compared=%d, championOnly=%d, challengerOnly=%d, decisionAgreement=%.4f, changed=%d,"
            + " meanAbsDiff=%.6f, maxAbsDiff=%.6f}",
        compared, championOnly, challengerOnly, decisionAgreement(), changed, meanAbsDiff(), maxAbsDiff);
  }

  /** Five longs and two doubles. */
  public static final class ModelAgreementCoder extends AtomicCoder<ModelAgreement> {
    /**
     * What makes {@code @DefaultCoder} work: Beam asks the coder class for this factory method and,
     * without it, silently falls back to Java serialization ({@code SerializableCoder}).
     */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(ModelAgreement.class), of());
    }

    private static final ModelAgreementCoder INSTANCE = new ModelAgreementCoder();

    public static ModelAgreementCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(ModelAgreement a, OutputStream out) throws IOException {
      VarLongCoder.of().encode(a.compared, out);
      VarLongCoder.of().encode(a.championOnly, out);
      VarLongCoder.of().encode(a.challengerOnly, out);
      VarLongCoder.of().encode(a.agreeing, out);
      VarLongCoder.of().encode(a.changed, out);
      DoubleCoder.of().encode(a.sumAbsDiff, out);
      DoubleCoder.of().encode(a.maxAbsDiff, out);
    }

    @Override
    public ModelAgreement decode(InputStream in) throws IOException {
      return new ModelAgreement(VarLongCoder.of().decode(in), VarLongCoder.of().decode(in),
          VarLongCoder.of().decode(in), VarLongCoder.of().decode(in), VarLongCoder.of().decode(in),
          DoubleCoder.of().decode(in), DoubleCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
