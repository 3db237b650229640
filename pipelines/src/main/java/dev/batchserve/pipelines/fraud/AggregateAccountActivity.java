package dev.batchserve.pipelines.fraud;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Reasons;
import dev.batchserve.transforms.values.RunInfo;
import dev.batchserve.transforms.values.TransformResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns raw transactions into the per-account 30-day features of the fraud model: one
 * {@code KV<account_id, Row>} per account with at least one transaction in the run's 30-day window,
 * with the columns of the fraud sample ({@code dev.batchserve.tools.samples.FraudSample#COLUMNS} in
 * batchserve-tools, without the label), so the demo model scores them as it scores the sample.
 *
 * <p>Windows end at the run's window end ({@link RunInfo#windowEnd()}, exclusive) and start 1, 7 and
 * 30 days earlier (inclusive). Per account: transaction counts over 1/7/30 days; amount mean, max
 * and sample standard deviation over 30 days (null for a single transaction, as in the sample);
 * distinct countries and merchants; {@code home_country}, the most frequent country (ties: the
 * alphabetically first); {@code geo_change}, whether the latest transaction's country differs from
 * it; {@code account_age_days}, whole days from the account's opening (from {@link #withAccounts})
 * to the window end, null when the account is not in that table.
 *
 * <p>Transactions are grouped by account here: this is an aggregation, not batching. Sums run over
 * the account's transactions sorted by (ts, merchant, country, amount), so the output does not depend
 * on the order the runner delivers them in. Input rows need {@code account_id} and {@code
 * country}/{@code merchant} strings, {@code ts} as a datetime, epoch millis, ISO-8601 text or a date and
 * {@code amount} as a number or numeric text (CSV rows work); a row missing or failing one of these
 * is a dead letter (step {@code aggregate}).
 *
 * <pre>{@code
 * AggregateAccountActivity.Result features = transactions.apply(
 *     AggregateAccountActivity.of(run).withAccounts(accounts));
 * features.rows().apply(KeyedPrediction.<String>of(spec, modelUri).withRunInfo(run));
 * }</pre>
 */
public final class AggregateAccountActivity
    extends PTransform<PCollection<Row>, AggregateAccountActivity.Result> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.fraud.aggregate";

  /**
   * Raw transactions as it reads them: {@code account_id, ts, amount, country, merchant} (other
   * columns may follow; {@code ts} may also be epoch millis or ISO-8601 text).
   */
  public static final Schema TRANSACTIONS = Schema.builder()
      .addStringField(FraudAccounts.KEY)
      .addDateTimeField("ts")
      .addDoubleField("amount")
      .addStringField("country")
      .addStringField("merchant")
      .build();
  /** The accounts table as {@link #withAccounts} reads it: {@code account_id, opened} (the opening instant). */
  public static final Schema ACCOUNTS = Schema.builder()
      .addStringField(FraudAccounts.KEY)
      .addDateTimeField("opened")
      .build();

  /** The output rows: the fraud sample's columns without the label. */
  public static final Schema FEATURES = Schema.builder()
      .addStringField(FraudAccounts.KEY)
      .addInt64Field("txn_count_1d")
      .addInt64Field("txn_count_7d")
      .addInt64Field("txn_count_30d")
      .addDoubleField("amount_mean_30d")
      .addDoubleField("amount_max_30d")
      .addNullableField("amount_std_30d", FieldType.DOUBLE)
      .addInt64Field("distinct_countries_30d")
      .addInt64Field("distinct_merchants_30d")
      .addStringField("home_country")
      .addBooleanField("geo_change")
      .addNullableField("account_age_days", FieldType.INT64)
      .build();

  /** One in-window transaction as {@link #aggregate} takes it: {@code ts} in epoch millis. */
  public static final Schema TXN = Schema.builder()
      .addInt64Field("ts")
      .addDoubleField("amount")
      .addStringField("country")
      .addStringField("merchant")
      .build();

  private final RunInfo run;
  private final transient @Nullable PCollection<Row> accounts;

  private AggregateAccountActivity(RunInfo run, @Nullable PCollection<Row> accounts) {
    this.run = run;
    this.accounts = accounts;
  }

  /** Aggregates over the 30 days that end with {@code run}'s window. */
  public static AggregateAccountActivity of(RunInfo run) {
    return new AggregateAccountActivity(Objects.requireNonNull(run, "run"), null);
  }

  /** The accounts table ({@code account_id}, {@code opened}: datetime, epoch millis or ISO-8601 text). */
  public AggregateAccountActivity withAccounts(PCollection<Row> accountsTable) {
    return new AggregateAccountActivity(run, Objects.requireNonNull(accountsTable, "accountsTable"));
  }

  @Override
  public Result expand(PCollection<Row> transactions) {
    checkState(transactions.getSchema().hasField("account_id"),
        "transactions need an account_id column, but have %s", transactions.getSchema().getFieldNames());
    long end = run.windowEnd().toEpochMilli();
    TupleTag<KV<String, Row>> txOk = new TupleTag<>() {};
    TupleTag<DeadLetter> txDead = new TupleTag<>() {};
    PCollectionTuple parsed = transactions.apply("ParseTransactions",
        ParDo.of(new ParseFn(end, txOk, txDead)).withOutputTags(txOk, TupleTagList.of(txDead)));
    PCollection<KV<String, Row>> txns = parsed.get(txOk).setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(TXN)));

    TupleTag<Row> txTag = new TupleTag<>();
    TupleTag<Long> openedTag = new TupleTag<>();
    KeyedPCollectionTuple<String> join = KeyedPCollectionTuple.of(txTag, txns);
    PCollection<DeadLetter> accountDead = null;
    if (accounts != null) {
      TupleTag<KV<String, Long>> accOk = new TupleTag<>() {};
      TupleTag<DeadLetter> accDead = new TupleTag<>() {};
      PCollectionTuple acc = accounts.apply("ParseAccounts",
          ParDo.of(new ParseAccountFn(accOk, accDead)).withOutputTags(accOk, TupleTagList.of(accDead)));
      join = join.and(openedTag, acc.get(accOk)
          .setCoder(KvCoder.of(StringUtf8Coder.of(), org.apache.beam.sdk.coders.VarLongCoder.of())));
      accountDead = acc.get(accDead).setCoder(DeadLetter.DeadLetterCoder.of());
    }
    PCollection<KV<String, Row>> rows = join
        .apply("GroupByAccount", CoGroupByKey.create())
        .apply("Aggregate", ParDo.of(new AggregateFn(end, txTag, openedTag)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(FEATURES)));
    PCollection<DeadLetter> dead = parsed.get(txDead).setCoder(DeadLetter.DeadLetterCoder.of());
    if (accountDead != null) {
      dead = org.apache.beam.sdk.values.PCollectionList.of(dead).and(accountDead)
          .apply("AllDeadLetters", org.apache.beam.sdk.transforms.Flatten.pCollections());
    }
    return new Result(transactions.getPipeline(), rows, dead);
  }

  /** The account rows and the rejected input rows. */
  public static final class Result extends TransformResult {
    private final PCollection<KV<String, Row>> rows;
    private final PCollection<DeadLetter> deadLetters;

    Result(Pipeline pipeline, PCollection<KV<String, Row>> rows, PCollection<DeadLetter> deadLetters) {
      super(pipeline);
      this.rows = output("rows", rows);
      this.deadLetters = output("deadLetters", deadLetters);
    }

    /** One row of {@link #FEATURES} per account active in the 30-day window, keyed by account id. */
    public PCollection<KV<String, Row>> rows() {
      return rows;
    }

    /** The rejected input rows, with step and reason. */
    public PCollection<DeadLetter> deadLetters() {
      return deadLetters;
    }
  }

  static @Nullable Long millis(@Nullable Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof org.joda.time.ReadableInstant) {
      return ((org.joda.time.ReadableInstant) v).getMillis();
    }
    if (v instanceof Instant) {
      return ((Instant) v).toEpochMilli();
    }
    if (v instanceof Number) {
      return ((Number) v).longValue();
    }
    String s = v.toString().trim();
    if (s.isEmpty()) {
      return null;
    }
    if (s.matches("-?\\d+")) {
      return Long.parseLong(s);
    }
    if (s.matches("\\d{4}-\\d{2}-\\d{2}")) {
      return java.time.LocalDate.parse(s).atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toEpochMilli();
    }
    return Instant.parse(s).toEpochMilli();
  }

  private static @Nullable Object value(Row row, String field) {
    return row.getSchema().hasField(field) ? row.getValue(field) : null;
  }

  private static @Nullable String text(Row row, String field) {
    Object v = value(row, field);
    return v == null || v.toString().isBlank() ? null : v.toString().trim();
  }

  private static final class ParseFn extends DoFn<Row, KV<String, Row>> {
    private final long end;
    private final TupleTag<KV<String, Row>> ok;
    private final TupleTag<DeadLetter> dead;
    private final Counter outside = Metrics.counter(METRICS_NAMESPACE, "transactions_outside_window");
    private final Counter rejected = Metrics.counter(METRICS_NAMESPACE, "transactions_rejected");

    ParseFn(long end, TupleTag<KV<String, Row>> ok, TupleTag<DeadLetter> dead) {
      this.end = end;
      this.ok = ok;
      this.dead = dead;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      String account = text(row, "account_id");
      String field = null;
      try {
        field = "account_id";
        Objects.requireNonNull(account, "missing");
        field = "ts";
        Long ts = Objects.requireNonNull(millis(value(row, "ts")), "missing");
        field = "amount";
        Object a = Objects.requireNonNull(value(row, "amount"), "missing");
        double amount = a instanceof Number ? ((Number) a).doubleValue() : Double.parseDouble(a.toString().trim());
        if (!Double.isFinite(amount)) {
          throw new IllegalArgumentException("not finite: " + amount);
        }
        field = "country";
        String country = Objects.requireNonNull(text(row, "country"), "missing");
        field = "merchant";
        String merchant = Objects.requireNonNull(text(row, "merchant"), "missing");
        if (ts >= end || ts < end - Duration.ofDays(30).toMillis()) {
          outside.inc();
          return;
        }
        out.get(ok).output(KV.of(account, Row.withSchema(TXN).addValues(ts, amount, country, merchant).build()));
      } catch (RuntimeException e) {
        rejected.inc();
        String reason = e instanceof NullPointerException ? Reasons.MISSING_VALUE : Reasons.INVALID_VALUE;
        out.get(dead).output(DeadLetter.of("aggregate", account, DeadLetter.rowRecord(row), field, reason, String.valueOf(e.getMessage())));
      }
    }
  }

  private static final class ParseAccountFn extends DoFn<Row, KV<String, Long>> {
    private final TupleTag<KV<String, Long>> ok;
    private final TupleTag<DeadLetter> dead;

    ParseAccountFn(TupleTag<KV<String, Long>> ok, TupleTag<DeadLetter> dead) {
      this.ok = ok;
      this.dead = dead;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      String account = text(row, "account_id");
      try {
        Long opened = millis(value(row, "opened"));
        if (account == null || opened == null) {
          out.get(dead).output(DeadLetter.of("aggregate", account, DeadLetter.rowRecord(row), account == null ? "account_id" : "opened",
              Reasons.MISSING_VALUE, "an account row needs account_id and opened"));
          return;
        }
        out.get(ok).output(KV.of(account, opened));
      } catch (RuntimeException e) {
        out.get(dead).output(DeadLetter.of("aggregate", account, DeadLetter.rowRecord(row), "opened", Reasons.INVALID_VALUE,
            String.valueOf(e.getMessage())));
      }
    }
  }

  /** Computes one account's features; package-private so tests can check it without a pipeline too. */
  static final class AggregateFn extends DoFn<KV<String, CoGbkResult>, KV<String, Row>> {
    private final long end;
    private final TupleTag<Row> txTag;
    private final TupleTag<Long> openedTag;
    private final Counter accountsOut = Metrics.counter(METRICS_NAMESPACE, "accounts");

    AggregateFn(long end, TupleTag<Row> txTag, TupleTag<Long> openedTag) {
      this.end = end;
      this.txTag = txTag;
      this.openedTag = openedTag;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> e, OutputReceiver<KV<String, Row>> out) {
      List<Row> txns = new ArrayList<>();
      e.getValue().getAll(txTag).forEach(txns::add);
      if (txns.isEmpty()) {
        return; // an account without activity in the window has no features: its key gets a fallback
      }
      Long opened = null;
      for (Long o : e.getValue().getAll(openedTag)) {
        opened = opened == null ? o : Math.min(opened, o);
      }
      out.output(KV.of(e.getKey(), aggregate(e.getKey(), txns, opened, end)));
      accountsOut.inc();
    }
  }

  /**
   * The feature row of one account from its in-window transactions (rows of {@link #TXN}), computed
   * outside Beam exactly as the transform computes it: for checking a run, or an online path that
   * must agree with the batch features.
   */
  public static Row aggregate(String account, List<Row> txns, @Nullable Long openedMillis, long end) {
    List<Row> sorted = new ArrayList<>(txns);
    sorted.sort(Comparator.<Row>comparingLong(r -> r.getInt64("ts"))
        .thenComparing(r -> r.getString("merchant"))
        .thenComparing(r -> r.getString("country"))
        .thenComparingDouble(r -> r.getDouble("amount")));
    long day = Duration.ofDays(1).toMillis();
    long c1 = 0;
    long c7 = 0;
    double sum = 0;
    double max = Double.NEGATIVE_INFINITY;
    Map<String, Integer> countries = new HashMap<>();
    Set<String> merchants = new HashSet<>();
    for (Row t : sorted) {
      long ts = t.getInt64("ts");
      if (ts >= end - day) {
        c1++;
      }
      if (ts >= end - 7 * day) {
        c7++;
      }
      double a = t.getDouble("amount");
      sum += a;
      max = Math.max(max, a);
      countries.merge(t.getString("country"), 1, Integer::sum);
      merchants.add(t.getString("merchant"));
    }
    int n = sorted.size();
    double mean = sum / n;
    Double std = null;
    if (n > 1) {
      double ss = 0;
      for (Row t : sorted) {
        double d = t.getDouble("amount") - mean;
        ss += d * d;
      }
      std = Math.sqrt(ss / (n - 1));
    }
    String home = null;
    int best = -1;
    for (Map.Entry<String, Integer> c : new java.util.TreeMap<>(countries).entrySet()) {
      if (c.getValue() > best) {
        best = c.getValue();
        home = c.getKey();
      }
    }
    String latest = sorted.get(n - 1).getString("country");
    Long age = openedMillis == null ? null : Math.floorDiv(end - openedMillis, day);
    return Row.withSchema(FEATURES).addValues(
        account, c1, c7, (long) n, mean, max, std, (long) countries.size(), (long) merchants.size(),
        home, !latest.equals(home), age).build();
  }
}
