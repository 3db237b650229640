package dev.batchserve.pipelines.fraud;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

public class AggregateAccountActivityTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final RunInfo RUN = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  private static Row tx(String account, String ts, double amount, String country, String merchant) {
    return Row.withSchema(AggregateAccountActivity.TRANSACTIONS)
        .addValues(account, new org.joda.time.Instant(Instant.parse(ts).toEpochMilli()), amount, country, merchant).build();
  }

  private static Row account(String account, String opened) {
    return Row.withSchema(AggregateAccountActivity.ACCOUNTS)
        .addValues(account, new org.joda.time.Instant(Instant.parse(opened).toEpochMilli())).build();
  }

  /** Hand-checked accounts around every window edge (the window ends 2026-11-29T00:00Z, exclusive). */
  static List<Row> handChecked() {
    return List.of(
        // a: 4 transactions in the 30 days (Oct 30 00:00 is the first instant in), 2 outside.
        tx("a", "2026-11-28T10:00:00Z", 30, "US", "m1"),
        tx("a", "2026-11-25T10:00:00Z", 10, "US", "m2"),
        tx("a", "2026-11-10T00:00:00Z", 20, "GB", "m1"),
        tx("a", "2026-10-30T00:00:00Z", 50, "FR", "m3"),
        tx("a", "2026-10-29T23:59:59.999Z", 1000, "NG", "m9"),
        tx("a", "2026-11-29T00:00:00Z", 999, "NG", "m9"),
        // b: a single transaction, the last millisecond of the window.
        tx("b", "2026-11-28T23:59:59.999Z", 12.5, "BR", "m7"),
        // c: home DE, the latest is in JP (geo change); not in the accounts table.
        tx("c", "2026-11-27T12:00:00Z", 5, "DE", "m4"),
        tx("c", "2026-11-26T12:00:00Z", 7, "DE", "m4"),
        tx("c", "2026-11-28T01:00:00Z", 100, "JP", "m5"),
        // d: a tie between GB and US is broken alphabetically (GB); the latest is GB.
        tx("d", "2026-11-01T00:00:00Z", 1, "US", "m1"),
        tx("d", "2026-11-02T00:00:00Z", 3, "GB", "m1"),
        // e: only activity older than 30 days: no row.
        tx("e", "2026-10-01T00:00:00Z", 3, "GB", "m1"));
  }

  static List<Row> accounts() {
    return List.of(account("a", "2026-01-01T00:00:00Z"), account("b", "2026-11-20T06:00:00Z"),
        account("d", "2016-11-29T00:00:00Z"), account("e", "2020-01-01T00:00:00Z"));
  }

  static void assertHandChecked(Iterable<KV<String, Row>> out) {
    Map<String, Row> byKey = new HashMap<>();
    out.forEach(kv -> byKey.put(kv.getKey(), kv.getValue()));
    assertThat(byKey.keySet(), is(java.util.Set.of("a", "b", "c", "d")));
    Row a = byKey.get("a");
    assertThat(a.getString("account_id"), is("a"));
    assertThat(a.getInt64("txn_count_1d"), is(1L));
    assertThat(a.getInt64("txn_count_7d"), is(2L));
    assertThat(a.getInt64("txn_count_30d"), is(4L));
    assertThat(a.getDouble("amount_mean_30d"), is(27.5));
    assertThat(a.getDouble("amount_max_30d"), is(50.0));
    // deviations 22.5, -7.5, -17.5, 2.5: squares sum to 875, over n - 1 = 3
    assertThat(a.getDouble("amount_std_30d"), closeTo(17.07825127659933, 1e-12));
    assertThat(a.getInt64("distinct_countries_30d"), is(3L));
    assertThat(a.getInt64("distinct_merchants_30d"), is(3L));
    assertThat(a.getString("home_country"), is("US"));
    assertThat(a.getBoolean("geo_change"), is(false));
    assertThat(a.getInt64("account_age_days"), is(332L)); // 2026-01-01 to 2026-11-29

    Row b = byKey.get("b");
    assertThat(List.of(b.getInt64("txn_count_1d"), b.getInt64("txn_count_7d"), b.getInt64("txn_count_30d")), is(List.of(1L, 1L, 1L)));
    assertThat(b.getDouble("amount_mean_30d"), is(12.5));
    assertThat(b.getDouble("amount_max_30d"), is(12.5));
    assertThat(b.getDouble("amount_std_30d"), nullValue());
    assertThat(b.getString("home_country"), is("BR"));
    assertThat(b.getBoolean("geo_change"), is(false));
    assertThat(b.getInt64("account_age_days"), is(8L)); // 8 days 18 hours: whole days

    Row c = byKey.get("c");
    assertThat(List.of(c.getInt64("txn_count_1d"), c.getInt64("txn_count_7d"), c.getInt64("txn_count_30d")), is(List.of(1L, 3L, 3L)));
    assertThat(c.getDouble("amount_mean_30d"), closeTo(112.0 / 3, 1e-12));
    assertThat(c.getDouble("amount_max_30d"), is(100.0));
    assertThat(c.getDouble("amount_std_30d"), closeTo(54.28013755816517, 1e-12));
    assertThat(c.getInt64("distinct_countries_30d"), is(2L));
    assertThat(c.getInt64("distinct_merchants_30d"), is(2L));
    assertThat(c.getString("home_country"), is("DE"));
    assertThat(c.getBoolean("geo_change"), is(true));
    assertThat(c.getValue("account_age_days"), nullValue());

    Row d = byKey.get("d");
    assertThat(d.getString("home_country"), is("GB"));
    assertThat(d.getBoolean("geo_change"), is(false));
    assertThat(d.getInt64("txn_count_7d"), is(0L));
    assertThat(d.getInt64("account_age_days"), is(3652L));
  }

  @Test
  public void exactAggregatesForHandCheckedAccounts() {
    PCollection<Row> txns = p.apply("Tx", Create.of(handChecked()).withCoder(RowCoder.of(AggregateAccountActivity.TRANSACTIONS)));
    PCollection<Row> acc = p.apply("Acc", Create.of(accounts()).withCoder(RowCoder.of(AggregateAccountActivity.ACCOUNTS)));
    AggregateAccountActivity.Result r = txns.apply(AggregateAccountActivity.of(RUN).withAccounts(acc));
    PAssert.that(r.rows()).satisfies(out -> {
      assertHandChecked(out);
      return null;
    });
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void csvTextRowsGiveTheSameAggregatesAndBadRowsAreDeadLetters() {
    Schema text = Schema.builder().addNullableField("account_id", Schema.FieldType.STRING)
        .addNullableField("ts", Schema.FieldType.STRING).addNullableField("amount", Schema.FieldType.STRING)
        .addNullableField("country", Schema.FieldType.STRING).addNullableField("merchant", Schema.FieldType.STRING).build();
    List<Row> rows = new ArrayList<>();
    for (Row t : handChecked()) {
      rows.add(Row.withSchema(text).addValues(t.getString("account_id"),
          Instant.ofEpochMilli(t.getDateTime("ts").getMillis()).toString(), Double.toString(t.getDouble("amount")),
          t.getString("country"), t.getString("merchant")).build());
    }
    rows.add(Row.withSchema(text).addValues("x", "2026-11-28T00:00:00Z", null, "US", "m1").build());
    rows.add(Row.withSchema(text).addValues("y", "yesterday", "1.0", "US", "m1").build());
    rows.add(Row.withSchema(text).addValues("z", "2026-11-28T00:00:00Z", "12,50", "US", "m1").build());
    Schema accText = Schema.builder().addStringField("account_id").addStringField("opened").build();
    List<Row> acc = new ArrayList<>();
    for (Row a : accounts()) {
      acc.add(Row.withSchema(accText).addValues(a.getString("account_id"),
          Instant.ofEpochMilli(a.getDateTime("opened").getMillis()).toString()).build());
    }
    AggregateAccountActivity.Result r = p.apply("Tx", Create.of(rows).withCoder(RowCoder.of(text)))
        .apply(AggregateAccountActivity.of(RUN)
            .withAccounts(p.apply("Acc", Create.of(acc).withCoder(RowCoder.of(accText)))));
    PAssert.that(r.rows()).satisfies(out -> {
      assertHandChecked(out);
      return null;
    });
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> byKey = new HashMap<>();
      for (DeadLetter d : dead) {
        assertThat(d.getStep(), is("aggregate"));
        byKey.put(d.getKey(), d.getField() + ":" + d.getReason());
      }
      assertThat(byKey, is(Map.of("x", "amount:missing_value", "y", "ts:invalid_value", "z", "amount:invalid_value")));
      return null;
    });
    p.run().waitUntilFinish();
  }
}
