package dev.batchserve.transforms.jdbc;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * The SQL each {@link JdbcDialect} generates. Snowflake has no offline server, so its statements are
 * checked here word for word; PostgreSQL and MySQL/MariaDB also run against real servers
 * ({@link JdbcSinkTest}, {@link MySqlSinkTest}).
 */
@RunWith(JUnit4.class)
public class JdbcDialectTest {
  private static final JdbcDialect SF = JdbcDialect.SNOWFLAKE;
  private static final JdbcDialect MY = JdbcDialect.MYSQL;

  @Test
  public void picksTheDialectAndDriverFromTheUrl() {
    assertThat(JdbcDialect.forUrl("jdbc:postgresql://db/x"), equalTo(JdbcDialect.POSTGRESQL));
    assertThat(JdbcDialect.forUrl("jdbc:mysql://aurora.cluster-xyz.eu-west-1.rds.amazonaws.com:3306/scores"),
        equalTo(MY));
    assertThat(JdbcDialect.forUrl("jdbc:mariadb://db/x"), equalTo(MY));
    assertThat(JdbcDialect.forUrl("jdbc:snowflake://acme-xy12345.snowflakecomputing.com/?db=SERVING"), equalTo(SF));
    assertThat(JdbcDialect.driverClass("jdbc:mysql://db/x"), equalTo("com.mysql.cj.jdbc.Driver"));
    assertThat(JdbcDialect.driverClass("jdbc:snowflake://a.snowflakecomputing.com/"),
        equalTo("net.snowflake.client.jdbc.SnowflakeDriver"));
    assertThat(JdbcDialect.driverClass("jdbc:h2:mem:x"), nullValue());
    assertThat(assertThrows(IllegalArgumentException.class, () -> JdbcDialect.forUrl("jdbc:h2:mem:x")).getMessage(),
        containsString("url must start with one of jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb:, jdbc:snowflake:"));
  }

  @Test
  public void snowflakeQuotesUpperCaseSoNamesMatchUnquotedOnes() {
    assertThat(SF.quote("fraud_scores__previous"), equalTo("\"FRAUD_SCORES__PREVIOUS\""));
    assertThat(SF.quote("key"), equalTo("\"KEY\""));
  }

  @Test
  public void snowflakeTables() {
    assertThat(SF.createTable("fraud_scores__fraud_daily_20261128"), equalTo(
        "CREATE TABLE \"FRAUD_SCORES__FRAUD_DAILY_20261128\" (KEY VARCHAR NOT NULL, SCORE FLOAT, SCORES ARRAY NOT NULL,"
            + " ITEMS ARRAY NOT NULL, LABEL VARCHAR, CONFIDENCE FLOAT, MODEL_NAME VARCHAR NOT NULL,"
            + " MODEL_VERSION VARCHAR NOT NULL, PREDICTION_TIMESTAMP TIMESTAMP_TZ NOT NULL, RUN_ID VARCHAR NOT NULL,"
            + " FALLBACK_REASON VARCHAR, PRIMARY KEY (KEY))"));
    assertThat(SF.createRuns("fraud_scores__runs"), equalTo(
        "CREATE TABLE IF NOT EXISTS \"FRAUD_SCORES__RUNS\" (RUN_ID VARCHAR NOT NULL PRIMARY KEY,"
            + " PREDICTION_TIMESTAMP TIMESTAMP_TZ NOT NULL, RECORDS NUMBER(19, 0) NOT NULL,"
            + " PUBLISHED_AT TIMESTAMP_TZ NOT NULL, SERVED BOOLEAN NOT NULL DEFAULT FALSE)"));
  }

