package dev.batchserve.transforms.jdbc;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.sink.PassThroughColumns;
import dev.batchserve.transforms.sink.PublishedRun;
import dev.batchserve.transforms.sink.StagedPublish;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * Writes keyed predictions into a PostgreSQL, MySQL/MariaDB (Aurora MySQL included) or Snowflake
 * table and publishes the run by swapping the run's staging table in for the served one atomically.
 *
 * <p>Tables ({@code <t>} = the table name, {@code <run>} = the run id with {@code -} as {@code _}):
 *
 * <pre>
 * &lt;t&gt;              the served run: one row per key, columns of {@link Prediction#SCHEMA}
 * &lt;t&gt;__&lt;run&gt;       staging: this run's rows while it is written; a backfill's rows after it
 * &lt;t&gt;__previous    the run served before the last switch (for a rollback by hand)
 * &lt;t&gt;__runs        published runs: run_id, prediction_timestamp, records, published_at, served
 *                  (false for a backfill and for runs served before)
 * &lt;v&gt;              optional serving view of &lt;t&gt; with the caller's column names ({@link #withView})
 * </pre>
 *
 * <p>Columns: {@code key text primary key, score double precision, scores real[], items text[],
 * label text, confidence double precision, model_name text, model_version text,
 * prediction_timestamp timestamptz, run_id text, fallback_reason text} (PostgreSQL; MySQL/MariaDB keep
 * {@code scores}/{@code items} as JSON and the timestamp as a UTC {@code DATETIME(3)}; Snowflake as
 * {@code ARRAY} and {@code TIMESTAMP_TZ}).
 *
 * <ol>
 *   <li>Prepare: (re)create the empty staging table.
 *   <li>Write: JdbcIO batched upserts into staging ({@code ON CONFLICT (key) DO UPDATE}, so a retried
 *       bundle cannot duplicate a key); retried with bounded backoff for retryable SQL states only, on
 *       the same connection: a batch whose connection is lost fails its bundle, and so the run.
 *   <li>Publish, after every write and every {@link #publishAfter} signal: in ONE transaction, take
 *       the table's advisory lock (prepare takes it too), check that staging holds exactly the
 *       input's count, drop {@code <t>__previous}, rename {@code <t>} to it and staging to {@code <t>},
 *       record the run as served. A backfill (below) only records the run.
 * </ol>
 *
 * <p>Backfills: when {@code <t>__runs} names a served run with a later prediction timestamp
 * ({@link Backfill#isOlder}), checked under the lock in the publish step (so also for runs finishing
 * out of order), the run is published as its own table: {@code <t>__<run>} keeps its rows, counted,
 * and {@code <t>__runs} records it with its {@code published_at} and {@code served = false}; {@code <t>},
 * {@code <t>__previous} and the view keep the newer run, and the publish step logs
 * {@code backfill: run <id> published; readers still see <id>}. {@link #withForceLatest} swaps it in
 * instead. A later re-run of the same run id rebuilds that table from empty.
 *
 * <p>Readers query {@code <t>}: PostgreSQL DDL is transactional, so a reader sees the old table or
 * the new one, never a mix, and a failed run never touches it. A re-run of the same run id rebuilds
 * its staging table from empty, so it never duplicates rows.
 *
 * <p>MySQL/MariaDB ({@code jdbc:mysql:} with {@code com.mysql:mysql-connector-j}, or {@code jdbc:mariadb:}
 * with {@code org.mariadb.jdbc:mariadb-java-client}): DDL commits implicitly, so the publish step takes
 * a named lock ({@code GET_LOCK}) instead of an advisory one, checks the guard and the count, then makes
 * ONE {@code RENAME TABLE <t> TO <t>__previous, <t>__<run> TO <t>[, <v> TO <v>__old, <v>__next TO <v>]},
 * which MySQL and MariaDB apply atomically, and then records the run as served. Snowflake
 * ({@code jdbc:snowflake:}, {@code net.snowflake:snowflake-jdbc}): {@code ALTER TABLE <t>__<run> SWAP
 * WITH <t>} is the atomic step; Snowflake has no advisory lock, and its view is replaced right after
 * the swap. On both, a publish retried after its connection was lost finds the run already in
 * {@code <t>} and only records it.
 *
 * <pre>{@code
 * predictions.apply(JdbcSink.<String>to("jdbc:postgresql://db:5432/serving")
 *     .withUser("writer").withPassword(Secret.fromEnv("PGPASSWORD"))
 *     .withTable("fraud_scores").withRunInfo(run));
 * }</pre>
 *
 * <p><b>Why this class is long.</b> It is one store's whole connector: the builder with its
 * validated settings (each with an example), the staging table's preparation, the batched upserts
 * through JdbcIO with retries, the publish (count check, swap, run record and view in one locked
 * transaction) and the backfill rule. The SQL that differs per database is in {@link JdbcDialect};
 * the protocol shared with the other stores (stage, verify the counts, publish after the gates) is
 * {@code StagedPublish}.
 */
public final class JdbcSink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.jdbc";
  private static final Pattern TABLE = Pattern.compile("[a-z_][a-z0-9_]{0,39}");
  private static final Pattern COLUMN = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JdbcSink.class);

  private JdbcEndpoint endpoint;
  private final JdbcDialect dialect;
  private String table = "predictions";
  private @Nullable RunInfo runInfo;
  private int batchSize = 1000;
  private int maxAttempts = 5;
  private boolean forceLatest;
  private @Nullable String view;
  private java.util.LinkedHashMap<String, String> viewColumns = new java.util.LinkedHashMap<>();
  private transient List<PCollection<?>> signals = List.of();
  private PassThroughColumns passThrough = PassThroughColumns.NONE;

  /**
   * What a serving view's column may show: the prediction's columns, and {@code run_date}, the
   * run's logical date (a {@code date}).
   */
  public static final List<String> VIEW_FIELDS = List.of("key", "score", "label", "confidence", "model_name",
      "model_version", "prediction_timestamp", "run_id", "fallback_reason", "run_date");

  private JdbcSink(JdbcEndpoint endpoint) {
    this.endpoint = endpoint;
    this.dialect = JdbcDialect.forUrl(endpoint.url());
  }

  /**
   * A PostgreSQL, MySQL/MariaDB or Snowflake table ({@code jdbc:postgresql:}, {@code jdbc:mysql:},
   * {@code jdbc:mariadb:}, {@code jdbc:snowflake:} URL): every prediction as a row, written into the
   * run's staging table and swapped in atomically (formerly {@code SinkWithMetadata.jdbc}). A URL of
   * another database, or one that carries a password, is refused here.
   *
   * <pre>{@code
   * predictions.apply(JdbcSink.<String>to("jdbc:postgresql://db:5432/serving")
   *     .withUser("writer").withPassword(Secret.fromEnv("PGPASSWORD"))
   *     .withTable("fraud_scores").withRunInfo(run));
   * }</pre>
   */
  public static <K> JdbcSink<K> to(String url) {
    return new JdbcSink<>(JdbcEndpoint.of(url));
  }

  private JdbcSink<K> copy() {
    JdbcSink<K> c = new JdbcSink<>(endpoint);
    c.table = table;
    c.runInfo = runInfo;
    c.batchSize = batchSize;
    c.maxAttempts = maxAttempts;
    c.forceLatest = forceLatest;
    c.view = view;
    c.viewColumns = viewColumns;
    c.signals = signals;
    c.passThrough = passThrough;
    return c;
  }

  /** The run being written (required). */
  public JdbcSink<K> withRunInfo(RunInfo run) {
    JdbcSink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  public JdbcSink<K> withUser(String user) {
    JdbcSink<K> c = copy();
    c.endpoint = endpoint.withUser(user);
    return c;
  }

  /** Where the password comes from (env var or secrets file); never logged. */
  public JdbcSink<K> withPassword(Secret secret) {
    JdbcSink<K> c = copy();
    c.endpoint = endpoint.withPassword(secret);
    return c;
  }

  /** The served table's name (default {@code predictions}): lower case, at most 40 characters. */
  public JdbcSink<K> withTable(String name) {
    checkTable(name);
    JdbcSink<K> c = copy();
    c.table = name;
    return c;
  }

  /**
   * The check of {@link #withTable}, for code that takes a table name before it builds the sink (a
   * job file): lower case letters, digits and {@code _}, at most 40 characters.
   *
   * <pre>{@code
   * JdbcSink.checkTable("fraud_scores");
   * }</pre>
   *
   * @throws IllegalArgumentException naming the table, when it does not match
   */
  public static String checkTable(@Nullable String name) {
    checkArgument(name != null && TABLE.matcher(name).matches(),
        "table must match %s, but was '%s'", TABLE.pattern(), name);
    return name;
  }

  /**
   * The checks of {@link #withView}: the view's name as a table's, at least one column, each named
   * as a table and showing one of {@link #VIEW_FIELDS}.
   *
   * <pre>{@code
   * JdbcSink.checkView("fraud_risk", Map.of("account_id", "key", "risk_score", "score"));
   * }</pre>
   *
   * @throws IllegalArgumentException naming the view or the column at fault
   */
  public static void checkView(@Nullable String view, Map<String, String> columns) {
    checkArgument(view != null && TABLE.matcher(view).matches(), "view must match %s, but was '%s'", TABLE.pattern(), view);
    checkArgument(!columns.isEmpty(), "the view %s needs at least one column", view);
    for (Map.Entry<String, String> e : columns.entrySet()) {
      checkArgument(e.getKey() != null && TABLE.matcher(e.getKey()).matches(),
          "view column must match %s, but was '%s'", TABLE.pattern(), e.getKey());
      checkArgument(VIEW_FIELDS.contains(e.getValue()),
          "view column %s must show one of %s, but was '%s'", e.getKey(), VIEW_FIELDS, e.getValue());
    }
  }

  /**
   * Also serves the published run through a view named {@code view} whose columns the caller names:
   * {@code columns} maps each view column to one of {@link #VIEW_FIELDS}, in order. For example the
   * fraud table {@code (account_id, risk_score, score_date, model_version)} is
   * {@code withView("fraud_risk", Map.of(...account_id=key, risk_score=score, score_date=run_date,
   * model_version=model_version))}. The view is dropped and recreated in the publish transaction
   * (a PostgreSQL view follows the table it was created on, even after a rename), so its readers,
   * like the table's, see the old run or the new one, never a mix.
   */
  public JdbcSink<K> withView(String view, Map<String, String> columns) {
    checkView(view, columns);
    JdbcSink<K> c = copy();
    c.view = view;
    c.viewColumns = new java.util.LinkedHashMap<>(columns);
    return c;
  }

  /**
   * Parses view columns written {@code column=field,column=field} (e.g.
   * {@code account_id=key,risk_score=score,score_date=run_date,model_version=model_version}).
   */
  public static Map<String, String> parseViewColumns(String spec) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (String part : spec.split(",")) {
      String[] kv = part.trim().split("=", -1);
      checkArgument(kv.length == 2 && !kv[0].isBlank() && !kv[1].isBlank(),
          "view columns are written column=field,column=field, but '%s' has '%s'", spec, part.trim());
      checkArgument(m.put(kv[0].trim(), kv[1].trim()) == null, "view column '%s' is named twice in '%s'", kv[0].trim(), spec);
    }
    return m;
  }

  /** Rows per JDBC batch (default 1000). */
  public JdbcSink<K> withBatchSize(int n) {
    checkArgument(n >= 1, "batchSize must be >= 1, but was %s", n);
    JdbcSink<K> c = copy();
    c.batchSize = n;
    return c;
  }

  /** Attempts per batch for retryable SQL states (default 5). */
  public JdbcSink<K> withMaxAttempts(int n) {
    checkArgument(n >= 1, "maxAttempts must be >= 1, but was %s", n);
    JdbcSink<K> c = copy();
    c.maxAttempts = n;
    return c;
  }

  /**
   * Whether a backfill is swapped in as the served table (and view) all the same (default false). A
   * run older than the served one ({@link Backfill#isOlder}) is published as its own table
   * {@code <t>__<run>}, recorded in {@code <t>__runs} as not served, and {@code <t>} and the view keep
   * the newer run, unless this is set:
   *
   * <pre>{@code
   * JdbcSink.<String>to(url).withTable("fraud_scores").withRunInfo(yesterday).withForceLatest(true);
   * }</pre>
   */
  public JdbcSink<K> withForceLatest(boolean force) {
    JdbcSink<K> c = copy();
    c.forceLatest = force;
    return c;
  }

  /**
   * Also writes these pass-through columns ({@link Prediction#getPassThrough()}): one nullable text
   * column {@code pass_through_<name>} each, after {@code fallback_reason}, in this order (prefixed, as
   * a table is flat: an input column {@code label} must not meet the prediction's {@code label}). The
   * staging table is created per run, so a run with other columns serves a table with other columns.
   * A key without values (a cold start) has nulls. Default none: the table is unchanged. Each
   * {@code pass_through_<name>} must be a lower-case identifier of at most 63 characters
   * ({@code [a-z_][a-z0-9_]*}, which PostgreSQL, MySQL and Snowflake take unquoted alike):
   *
   * <pre>{@code
   * JdbcSink.<String>to(url).withTable("fraud_scores").withRunInfo(run)
   *     .withPassThroughColumns(List.of("row_id", "region")); // pass_through_row_id, pass_through_region
   * }</pre>
   */
  public JdbcSink<K> withPassThroughColumns(List<String> columns) {
    PassThroughColumns checked = PassThroughColumns.of(columns);
    for (String name : checked.names()) {
      String flat = PassThroughColumns.flatName(name);
      checkArgument(COLUMN.matcher(flat).matches(),
          "pass-through column '%s' cannot be a JDBC column: '%s' must be lower case [a-z_][a-z0-9_]*, at most 63"
              + " characters; drop it from --passThroughColumns (withPassThroughColumns) or rename the input column",
          name, flat);
    }
    JdbcSink<K> c = copy();
    c.passThrough = checked;
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public JdbcSink<K> publishAfter(PCollection<?>... more) {
    JdbcSink<K> c = copy();
    c.signals = StagedPublish.plus(signals, more);
    return c;
  }

  /** {@code <table>__<run id>}, sanitized to a PostgreSQL identifier: the run's staging table. */
  public static String stagingTable(String table, String runId) {
    return identifier(table + "__" + runId);
  }

  public static String previousTable(String table) {
    return identifier(table + "__previous");
  }

  public static String runsTable(String table) {
    return identifier(table + "__runs");
  }

  /** Lower case, {@code [a-z0-9_]} only, at most 63 characters (longer names end in a hash). */
  static String identifier(String raw) {
    String s = raw.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (s.length() <= 63) {
      return s;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
      return s.substring(0, 54) + "_" + HexFormat.of().formatHex(h).substring(0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "JdbcSink needs withRunInfo(run)");
    RunInfo run = runInfo;
    String staging = stagingTable(table, run.runId());
    return StagedPublish.<K>of("JdbcSink", METRICS_NAMESPACE, run, signals)
        .preparedBy(new PrepareFn(endpoint, dialect, table, run, forceLatest, flatColumns()))
        .writing((in, attempt) -> {
          PCollection<KV<String, Prediction>> keyed = in
              .apply("AfterPrepare", Wait.on(attempt.prepared()))
              .apply("KeyToString", MapElements
                  .into(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Prediction.class)))
                  .via(kv -> KV.of(String.valueOf(kv.getKey()), kv.getValue())));
          PCollection<Void> written = keyed.apply("Write", JdbcIO.<KV<String, Prediction>>write()
              .withDataSourceProviderFn(endpoint)
              .withStatement(dialect.upsert(staging, flatColumns()))
              .withPreparedStatementSetter(new SetRow(dialect, passThrough))
              .withBatchSize(batchSize)
              .withRetryStrategy(JdbcEndpoint::isRetryable)
              .withRetryConfiguration(JdbcIO.RetryConfiguration.create(
                  maxAttempts, Duration.standardMinutes(2), Duration.millis(200)))
              .withResults());
          // Counted in the publish transaction, under the table's lock.
          return StagedPublish.Staged.counted(written,
              new Switch(endpoint, dialect, table, run, view, viewSelect(run), forceLatest));
        })
        .expand(input);
  }

  /** The pass-through columns' names in the table. */
  private List<String> flatColumns() {
    List<String> flat = new ArrayList<>();
    passThrough.names().forEach(n -> flat.add(PassThroughColumns.flatName(n)));
    return flat;
  }

  /** The serving view's {@code SELECT ... FROM <table>}, or null without a view. */
  private @Nullable String viewSelect(RunInfo run) {
    if (view == null) {
      return null;
    }
    List<String> select = new ArrayList<>();
    for (Map.Entry<String, String> e : viewColumns.entrySet()) {
      String expr = "run_date".equals(e.getValue()) ? dialect.dateLiteral(run.runDate()) : dialect.quote(e.getValue());
      select.add(expr + " AS " + dialect.quote(e.getKey()));
    }
    return "SELECT " + String.join(", ", select) + " FROM " + dialect.quote(table);
  }

  /**
   * Rolls back after {@code failure}, which stays the error: on a lost connection the rollback fails
   * too ("This connection has been closed."), and that must neither hide why nor change whether the
   * failure is retried.
   */
  private static void rollback(Connection c, Exception failure) {
    try {
      c.rollback();
    } catch (SQLException e) {
      failure.addSuppressed(e);
    }
  }

  /** The served run's id when it is newer than {@code run} (so {@code run} is a backfill), else null. */
  static @Nullable String newerServedRun(Connection c, JdbcDialect dialect, String table, RunInfo run)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(
        "SELECT run_id, prediction_timestamp FROM " + dialect.quote(runsTable(table)) + " WHERE served")) {
      try (ResultSet r = s.executeQuery()) {
        if (r.next()) {
          String served = r.getString(1);
          return Backfill.isOlder(run, served, dialect.getInstant(r, 2)) ? served : null;
        }
      }
    }
    return null;
  }

  private static final class SetRow implements JdbcIO.PreparedStatementSetter<KV<String, Prediction>> {
    private static final long serialVersionUID = 1L;
    private final JdbcDialect dialect;
    private final PassThroughColumns passThrough;

    SetRow(JdbcDialect dialect, PassThroughColumns passThrough) {
      this.dialect = dialect;
      this.passThrough = passThrough;
    }

    @Override
    public void setParameters(KV<String, Prediction> kv, PreparedStatement s) throws SQLException {
      dialect.setRow(s, kv.getKey(), kv.getValue(), passThrough.values(kv.getValue()));
    }
  }

  private static final class PrepareFn extends DoFn<String, String> {
    private final JdbcEndpoint endpoint;
    private final JdbcDialect dialect;
    private final String table;
    private final RunInfo run;
    private final boolean forceLatest;
    private final List<String> extraColumns;

    PrepareFn(JdbcEndpoint endpoint, JdbcDialect dialect, String table, RunInfo run, boolean forceLatest,
        List<String> extraColumns) {
      this.extraColumns = extraColumns;
      this.endpoint = endpoint;
      this.dialect = dialect;
      this.table = table;
      this.run = run;
      this.forceLatest = forceLatest;
    }

    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) throws Exception {
      String staging = stagingTable(table, runId);
      endpoint.withRetries(c -> {
        c.setAutoCommit(!dialect.transactionalDdl());
        try (Statement s = c.createStatement()) {
          dialect.lock(c, table);
          try {
            s.execute(dialect.createRuns(runsTable(table)));
            // Decided again at publish, under the lock: a newer run may be published meanwhile.
            String newer = newerServedRun(c, dialect, table, run);
            if (newer != null) {
              LOG.info("Run {} is older than the run {} served by {}: it will be published as a backfill{}",
                  run.runId(), newer, table, forceLatest ? ", swapped in all the same (forceLatest)" : "");
            }
            // Whatever an earlier attempt of this run left is dropped: the attempt starts from empty.
            s.execute("DROP TABLE IF EXISTS " + dialect.quote(staging));
            s.execute(dialect.createTable(staging, extraColumns));
            if (dialect.transactionalDdl()) {
              c.commit();
            }
          } finally {
            unlock(c, dialect, table);
          }
        } catch (SQLException | RuntimeException e) {
          if (dialect.transactionalDdl()) {
            rollback(c, e);
          }
          throw e;
        }
        return null;
      });
      out.output(runId);
    }
  }

  /** Releases a session-level lock; a lost connection has released it already. */
  private static void unlock(Connection c, JdbcDialect dialect, String table) {
    try {
      dialect.unlock(c, table);
    } catch (SQLException e) {
      // The server drops a session's locks with the session.
    }
  }

  /** The publish: count staging, then swap it in (or, for a backfill, only record the run), in one transaction. */
  private static final class Switch implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final JdbcEndpoint endpoint;
    private final JdbcDialect dialect;
    private final String table;
    private final RunInfo run;
    private final @Nullable String view;
    private final @Nullable String viewSelect;
    private final boolean forceLatest;

    Switch(JdbcEndpoint endpoint, JdbcDialect dialect, String table, RunInfo run, @Nullable String view,
        @Nullable String viewSelect, boolean forceLatest) {
      this.endpoint = endpoint;
      this.dialect = dialect;
      this.table = table;
      this.run = run;
      this.view = view;
      this.viewSelect = viewSelect;
      this.forceLatest = forceLatest;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context ctx) throws Exception {
      long records = ctx.records();
      String staging = stagingTable(table, run.runId());
      String previous = previousTable(table);
      boolean transactional = dialect.transactionalDdl();
      String backfillOf = endpoint.withRetries(c -> {
        c.setAutoCommit(!transactional);
        try (Statement s = c.createStatement()) {
          dialect.lock(c, table);
          try {
            s.execute(dialect.createRuns(runsTable(table)));
            if (!dialect.exists(c, staging)) {
              if (isServed(c, table, run.runId(), records)) {
                // An earlier try of this step committed, but its answer was lost with the connection.
                ctx.checkCount(records, "rows recorded for the served run in " + runsTable(table));
                if (transactional) {
                  c.rollback();
                }
                return null;
              }
              if (!transactional && tableHoldsRun(c, run.runId(), records)) {
                // An earlier try swapped the tables and lost its connection before recording the run.
                ctx.checkCount(records, "rows of the run in table " + table);
                recordRun(c, records, true);
                return null;
              }
            }
            String newer = forceLatest ? null : newerServedRun(c, dialect, table, run);
            long staged;
            try (ResultSet r = s.executeQuery("SELECT count(*) FROM " + dialect.quote(staging))) {
              r.next();
              staged = r.getLong(1);
            }
            ctx.checkCount(staged, "rows in staging table " + staging);
            if (newer != null) {
              // A backfill: its rows stay in its own table, the served table and the view are not touched.
              recordRun(c, records, false);
              return newer;
            }
            boolean viewExists = view != null && !transactional && dialect.exists(c, view);
            for (String sql : dialect.swap(table, staging, previous, dialect.exists(c, table), view, viewExists,
                viewSelect)) {
              s.execute(sql);
            }
            recordRun(c, records, true);
          } finally {
            unlock(c, dialect, table);
          }
        } catch (SQLException | RuntimeException e) {
          if (transactional) {
            rollback(c, e);
          }
          throw e;
        }
        return null;
      });
      if (backfillOf != null) {
        return StagedPublish.Published.backfill(run.runId(), backfillOf, dialect.name() + " table " + table
            + (view == null ? "" : " and view " + view) + " unchanged; the run's rows are in " + staging);
      }
      return StagedPublish.Published.latest(run.runId());
    }

    /**
     * Records the run as published, and when {@code served} as the served run (and no other): in the
     * publish transaction where DDL is transactional, else in a transaction of its own right after the
     * swap.
     */
    private void recordRun(Connection c, long records, boolean served) throws SQLException {
      if (!dialect.transactionalDdl()) {
        c.setAutoCommit(false);
      }
      if (served) {
        try (Statement s = c.createStatement()) {
          s.executeUpdate(dialect.unserveAll(runsTable(table)));
        }
      }
      try (PreparedStatement up = c.prepareStatement(dialect.recordRun(runsTable(table), served))) {
        up.setString(1, run.runId());
        dialect.setInstant(up, 2, run.predictionTimestamp());
        up.setLong(3, records);
        up.executeUpdate();
      }
      c.commit();
      if (!dialect.transactionalDdl()) {
        c.setAutoCommit(true);
      }
    }

    private boolean isServed(Connection c, String table, String runId, long records) throws SQLException {
      try (PreparedStatement s = c.prepareStatement(
          "SELECT 1 FROM " + dialect.quote(runsTable(table)) + " WHERE run_id = ? AND records = ? AND served")) {
        s.setString(1, runId);
        s.setLong(2, records);
        try (ResultSet r = s.executeQuery()) {
          return r.next();
        }
      }
    }

    /** Whether the served table holds exactly this run's {@code records} rows. */
    private boolean tableHoldsRun(Connection c, String runId, long records) throws SQLException {
      if (!dialect.exists(c, table)) {
        return false;
      }
      try (PreparedStatement s = c.prepareStatement("SELECT count(*), sum(CASE WHEN run_id = ? THEN 1 ELSE 0 END)"
          + " FROM " + dialect.quote(table))) {
        s.setString(1, runId);
        try (ResultSet r = s.executeQuery()) {
          r.next();
          return r.getLong(1) == records && r.getLong(2) == records;
        }
      }
    }
  }
}
