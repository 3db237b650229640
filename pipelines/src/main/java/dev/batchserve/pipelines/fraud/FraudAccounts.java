package dev.batchserve.pipelines.fraud;

import java.util.List;
import java.util.Locale;

/**
 * The accounts of the fraud transactions job: how an account is named and keyed, and the countries
 * its generated transactions come from ({@link FraudTransactions}). The account sample and the demo
 * model's training rows ({@code dev.batchserve.tools.samples.FraudSample}, in batchserve-tools) use
 * the same key, ids and countries, so that the demo model scores the job's aggregated accounts
 * ({@link AggregateAccountActivity}); a test in this module holds the two to each other.
 *
 * <pre>{@code
 * String id = FraudAccounts.accountId(42);   // "acct-000042"
 * Schema.builder().addStringField(FraudAccounts.KEY)...
 * }</pre>
 */
public final class FraudAccounts {
  /** The key column of an account row. */
  public static final String KEY = "account_id";
  /** The countries, in the order the generators draw them from. */
  public static final List<String> COUNTRIES = List.of("US", "GB", "DE", "FR", "BR", "IN", "NG", "JP");

  private FraudAccounts() {}

  /** The account id of the {@code i}-th account: {@code acct-000042}. */
  public static String accountId(long i) {
    return String.format(Locale.ROOT, "acct-%06d", i);
  }
}