  @Test
  public void passThroughColumnsAreNullableTextColumnsInEveryDialect() {
    List<String> extra = List.of("pass_through_row_id", "pass_through_label");
    assertThat(SF.createTable("t__r", extra), containsString(
        "FALLBACK_REASON VARCHAR, \"PASS_THROUGH_ROW_ID\" VARCHAR, \"PASS_THROUGH_LABEL\" VARCHAR, PRIMARY KEY (KEY))"));
    assertThat(SF.upsert("t__r", extra), containsString("? AS \"FALLBACK_REASON\", ? AS \"PASS_THROUGH_ROW_ID\","
        + " ? AS \"PASS_THROUGH_LABEL\") s"));
    assertThat(SF.upsert("t__r", extra), containsString(
        "t.\"PASS_THROUGH_LABEL\" = s.\"PASS_THROUGH_LABEL\" WHEN NOT MATCHED"));
    assertThat(MY.createTable("t__r", extra), containsString(
        "`fallback_reason` TEXT, `pass_through_row_id` TEXT, `pass_through_label` TEXT, PRIMARY KEY (`key`))"));
    assertThat(MY.upsert("t__r", extra), containsString("`pass_through_label`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
        + " ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"));
    assertThat(MY.upsert("t__r", extra), containsString(
        "`pass_through_label` = VALUES(`pass_through_label`)"));
    assertThat(MY.createTable("t__r", List.of()), equalTo(MY.createTable("t__r")));
  }

  /** Snowflake does not enforce primary keys: the upsert is a MERGE on the key, arrays parsed from JSON. */
  @Test
  public void snowflakeUpsertIsAMergeOnTheKey() {
    assertThat(SF.upsert("fraud_scores__fraud_daily_20261128"), equalTo(
        "MERGE INTO \"FRAUD_SCORES__FRAUD_DAILY_20261128\" t USING (SELECT ? AS \"KEY\", ? AS \"SCORE\","
            + " PARSE_JSON(?) AS \"SCORES\", PARSE_JSON(?) AS \"ITEMS\", ? AS \"LABEL\", ? AS \"CONFIDENCE\","
            + " ? AS \"MODEL_NAME\", ? AS \"MODEL_VERSION\", ? AS \"PREDICTION_TIMESTAMP\", ? AS \"RUN_ID\","
            + " ? AS \"FALLBACK_REASON\") s ON t.\"KEY\" = s.\"KEY\""
            + " WHEN MATCHED THEN UPDATE SET t.\"SCORE\" = s.\"SCORE\", t.\"SCORES\" = s.\"SCORES\","
            + " t.\"ITEMS\" = s.\"ITEMS\", t.\"LABEL\" = s.\"LABEL\", t.\"CONFIDENCE\" = s.\"CONFIDENCE\","
            + " t.\"MODEL_NAME\" = s.\"MODEL_NAME\", t.\"MODEL_VERSION\" = s.\"MODEL_VERSION\","
            + " t.\"PREDICTION_TIMESTAMP\" = s.\"PREDICTION_TIMESTAMP\", t.\"RUN_ID\" = s.\"RUN_ID\","
            + " t.\"FALLBACK_REASON\" = s.\"FALLBACK_REASON\""
            + " WHEN NOT MATCHED THEN INSERT (\"KEY\", \"SCORE\", \"SCORES\", \"ITEMS\", \"LABEL\", \"CONFIDENCE\","
            + " \"MODEL_NAME\", \"MODEL_VERSION\", \"PREDICTION_TIMESTAMP\", \"RUN_ID\", \"FALLBACK_REASON\")"
            + " VALUES (s.\"KEY\", s.\"SCORE\", s.\"SCORES\", s.\"ITEMS\", s.\"LABEL\", s.\"CONFIDENCE\","
            + " s.\"MODEL_NAME\", s.\"MODEL_VERSION\", s.\"PREDICTION_TIMESTAMP\", s.\"RUN_ID\", s.\"FALLBACK_REASON\")"));
  }

