package dev.batchserve.examples.fraud;

import dev.batchserve.pipelines.fraud.AggregateAccountActivity;
import dev.batchserve.pipelines.fraud.FraudAccounts;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.RunInfo;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Deterministic raw card transactions for the fraud example: for each account, the transactions of
 * the 35 days before the end of a run's window (5 days more than the 30-day features look at, so
 * the window's edges matter), plus an accounts table with each account's opening date.
 *
 * <p>Account {@code i} depends only on {@code (seed, i, run date)}, so a generator sized for a test
 * (a few accounts) and one sized for a benchmark (millions, see {@link #read}) agree on the
 * accounts they share, and any subset can be generated in parallel.
 *
 * <pre>{@code
 * RunInfo run = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
 * List<Row> tx = FraudTransactions.transactions(100, 42, run);        // in memory
 * PCollection<Row> all = p.apply(FraudTransactions.read(5_000_000, 42, run)); // generated in parallel
 * }</pre>
 */
public final class FraudTransactions {
  /** Raw transactions: {@code account_id, ts, amount, country, merchant} ({@link AggregateAccountActivity#TRANSACTIONS}). */
  public static final Schema SCHEMA = AggregateAccountActivity.TRANSACTIONS;
  /** Accounts: {@code account_id, opened} (the opening instant; {@link AggregateAccountActivity#ACCOUNTS}). */
  public static final Schema ACCOUNTS_SCHEMA = AggregateAccountActivity.ACCOUNTS;
  static final String[] COUNTRIES = FraudAccounts.COUNTRIES.toArray(new String[0]);
  static final int HISTORY_DAYS = 35;

  private FraudTransactions() {}

  private static SplittableRandom random(long seed, int account, RunInfo run) {
    long mixed = seed * 0x9E3779B97F4A7C15L ^ (account + 1L) * 0xC2B2AE3D27D4EB4FL ^ run.runDate().toEpochDay();
    return new SplittableRandom(mixed);
  }

  /** Calls {@code out} with account {@code i}'s transactions, in time order. */
  public static void forAccount(int i, long seed, RunInfo run, Consumer<Row> out) {
    SplittableRandom r = random(seed, i, run);
    boolean risky = r.nextDouble() < 0.15;
    String id = FraudAccounts.accountId(i);
    String home = COUNTRIES[r.nextInt(COUNTRIES.length)];
    int count = 1 + r.nextInt(risky ? 140 : 70);
    double logMean = 3 + r.nextDouble() * (risky ? 2.5 : 1.5);
    int merchantPool = 1 + r.nextInt(40);
    long end = run.windowEnd().toEpochMilli();
    long span = Duration.ofDays(HISTORY_DAYS).toMillis();
    // Risky accounts burst at the end of the window: most of their activity is recent.
    long[] times = new long[count];
    for (int t = 0; t < count; t++) {
      double u = risky && r.nextDouble() < 0.5 ? 1 - r.nextDouble() * 0.1 : r.nextDouble();
      times[t] = end - span + (long) (u * (span - 1));
    }
    java.util.Arrays.sort(times);
    for (int t = 0; t < count; t++) {
      boolean abroad = r.nextDouble() < (risky ? 0.3 : 0.03);
      String country = abroad ? COUNTRIES[r.nextInt(COUNTRIES.length)] : home;
      double amount = Math.round(Math.exp(logMean + r.nextGaussian() * (risky ? 1.2 : 0.6)) * 100.0) / 100.0;
      String merchant = String.format(Locale.ROOT, "m-%05d", (i * 7919 + r.nextInt(merchantPool)) % 50_000);
      out.accept(Row.withSchema(SCHEMA)
          .addValues(id, new org.joda.time.Instant(times[t]), amount, country, merchant).build());
    }
  }

  /** Account {@code i}'s row of the accounts table: opened up to ten years before the run. */
  public static Row account(int i, long seed, RunInfo run) {
    SplittableRandom r = random(seed, i, run);
    boolean risky = r.nextDouble() < 0.15;
    long ageDays = 1 + new SplittableRandom(seed ^ (i * 31L + 17)).nextInt(risky ? 400 : 3650);
    Instant opened = run.windowEnd().minus(Duration.ofDays(ageDays));
    return Row.withSchema(ACCOUNTS_SCHEMA)
        .addValues(FraudAccounts.accountId(i), new org.joda.time.Instant(opened.toEpochMilli())).build();
  }

  /** All transactions of accounts {@code 0..accounts-1}, in memory (for tests and small samples). */
  public static List<Row> transactions(int accounts, long seed, RunInfo run) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      forAccount(i, seed, run, rows::add);
    }
    return rows;
  }

  /** The accounts table of accounts {@code 0..accounts-1}. */
  public static List<Row> accounts(int accounts, long seed, RunInfo run) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      rows.add(account(i, seed, run));
    }
    return rows;
  }

  /** Writes the transactions as CSV ({@code ts} as ISO-8601), streaming: fine for millions of accounts. */
  public static void writeCsv(int accounts, long seed, RunInfo run, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
        w.write("account_id,ts,amount,country,merchant\n");
        for (int i = 0; i < accounts; i++) {
          forAccount(i, seed, run, row -> {
            try {
              w.write(row.getString("account_id") + "," + Instant.ofEpochMilli(row.getDateTime("ts").getMillis())
                  + "," + row.getDouble("amount") + "," + row.getString("country") + "," + row.getString("merchant") + "\n");
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Generates the transactions inside the pipeline, in parallel by blocks of 1,000 accounts. */
  public static PTransform<PBegin, PCollection<Row>> read(int accounts, long seed, RunInfo run) {
    return new Generate(accounts, seed, run, false);
  }

  /** Generates the accounts table inside the pipeline. */
  public static PTransform<PBegin, PCollection<Row>> readAccounts(int accounts, long seed, RunInfo run) {
    return new Generate(accounts, seed, run, true);
  }

  private static final class Generate extends PTransform<PBegin, PCollection<Row>> {
    private static final long serialVersionUID = 1L;
    private static final int BLOCK = 1_000;
    private final int accounts;
    private final long seed;
    private final RunInfo run;
    private final boolean accountsTable;

    Generate(int accounts, long seed, RunInfo run, boolean accountsTable) {
      checkArgument(accounts >= 0, "accounts must be >= 0, but was %s", accounts);
      this.accounts = accounts;
      this.seed = seed;
      this.run = run;
      this.accountsTable = accountsTable;
    }

    @Override
    public PCollection<Row> expand(PBegin begin) {
      List<Integer> blocks = new ArrayList<>();
      for (int b = 0; b * BLOCK < accounts; b++) {
        blocks.add(b);
      }
      int n = accounts;
      long s = seed;
      RunInfo r = run;
      boolean table = accountsTable;
      return begin
          .apply("Blocks", Create.of(blocks).withCoder(org.apache.beam.sdk.coders.VarIntCoder.of()))
          .apply("Spread", Reshuffle.viaRandomKey())
          .apply("Generate", ParDo.of(new DoFn<Integer, Row>() {
            @ProcessElement
            public void process(@Element Integer block, OutputReceiver<Row> out) {
              for (int i = block * BLOCK; i < Math.min(n, (block + 1) * BLOCK); i++) {
                if (table) {
                  out.output(account(i, s, r));
                } else {
                  forAccount(i, s, r, out::output);
                }
              }
            }
          }))
          .setCoder(RowCoder.of(table ? ACCOUNTS_SCHEMA : SCHEMA));
    }
  }
}
