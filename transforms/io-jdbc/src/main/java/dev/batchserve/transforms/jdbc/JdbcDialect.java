package dev.batchserve.transforms.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.values.Prediction;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;
import java.util.stream.Collectors;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The SQL one database speaks for {@link JdbcSink}: column types, the upsert into staging, the
 * per-table lock, whether a table exists, and how a staging table replaces the served one.
 *
 * <ul>
 *   <li>{@link #POSTGRESQL} ({@code jdbc:postgresql:}): DDL is transactional, so the swap (two
 *       renames), the view and the run record commit together. Arrays are {@code real[]}/{@code text[]}.
 *   <li>{@link #MYSQL} ({@code jdbc:mysql:}, {@code jdbc:mariadb:}; MySQL, Aurora MySQL, MariaDB): DDL
 *       commits implicitly, but one {@code RENAME TABLE t TO t__previous, staging TO t, ...} is atomic,
 *       views included. Arrays are JSON; identifiers are quoted with backticks ({@code key} is reserved).
 *   <li>{@link #SNOWFLAKE} ({@code jdbc:snowflake:}): {@code ALTER TABLE staging SWAP WITH t} is
 *       atomic; the view is replaced right after it. Arrays are {@code ARRAY}; there is no advisory lock.
 * </ul>
 *
 * <p><b>Why this class is long.</b> The three dialects (PostgreSQL, MySQL/MariaDB, Snowflake) are
 * nested in one file on purpose: each implements the same fifteen statements, and a reader who
 * changes one (the swap, the lock, a column type) sees the other two beside it; apart they would be
 * three classes of 120 to 150 lines whose differences are harder to compare.
 */
abstract class JdbcDialect implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  static final JdbcDialect POSTGRESQL = new Postgresql();
  static final JdbcDialect MYSQL = new Mysql();
  static final JdbcDialect SNOWFLAKE = new Snowflake();

  /** The URL prefixes the sink writes to, for error messages. */
  static final String SUPPORTED = "jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb:, jdbc:snowflake:";

  /** The dialect of a sink URL; refuses a database the sink has no swap for. */
  static JdbcDialect forUrl(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    if (u.startsWith("jdbc:postgresql:")) {
      return POSTGRESQL;
    }
    if (u.startsWith("jdbc:mysql:") || u.startsWith("jdbc:mariadb:")) {
      return MYSQL;
    }
    if (u.startsWith("jdbc:snowflake:")) {
      return SNOWFLAKE;
    }
    throw new IllegalArgumentException("the JDBC sink writes to PostgreSQL, MySQL/MariaDB and Snowflake: url must"
        + " start with one of " + SUPPORTED + ", but was '" + url + "'");
  }

  /** The JDBC driver class for a URL's database, or null when DriverManager should find it. */
  static @Nullable String driverClass(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    if (u.startsWith("jdbc:postgresql:")) {
      return "org.postgresql.Driver";
    }
    if (u.startsWith("jdbc:mysql:")) {
      return "com.mysql.cj.jdbc.Driver";
    }
    if (u.startsWith("jdbc:mariadb:")) {
      return "org.mariadb.jdbc.Driver";
    }
    if (u.startsWith("jdbc:snowflake:")) {
      return "net.snowflake.client.jdbc.SnowflakeDriver";
    }
    return null;
  }

  /** The Maven artifact that holds a URL's driver, for error messages. */
  static String driverArtifact(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    if (u.startsWith("jdbc:postgresql:")) {
      return "org.postgresql:postgresql";
    }
    if (u.startsWith("jdbc:mysql:")) {
      return "com.mysql:mysql-connector-j";
    }
    if (u.startsWith("jdbc:mariadb:")) {
      return "org.mariadb.jdbc:mariadb-java-client";
    }
    if (u.startsWith("jdbc:snowflake:")) {
      return "net.snowflake:snowflake-jdbc";
    }
    return "the database's JDBC driver";
  }

  abstract String name();

  /** A quoted identifier (names are already checked to be {@code [a-z0-9_]}). */
  abstract String quote(String identifier);

  String createTable(String name) {
    return createTable(name, List.of());
  }

  /**
   * The staging table's DDL; {@code extraColumns} (the pass-through columns' flat names, already
   * checked identifiers) are nullable text columns after {@code fallback_reason}.
   */
  abstract String createTable(String name, List<String> extraColumns);

  /** The type of a nullable text column ({@code extraColumns}). */
  abstract String textType();

  /** {@code , <c> <text type>} for each extra column: what {@link #createTable} inserts before the key. */
  String extraColumnsDdl(List<String> extraColumns) {
    StringBuilder b = new StringBuilder();
    for (String c : extraColumns) {
      b.append(", ").append(quote(c)).append(' ').append(textType());
    }
    return b.toString();
  }

  /** {@code <t>__runs}: run_id, prediction_timestamp, records, published_at, served. */
  abstract String createRuns(String runsTable);

  String upsert(String staging) {
    return upsert(staging, List.of());
  }

  /**
   * The statement JdbcIO runs per row: an upsert by key into staging, so a retried bundle adds
   * nothing; {@code extraColumns} are bound after {@link #COLUMNS} ({@link #setRow}).
   */
  abstract String upsert(String staging, List<String> extraColumns);

  /** {@link #COLUMNS} and then {@code extraColumns}. */
  static List<String> allColumns(List<String> extraColumns) {
    List<String> all = new ArrayList<>(List.of(COLUMNS));
    all.addAll(extraColumns);
    return all;
  }

  /** {@code ?, ?, ...}, one per column. */
  static String placeholders(int n) {
    return String.join(", ", java.util.Collections.nCopies(n, "?"));
  }

  /**
   * Binds one row for {@link #upsert}: parameters in {@link JdbcSink} column order, then
   * {@code extraValues} (text or null) in the order of the upsert's extra columns.
   */
  void setRow(PreparedStatement s, String key, Prediction p, List<@Nullable String> extraValues) throws SQLException {
    setRow(s, key, p);
    for (int i = 0; i < extraValues.size(); i++) {
      String v = extraValues.get(i);
      if (v == null) {
        s.setNull(COLUMNS.length + 1 + i, Types.VARCHAR);
      } else {
        s.setString(COLUMNS.length + 1 + i, v);
      }
    }
  }

  /** Binds one row for {@link #upsert}, parameters in {@link JdbcSink} column order. */
  void setRow(PreparedStatement s, String key, Prediction p) throws SQLException {
    s.setString(1, key);
    setDouble(s, 2, p.getScore());
    setScores(s, 3, p.getScores());
    setItems(s, 4, p.getItems());
    s.setString(5, p.getLabel());
    setDouble(s, 6, p.getConfidence());
    s.setString(7, p.getModelName());
    s.setString(8, p.getModelVersion());
    setInstant(s, 9, Instant.ofEpochMilli(p.getPredictionTimestampMillis()));
    s.setString(10, p.getRunId());
    s.setString(11, p.getFallbackReason());
  }

  abstract void setScores(PreparedStatement s, int i, float[] scores) throws SQLException;

  abstract void setItems(PreparedStatement s, int i, List<String> items) throws SQLException;

  abstract void setInstant(PreparedStatement s, int i, Instant t) throws SQLException;

  abstract Instant getInstant(ResultSet r, int i) throws SQLException;

  /** Whether DDL takes part in transactions (then the whole publish commits at once). */
  abstract boolean transactionalDdl();

  /** Serializes the publish of one table across runs; {@link #unlock} undoes it where needed. */
  abstract void lock(Connection c, String table) throws SQLException;

  void unlock(Connection c, String table) throws SQLException {}

  abstract boolean exists(Connection c, String name) throws SQLException;

  /** Whether {@code information_schema.tables} lists {@code name} in the schema {@code schemaFunction} names. */
  static boolean inInformationSchema(Connection c, String schemaFunction, String name) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM information_schema.tables"
        + " WHERE table_schema = " + schemaFunction + " AND table_name = ?")) {
      s.setString(1, name);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1) > 0;
      }
    }
  }

  /**
   * The statements that make {@code staging} the served {@code table}, keep the served one as
   * {@code previous} (dropped first), and point the serving view (when {@code createView} is set) at
   * the new run.
   *
   * @param tableExists whether {@code table} exists (the first run has nothing to keep)
   * @param viewExists whether {@code view} exists
   * @param viewSelect the view's {@code SELECT ... FROM <table>}, or null without a view
   */
  abstract List<String> swap(String table, String staging, String previous, boolean tableExists,
      @Nullable String view, boolean viewExists, @Nullable String viewSelect);

  /** Marks every run not served. */
  String unserveAll(String runsTable) {
    return "UPDATE " + quote(runsTable) + " SET served = false WHERE served";
  }

  /** Records a run as the served one: (run_id, prediction_timestamp, records) are bound. */
  String recordServed(String runsTable) {
    return recordRun(runsTable, true);
  }

  /**
   * Records a published run, served or not (a backfill, whose rows stay in its own table
   * {@code <t>__<run>}), with {@code published_at} now: (run_id, prediction_timestamp, records) are bound.
   */
  abstract String recordRun(String runsTable, boolean served);

  /** Its {@code DATE 'yyyy-mm-dd'} literal. */
  String dateLiteral(java.time.LocalDate d) {
    return "DATE '" + d + "'";
  }

  static void setDouble(PreparedStatement s, int i, @Nullable Double v) throws SQLException {
    if (v == null) {
      s.setNull(i, Types.DOUBLE);
    } else {
      s.setDouble(i, v);
    }
  }

  /** A JSON array of the scores; a non-finite score (JSON has none) becomes null. */
  static String jsonScores(float[] scores) {
    List<Object> out = new ArrayList<>(scores.length);
    for (float f : scores) {
      out.add(Float.isFinite(f) ? (Object) f : null);
    }
    return json(out);
  }

  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  String columns(List<String> names) {
    return columns(names.toArray(new String[0]));
  }

  String columns(String... names) {
    List<String> q = new ArrayList<>();
    for (String n : names) {
      q.add(quote(n));
    }
    return String.join(", ", q);
  }

  static final String[] COLUMNS = {"key", "score", "scores", "items", "label", "confidence", "model_name",
      "model_version", "prediction_timestamp", "run_id", "fallback_reason"};

  private static final class Postgresql extends JdbcDialect {
    private static final long serialVersionUID = 1L;

    @Override
    String name() {
      return "PostgreSQL";
    }

    /**
     * The name itself: every name the sink uses is checked to be lower case {@code [a-z_][a-z0-9_]*},
     * which PostgreSQL folds to itself, and none it generates is reserved; the SQL stays what
     * operators see in {@code pg_stat_activity} today.
     */
    @Override
    String quote(String identifier) {
      return identifier;
    }

    @Override
    String textType() {
      return "text";
    }

    @Override
    String createTable(String name, List<String> extraColumns) {
      return "CREATE TABLE " + quote(name) + " ("
          + "key text NOT NULL, score double precision, scores real[] NOT NULL, items text[] NOT NULL,"
          + " label text, confidence double precision, model_name text NOT NULL, model_version text NOT NULL,"
          + " prediction_timestamp timestamptz NOT NULL, run_id text NOT NULL, fallback_reason text"
          + extraColumnsDdl(extraColumns) + ","
          + " CONSTRAINT " + quote(JdbcSink.identifier(name + "_pkey")) + " PRIMARY KEY (key))";
    }

    @Override
    String createRuns(String runsTable) {
      return "CREATE TABLE IF NOT EXISTS " + quote(runsTable) + " (run_id text PRIMARY KEY,"
          + " prediction_timestamp timestamptz NOT NULL, records bigint NOT NULL,"
          + " published_at timestamptz NOT NULL DEFAULT now(), served boolean NOT NULL DEFAULT false)";
    }

    @Override
    String upsert(String staging, List<String> extraColumns) {
      List<String> all = allColumns(extraColumns);
      return "INSERT INTO " + quote(staging) + " (" + columns(all) + ") VALUES (" + placeholders(all.size()) + ")"
          + " ON CONFLICT (key) DO UPDATE SET " + all.subList(1, all.size()).stream()
              .map(c -> quote(c) + " = EXCLUDED." + quote(c)).collect(Collectors.joining(", "));
    }

    @Override
    void setScores(PreparedStatement s, int i, float[] scores) throws SQLException {
      Float[] boxed = new Float[scores.length];
      for (int j = 0; j < scores.length; j++) {
        boxed[j] = scores[j];
      }
      s.setArray(i, s.getConnection().createArrayOf("float4", boxed));
    }

    @Override
    void setItems(PreparedStatement s, int i, List<String> items) throws SQLException {
      s.setArray(i, s.getConnection().createArrayOf("text", items.toArray(new String[0])));
    }

    @Override
    void setInstant(PreparedStatement s, int i, Instant t) throws SQLException {
      s.setObject(i, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
    }

    @Override
    Instant getInstant(ResultSet r, int i) throws SQLException {
      return r.getObject(i, OffsetDateTime.class).toInstant();
    }

    @Override
    boolean transactionalDdl() {
      return true;
    }

    /**
     * A transaction-level advisory lock: {@code CREATE TABLE IF NOT EXISTS} is not safe against a
     * concurrent twin, and two publishes must not interleave. Readers never take it.
     */
    @Override
    void lock(Connection c, String table) throws SQLException {
      try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
        s.setString(1, "batchserve:" + table);
        s.executeQuery().close();
      }
    }

    @Override
    boolean exists(Connection c, String name) throws SQLException {
      try (PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
        s.setString(1, quote(name));
        try (ResultSet r = s.executeQuery()) {
          r.next();
          return r.getBoolean(1);
        }
      }
    }

    @Override
    List<String> swap(String table, String staging, String previous, boolean tableExists,
        @Nullable String view, boolean viewExists, @Nullable String viewSelect) {
      List<String> sql = new ArrayList<>();
      if (view != null) {
        // A PostgreSQL view follows the table it was made on, which is about to become __previous.
        sql.add("DROP VIEW IF EXISTS " + quote(view));
      }
      sql.add("DROP TABLE IF EXISTS " + quote(previous));
      if (tableExists) {
        sql.add("ALTER TABLE " + quote(table) + " RENAME TO " + quote(previous));
        sql.add("ALTER INDEX IF EXISTS " + quote(JdbcSink.identifier(table + "_pkey")) + " RENAME TO "
            + quote(JdbcSink.identifier(previous + "_pkey")));
      }
      sql.add("ALTER TABLE " + quote(staging) + " RENAME TO " + quote(table));
      sql.add("ALTER INDEX " + quote(JdbcSink.identifier(staging + "_pkey")) + " RENAME TO "
          + quote(JdbcSink.identifier(table + "_pkey")));
      if (view != null && viewSelect != null) {
        sql.add("CREATE VIEW " + quote(view) + " AS " + viewSelect);
      }
      return sql;
    }

    @Override
    String recordRun(String runsTable, boolean served) {
      return "INSERT INTO " + quote(runsTable)
          + " (run_id, prediction_timestamp, records, published_at, served) VALUES (?, ?, ?, now(), " + served + ")"
          + " ON CONFLICT (run_id) DO UPDATE SET prediction_timestamp = EXCLUDED.prediction_timestamp,"
          + " records = EXCLUDED.records, published_at = now(), served = " + served;
    }
  }

  private static final class Mysql extends JdbcDialect {
    private static final long serialVersionUID = 1L;

    @Override
    String name() {
      return "MySQL/MariaDB";
    }

    @Override
    String quote(String identifier) {
      return "`" + identifier + "`";
    }

    @Override
    String textType() {
      return "TEXT";
    }

    @Override
    String createTable(String name, List<String> extraColumns) {
      return "CREATE TABLE " + quote(name) + " ("
          + "`key` VARCHAR(255) NOT NULL, `score` DOUBLE, `scores` JSON NOT NULL, `items` JSON NOT NULL,"
          + " `label` TEXT, `confidence` DOUBLE, `model_name` VARCHAR(255) NOT NULL,"
          + " `model_version` VARCHAR(255) NOT NULL, `prediction_timestamp` DATETIME(3) NOT NULL,"
          + " `run_id` VARCHAR(255) NOT NULL, `fallback_reason` TEXT" + extraColumnsDdl(extraColumns)
          + ", PRIMARY KEY (`key`))"
          + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
    }

    @Override
    String createRuns(String runsTable) {
      return "CREATE TABLE IF NOT EXISTS " + quote(runsTable) + " (`run_id` VARCHAR(255) NOT NULL PRIMARY KEY,"
          + " `prediction_timestamp` DATETIME(3) NOT NULL, `records` BIGINT NOT NULL,"
          + " `published_at` DATETIME(3) NOT NULL, `served` BOOLEAN NOT NULL DEFAULT false)"
          + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
    }

    @Override
    String upsert(String staging, List<String> extraColumns) {
      List<String> all = allColumns(extraColumns);
      return "INSERT INTO " + quote(staging) + " (" + columns(all) + ") VALUES (" + placeholders(all.size()) + ")"
          + " ON DUPLICATE KEY UPDATE " + all.subList(1, all.size()).stream()
              .map(c -> quote(c) + " = VALUES(" + quote(c) + ")").collect(Collectors.joining(", "));
    }

    @Override
    void setScores(PreparedStatement s, int i, float[] scores) throws SQLException {
      s.setString(i, jsonScores(scores));
    }

    @Override
    void setItems(PreparedStatement s, int i, List<String> items) throws SQLException {
      s.setString(i, json(items));
    }

    /** DATETIME has no zone: instants are stored as UTC wall-clock times. */
    @Override
    void setInstant(PreparedStatement s, int i, Instant t) throws SQLException {
      s.setObject(i, LocalDateTime.ofInstant(t, ZoneOffset.UTC));
    }

    @Override
    Instant getInstant(ResultSet r, int i) throws SQLException {
      return r.getObject(i, LocalDateTime.class).toInstant(ZoneOffset.UTC);
    }

    @Override
    boolean transactionalDdl() {
      return false;
    }

    /** A named lock ({@code GET_LOCK}) held by this session until {@link #unlock} or its end. */
    @Override
    void lock(Connection c, String table) throws SQLException {
      try (PreparedStatement s = c.prepareStatement("SELECT GET_LOCK(?, 300)")) {
        s.setString(1, "batchserve:" + table);
        try (ResultSet r = s.executeQuery()) {
          r.next();
          if (r.getInt(1) != 1) {
            throw new SQLException("could not take the lock batchserve:" + table + " within 300 s: another run"
                + " of the table " + table + " holds it", "55P03");
          }
        }
      }
    }

    @Override
    void unlock(Connection c, String table) throws SQLException {
      try (PreparedStatement s = c.prepareStatement("SELECT RELEASE_LOCK(?)")) {
        s.setString(1, "batchserve:" + table);
        s.executeQuery().close();
      }
    }

    @Override
    boolean exists(Connection c, String name) throws SQLException {
      return inInformationSchema(c, "DATABASE()", name);
    }

    /**
     * One atomic {@code RENAME TABLE}: the served table becomes {@code previous}, staging becomes the
     * served table, and the view made for this run ({@code <view>__next}, on the served table's name)
     * takes the view's name. A MySQL view names its table, so it reads the new table once renamed.
     */
    @Override
    List<String> swap(String table, String staging, String previous, boolean tableExists,
        @Nullable String view, boolean viewExists, @Nullable String viewSelect) {
      List<String> sql = new ArrayList<>();
      sql.add("DROP TABLE IF EXISTS " + quote(previous));
      if (!tableExists) {
        // The first run: nobody reads the table or the view yet.
        sql.add("RENAME TABLE " + quote(staging) + " TO " + quote(table));
        if (view != null && viewSelect != null) {
          sql.add("CREATE OR REPLACE VIEW " + quote(view) + " AS " + viewSelect);
        }
        return sql;
      }
      List<String> renames = new ArrayList<>();
      renames.add(quote(table) + " TO " + quote(previous));
      renames.add(quote(staging) + " TO " + quote(table));
      String old = null;
      if (view != null && viewSelect != null) {
        String next = JdbcSink.identifier(view + "__next");
        old = JdbcSink.identifier(view + "__old");
        sql.add("DROP VIEW IF EXISTS " + quote(next) + ", " + quote(old));
        sql.add("CREATE VIEW " + quote(next) + " AS " + viewSelect);
        if (viewExists) {
          renames.add(quote(view) + " TO " + quote(old));
        }
        renames.add(quote(next) + " TO " + quote(view));
      }
      sql.add("RENAME TABLE " + String.join(", ", renames));
      if (old != null) {
        sql.add("DROP VIEW IF EXISTS " + quote(old));
      }
      return sql;
    }

    @Override
    String recordRun(String runsTable, boolean served) {
      return "INSERT INTO " + quote(runsTable)
          + " (`run_id`, `prediction_timestamp`, `records`, `published_at`, `served`)"
          + " VALUES (?, ?, ?, UTC_TIMESTAMP(3), " + served + ") ON DUPLICATE KEY UPDATE"
          + " `prediction_timestamp` = VALUES(`prediction_timestamp`), `records` = VALUES(`records`),"
          + " `published_at` = VALUES(`published_at`), `served` = " + served;
    }
  }

  private static final class Snowflake extends JdbcDialect {
    private static final long serialVersionUID = 1L;

    @Override
    String name() {
      return "Snowflake";
    }

    /** Upper case in quotes: the same object as the unquoted name, and safe for reserved words. */
    @Override
    String quote(String identifier) {
      return "\"" + identifier.toUpperCase(Locale.ROOT) + "\"";
    }

    @Override
    String textType() {
      return "VARCHAR";
    }

    @Override
    String createTable(String name, List<String> extraColumns) {
      return "CREATE TABLE " + quote(name) + " ("
          + "KEY VARCHAR NOT NULL, SCORE FLOAT, SCORES ARRAY NOT NULL, ITEMS ARRAY NOT NULL, LABEL VARCHAR,"
          + " CONFIDENCE FLOAT, MODEL_NAME VARCHAR NOT NULL, MODEL_VERSION VARCHAR NOT NULL,"
          + " PREDICTION_TIMESTAMP TIMESTAMP_TZ NOT NULL, RUN_ID VARCHAR NOT NULL, FALLBACK_REASON VARCHAR"
          + extraColumnsDdl(extraColumns) + ", PRIMARY KEY (KEY))";
    }

    @Override
    String createRuns(String runsTable) {
      return "CREATE TABLE IF NOT EXISTS " + quote(runsTable) + " (RUN_ID VARCHAR NOT NULL PRIMARY KEY,"
          + " PREDICTION_TIMESTAMP TIMESTAMP_TZ NOT NULL, RECORDS NUMBER(19, 0) NOT NULL,"
          + " PUBLISHED_AT TIMESTAMP_TZ NOT NULL, SERVED BOOLEAN NOT NULL DEFAULT FALSE)";
    }

    /**
     * Snowflake does not enforce primary keys, so the upsert is a MERGE on the key; the arrays are
     * bound as JSON text and parsed.
     */
    @Override
    String upsert(String staging, List<String> extraColumns) {
      List<String> all = allColumns(extraColumns);
      List<String> source = new ArrayList<>();
      for (String c : all) {
        source.add(("scores".equals(c) || "items".equals(c) ? "PARSE_JSON(?)" : "?") + " AS " + quote(c));
      }
      return "MERGE INTO " + quote(staging) + " t USING (SELECT " + String.join(", ", source) + ") s"
          + " ON t." + quote("key") + " = s." + quote("key")
          + " WHEN MATCHED THEN UPDATE SET " + all.subList(1, all.size()).stream()
              .map(c -> "t." + quote(c) + " = s." + quote(c)).collect(Collectors.joining(", "))
          + " WHEN NOT MATCHED THEN INSERT (" + columns(all) + ") VALUES ("
          + all.stream().map(c -> "s." + quote(c)).collect(Collectors.joining(", ")) + ")";
    }

    @Override
    void setScores(PreparedStatement s, int i, float[] scores) throws SQLException {
      s.setString(i, jsonScores(scores));
    }

    @Override
    void setItems(PreparedStatement s, int i, List<String> items) throws SQLException {
      s.setString(i, json(items));
    }

    @Override
    void setInstant(PreparedStatement s, int i, Instant t) throws SQLException {
      s.setTimestamp(i, Timestamp.from(t), Calendar.getInstance(TimeZone.getTimeZone("UTC")));
    }

    @Override
    Instant getInstant(ResultSet r, int i) throws SQLException {
      return r.getTimestamp(i, Calendar.getInstance(TimeZone.getTimeZone("UTC"))).toInstant();
    }

    @Override
    boolean transactionalDdl() {
      return false;
    }

    /** Snowflake has no advisory lock: concurrent runs of one table are not serialized. */
    @Override
    void lock(Connection c, String table) {}

    @Override
    boolean exists(Connection c, String name) throws SQLException {
      return inInformationSchema(c, "CURRENT_SCHEMA()", name.toUpperCase(Locale.ROOT));
    }

    /**
     * {@code ALTER TABLE staging SWAP WITH t} exchanges the two tables atomically; staging then holds
     * the run served before and becomes {@code previous}. A Snowflake view cannot be swapped: it is
     * replaced right after, so for that moment it shows the new rows under the previous run's date.
     */
    @Override
    List<String> swap(String table, String staging, String previous, boolean tableExists,
        @Nullable String view, boolean viewExists, @Nullable String viewSelect) {
      List<String> sql = new ArrayList<>();
      sql.add("DROP TABLE IF EXISTS " + quote(previous));
      if (tableExists) {
        sql.add("ALTER TABLE " + quote(staging) + " SWAP WITH " + quote(table));
        sql.add("ALTER TABLE " + quote(staging) + " RENAME TO " + quote(previous));
      } else {
        sql.add("ALTER TABLE " + quote(staging) + " RENAME TO " + quote(table));
      }
      if (view != null && viewSelect != null) {
        sql.add("CREATE OR REPLACE VIEW " + quote(view) + " AS " + viewSelect);
      }
      return sql;
    }

    @Override
    String recordRun(String runsTable, boolean served) {
      String flag = served ? "TRUE" : "FALSE";
      return "MERGE INTO " + quote(runsTable) + " t USING (SELECT ? AS RUN_ID, ? AS PREDICTION_TIMESTAMP,"
          + " ? AS RECORDS) s ON t.RUN_ID = s.RUN_ID"
          + " WHEN MATCHED THEN UPDATE SET t.PREDICTION_TIMESTAMP = s.PREDICTION_TIMESTAMP, t.RECORDS = s.RECORDS,"
          + " t.PUBLISHED_AT = CURRENT_TIMESTAMP(), t.SERVED = " + flag
          + " WHEN NOT MATCHED THEN INSERT (RUN_ID, PREDICTION_TIMESTAMP, RECORDS, PUBLISHED_AT, SERVED)"
          + " VALUES (s.RUN_ID, s.PREDICTION_TIMESTAMP, s.RECORDS, CURRENT_TIMESTAMP(), " + flag + ")";
    }
  }
}