  /** SWAP WITH exchanges the tables in one statement; staging then holds the old run and becomes __previous. */
  @Test
  public void snowflakeSwapsTheStagingTableIn() {
    assertThat(SF.swap("fraud_scores", "fraud_scores__r2", "fraud_scores__previous", true,
        "fraud_risk", true, "SELECT \"KEY\" AS \"ACCOUNT_ID\", DATE '2026-11-28' AS \"SCORE_DATE\" FROM \"FRAUD_SCORES\""),
        equalTo(List.of(
            "DROP TABLE IF EXISTS \"FRAUD_SCORES__PREVIOUS\"",
            "ALTER TABLE \"FRAUD_SCORES__R2\" SWAP WITH \"FRAUD_SCORES\"",
            "ALTER TABLE \"FRAUD_SCORES__R2\" RENAME TO \"FRAUD_SCORES__PREVIOUS\"",
            "CREATE OR REPLACE VIEW \"FRAUD_RISK\" AS SELECT \"KEY\" AS \"ACCOUNT_ID\", DATE '2026-11-28' AS"
                + " \"SCORE_DATE\" FROM \"FRAUD_SCORES\"")));
    // The first run has nothing to swap with.
    assertThat(SF.swap("fraud_scores", "fraud_scores__r1", "fraud_scores__previous", false, null, false, null),
        equalTo(List.of(
            "DROP TABLE IF EXISTS \"FRAUD_SCORES__PREVIOUS\"",
            "ALTER TABLE \"FRAUD_SCORES__R1\" RENAME TO \"FRAUD_SCORES\"")));
  }

  @Test
  public void snowflakeRecordsTheServedRunWithAMerge() {
    assertThat(SF.unserveAll("fraud_scores__runs"), equalTo("UPDATE \"FRAUD_SCORES__RUNS\" SET served = false WHERE served"));
    assertThat(SF.recordServed("fraud_scores__runs"), equalTo(
        "MERGE INTO \"FRAUD_SCORES__RUNS\" t USING (SELECT ? AS RUN_ID, ? AS PREDICTION_TIMESTAMP, ? AS RECORDS) s"
            + " ON t.RUN_ID = s.RUN_ID WHEN MATCHED THEN UPDATE SET t.PREDICTION_TIMESTAMP = s.PREDICTION_TIMESTAMP,"
            + " t.RECORDS = s.RECORDS, t.PUBLISHED_AT = CURRENT_TIMESTAMP(), t.SERVED = TRUE"
            + " WHEN NOT MATCHED THEN INSERT (RUN_ID, PREDICTION_TIMESTAMP, RECORDS, PUBLISHED_AT, SERVED)"
            + " VALUES (s.RUN_ID, s.PREDICTION_TIMESTAMP, s.RECORDS, CURRENT_TIMESTAMP(), TRUE)"));
  }

  @Test
  public void arraysBecomeJsonWhereTheDatabaseHasNoArrays() {
    assertThat(JdbcDialect.jsonScores(new float[] {0.25f, Float.NaN, 1f}), equalTo("[0.25,null,1.0]"));
    assertThat(JdbcDialect.json(List.of("a\"b", "c")), equalTo("[\"a\\\"b\",\"c\"]"));
  }

  /** One RENAME TABLE moves the table, staging and the view at once (MySQL applies it atomically). */
  @Test
  public void mysqlSwapsWithOneRenameTable() {
    assertThat(MY.swap("fraud_scores", "fraud_scores__r2", "fraud_scores__previous", true,
        "fraud_risk", true, "SELECT `key` AS `account_id` FROM `fraud_scores`"), equalTo(List.of(
            "DROP TABLE IF EXISTS `fraud_scores__previous`",
            "DROP VIEW IF EXISTS `fraud_risk__next`, `fraud_risk__old`",
            "CREATE VIEW `fraud_risk__next` AS SELECT `key` AS `account_id` FROM `fraud_scores`",
            "RENAME TABLE `fraud_scores` TO `fraud_scores__previous`, `fraud_scores__r2` TO `fraud_scores`,"
                + " `fraud_risk` TO `fraud_risk__old`, `fraud_risk__next` TO `fraud_risk`",
            "DROP VIEW IF EXISTS `fraud_risk__old`")));
    assertThat(MY.upsert("t__r"), containsString(
        "ON DUPLICATE KEY UPDATE `score` = VALUES(`score`), `scores` = VALUES(`scores`)"));
  }
}
