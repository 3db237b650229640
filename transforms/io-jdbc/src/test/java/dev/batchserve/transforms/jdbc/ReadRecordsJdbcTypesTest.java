package dev.batchserve.transforms.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.testing.PostgresServer;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;

/**
 * Issue 21 on a real PostgreSQL: JDBC dates, times, timestamps and numerics arrive as the values
 * Parquet's logical types give, and keys built from them have the same canonical text.
 */
public class ReadRecordsJdbcTypesTest {
  @ClassRule public static final PostgresServer PG = new PostgresServer();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  @BeforeClass
  public static void createTable() throws Exception {
    try (Connection c = PG.connect(); Statement s = c.createStatement()) {
      s.execute("create table ev (user_id text, ts timestamp(6), tstz timestamptz, d date, t time, amount numeric(12,2))");
      s.execute("insert into ev values ('u1', '2024-02-29 23:59:58.123456', '2024-03-01 00:59:58.123456+01',"
          + " '2024-02-29', '10:15:30.5', 12.30)");
    }
  }

  private JdbcRecords query(String sql) {
    return JdbcRecords.read(JdbcEndpoint.of(PG.jdbcUrl()).withUser(PG.user()), sql);
  }

  private static PCollection<String> keys(String name, ReadRecords.Result r) {
    return r.records().apply(name + "Keys", MapElements.into(TypeDescriptors.strings()).via(KV::getKey));
  }

  @Test
  public void jdbcDatesAndTimesArriveAsParquetsAndKeysAreCanonical() {
    ReadRecords.Result r = p.apply("ReadDates", query("select user_id, d, t, amount from ev").withKeyColumns("user_id", "d"));
    Schema s = r.schema();
    assertThat(s.getField("d").getType().getLogicalType().getIdentifier(),
        is(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE.getIdentifier()));
    PAssert.that(r.records()).containsInAnyOrder(KV.of("u1|2024-02-29",
        Row.withSchema(s).addValues("u1", LocalDate.of(2024, 2, 29), LocalTime.parse("10:15:30.5"),
            new BigDecimal("12.30")).build()));
    PAssert.that(r.deadLetters()).empty();
    // Timestamps keep their microseconds (Beam's own readRows would drop them): the key has the
    // canonical text of the exact instant, with or without a zone in the database.
    PAssert.that(keys("Ts", p.apply("ReadTs", query("select user_id, ts from ev").withKeyColumns("user_id", "ts"))))
        .containsInAnyOrder("u1|2024-02-29T23:59:58.123456Z");
    PAssert.that(keys("Tstz", p.apply("ReadTstz", query("select user_id, tstz from ev").withKeyColumns("user_id", "tstz"))))
        .containsInAnyOrder("u1|2024-02-29T23:59:58.123456Z");
    // Every digit, through text: the database's text of the timestamp, declared a key timestamp.
    PAssert.that(keys("Text", p.apply("ReadText", query("select user_id, ts::text as ts from ev")
            .withKeyColumns("user_id", "ts").withKeyTimestamp("ts"))))
        .containsInAnyOrder("u1|2024-02-29T23:59:58.123456Z");
    p.run().waitUntilFinish();
  }

  @Test
  public void jdbcTimestampsArriveAsExactInstantsLikeParquets() {
    ReadRecords.Result r = p.apply("ReadExact", query("select user_id, ts, tstz from ev").withKeyColumns("user_id"));
    Schema s = r.schema();
    assertThat(s.getField("ts").getType().getLogicalType().getIdentifier(),
        is(org.apache.beam.sdk.schemas.logicaltypes.NanosInstant.IDENTIFIER));
    assertThat(s.getField("tstz").getType().getLogicalType().getIdentifier(),
        is(org.apache.beam.sdk.schemas.logicaltypes.NanosInstant.IDENTIFIER));
    java.time.Instant exact = java.time.Instant.parse("2024-02-29T23:59:58.123456Z");
    PAssert.that(r.records()).containsInAnyOrder(KV.of("u1", Row.withSchema(s).addValues("u1", exact, exact).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void aNullJdbcTimestampStaysNull() throws Exception {
    try (Connection c = PG.connect(); Statement st = c.createStatement()) {
      st.execute("create table if not exists ev_null (user_id text, ts timestamp(6))");
      st.execute("delete from ev_null");
      st.execute("insert into ev_null values ('u2', null), ('u3', '2024-01-01 00:00:00.000001')");
    }
    ReadRecords.Result r = p.apply("ReadNull", query("select user_id, ts from ev_null").withKeyColumns("user_id"));
    Schema s = r.schema();
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("u2", Row.withSchema(s).addValues("u2", null).build()),
        KV.of("u3", Row.withSchema(s).addValues("u3", java.time.Instant.parse("2024-01-01T00:00:00.000001Z")).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void jdbcTimestampsDatesAndNumericsGiveTheFeaturesOfTheirValues() {
    FeatureSpec template = FeatureSpec.builder()
        .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_MONTH)
        .timestamp("tstz").dateParts(DatePart.HOUR, DatePart.DAY_OF_MONTH)
        .timestamp("d").dateParts(DatePart.HOUR, DatePart.DAY_OF_MONTH)
        .numeric("amount").passthrough()
        .build();
    FeatureSpec spec = FeatureSpec.fit(template, List.of(Map.of("ts", 0L, "tstz", 0L, "d", 0L, "amount", 1.0)));
    FeatureTransform.Result<String> out = p.apply(query("select user_id, ts, tstz, d, amount from ev")
        .withKeyColumns("user_id")).records().apply(FeatureTransform.of(spec));
    PAssert.that(out.vectors()).containsInAnyOrder(
        KV.of("u1", FeatureVector.of(new float[] {23f, 29f, 23f, 29f, 0f, 29f, 12.3f})));
    PAssert.that(out.deadLetters()).empty();
    p.run().waitUntilFinish();
  }
}
