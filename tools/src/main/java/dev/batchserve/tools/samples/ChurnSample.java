package dev.batchserve.tools.samples;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.InvalidPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;

/**
 * Deterministic weekly activity per customer for the churn example, with a label drawn from a known
 * logistic ground truth (inactive, unhappy, short-tenure customers churn more) so a model can learn
 * it. Customer {@code i} depends only on {@code (seed, i)}; about 1% of customers have no recorded
 * last order ({@code days_since_last_order} missing), which the spec imputes. The churn demo job
 * (batchserve-examples) generates its customers with it; {@code TrainChurnModel} trains on it.
 *
 * <pre>{@code
 * List<Map<String, Object>> training = ChurnSample.generate(20_000, 7);
 * Row customer = ChurnSample.row(42, 11);   // a scoring row (no label)
 * }</pre>
 */
public final class ChurnSample {
  public static final String KEY = "customer_id";
  public static final String LABEL = "churned";
  static final String[] PLANS = {"basic", "plus", "premium"};
  /** A scoring row: the features without the label. */
  public static final Schema SCHEMA = Schema.builder()
      .addStringField(KEY)
      .addInt64Field("tenure_weeks")
      .addInt64Field("sessions_4w")
      .addInt64Field("sessions_prev_4w")
      .addNullableField("days_since_last_order", FieldType.INT64)
      .addInt64Field("orders_12w")
      .addDoubleField("spend_12w")
      .addInt64Field("support_tickets_12w")
      .addStringField("plan")
      .build();

  private ChurnSample() {}

  public static String customerId(int i) {
    return String.format(Locale.ROOT, "cust-%07d", i);
  }

  /** Customer {@code i}'s features and label. */
  public static Map<String, Object> customer(int i, long seed) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ (i + 1L) * 0xBF58476D1CE4E5B9L);
    boolean fading = r.nextDouble() < 0.25;
    long tenure = 1 + r.nextInt(260);
    long prev = r.nextInt(40);
    long now = fading ? Math.round(prev * r.nextDouble() * 0.5) : Math.round(prev * (0.7 + r.nextDouble() * 0.6));
    Long lastOrder = r.nextDouble() < 0.01 ? null : (long) (fading ? r.nextInt(90) : r.nextInt(30));
    long orders = fading ? r.nextInt(4) : r.nextInt(15);
    double spend = Math.round(orders * Math.exp(2.5 + r.nextDouble()) * 100.0) / 100.0;
    long tickets = r.nextDouble() < (fading ? 0.4 : 0.1) ? 1 + r.nextInt(4) : 0;
    String plan = PLANS[r.nextInt(PLANS.length)];
    double z = -1.5 - 0.08 * (now - prev) + 0.03 * (lastOrder == null ? 30 : lastOrder) - 0.006 * tenure
        + 0.5 * tickets - 0.15 * orders + ("basic".equals(plan) ? 0.4 : 0);
    long label = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(KEY, customerId(i));
    m.put("tenure_weeks", tenure);
    m.put("sessions_4w", now);
    m.put("sessions_prev_4w", prev);
    m.put("days_since_last_order", lastOrder);
    m.put("orders_12w", orders);
    m.put("spend_12w", spend);
    m.put("support_tickets_12w", tickets);
    m.put("plan", plan);
    m.put(LABEL, label);
    return m;
  }

  /** Customers {@code 0..n-1} with labels, for training. */
  public static List<Map<String, Object>> generate(int n, long seed) {
    List<Map<String, Object>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(customer(i, seed));
    }
    return out;
  }

  /** Customer {@code i} as a scoring row of {@link #SCHEMA}. */
  public static Row row(int i, long seed) {
    Map<String, Object> c = customer(i, seed);
    Row.Builder b = Row.withSchema(SCHEMA);
    for (Schema.Field f : SCHEMA.getFields()) {
      b.addValue(c.get(f.getName()));
    }
    return b.build();
  }

  /** The churn model's feature template. */
  public static FeatureSpec template() {
    return FeatureSpec.builder()
        .integer("tenure_weeks").range(0, 10_000).log1p().zscore()
        .integer("sessions_4w").range(0, 100_000).log1p().zscore()
        .integer("sessions_prev_4w").range(0, 100_000).log1p().zscore()
        .integer("days_since_last_order").optional().range(0, 100_000).imputeMedian().withMissingIndicator().zscore()
        .integer("orders_12w").range(0, 100_000).log1p().zscore()
        .numeric("spend_12w").range(0, 1e9).log1p().zscore()
        .integer("support_tickets_12w").range(0, 10_000).zscore()
        .categorical("plan").vocabulary().oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .build();
  }
}
