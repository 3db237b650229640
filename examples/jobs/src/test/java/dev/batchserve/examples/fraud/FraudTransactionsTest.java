package dev.batchserve.examples.fraud;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;
import org.junit.Test;

/** The in-pipeline transaction generator of the fraud demo job. */
public class FraudTransactionsTest {
  private static final RunInfo RUN = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  @Test
  public void theGeneratorIsDeterministicPerAccountAndCovers35Days() {
    List<Row> five = FraudTransactions.transactions(5, 42, RUN);
    List<Row> ten = FraudTransactions.transactions(10, 42, RUN);
    assertThat(ten.subList(0, five.size()), is(five));
    assertThat(FraudTransactions.transactions(5, 42, RUN), is(five));
    long end = RUN.windowEnd().toEpochMilli();
    List<Long> ts = ten.stream().map(r -> r.getDateTime("ts").getMillis()).collect(Collectors.toList());
    assertThat(ts, everyItem(lessThan(end)));
    assertThat(ts, everyItem(greaterThanOrEqualTo(end - Duration.ofDays(35).toMillis())));
    assertThat(FraudTransactions.accounts(3, 42, RUN).get(2).getString("account_id"), is("acct-000002"));
  }
}
