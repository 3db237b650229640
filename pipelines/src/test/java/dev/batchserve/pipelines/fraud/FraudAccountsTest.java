package dev.batchserve.pipelines.fraud;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.batchserve.tools.samples.FraudSample;
import org.junit.Test;

/**
 * The transactions job's accounts ({@link FraudAccounts}) and the fraud sample the demo model is
 * trained on ({@link FraudSample}, batchserve-tools, which this module's main code cannot use)
 * name, key and place accounts alike; otherwise the demo model would score the job's accounts on
 * features it never saw.
 */
public class FraudAccountsTest {
  @Test
  public void theSampleAndTheJobAgreeOnKeyIdsAndCountries() {
    assertThat(FraudSample.KEY, is(FraudAccounts.KEY));
    assertThat(FraudSample.COUNTRIES, is(FraudAccounts.COUNTRIES));
    for (long i : new long[] {0, 7, 42, 999_999}) {
      assertThat(FraudSample.accountId(i), is(FraudAccounts.accountId(i)));
    }
    assertThat(FraudSample.generate(3, 42).get(2).get(FraudSample.KEY), is(FraudAccounts.accountId(2)));
    assertThat(AggregateAccountActivity.FEATURES.getField(0).getName(), is(FraudSample.KEY));
  }
}
