package dev.batchserve.examples.fraud;

import dev.batchserve.pipelines.fraud.AggregateAccountActivity;
import dev.batchserve.pipelines.OutputShards;
import dev.batchserve.pipelines.StoreSinkOptions;
import dev.batchserve.pipelines.StoreSinks;
import dev.batchserve.pipelines.schedule.Schedule;
import dev.batchserve.pipelines.schedule.ScheduleOptions;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.RunInfo;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The fraud example from raw transactions: transactions (generated, or a CSV file) -> 30-day
 * per-account features ({@link AggregateAccountActivity}) -> the demo fraud model -> one
 * prediction per account of the accounts table (accounts without activity in the window get the
 * fallback, reason {@code cold_start}) -> Parquet and JSON lines, and, when named, PostgreSQL
 * ({@code --jdbcUrl}: the table {@code --jdbcTable} and the view {@code fraud_risk(account_id,
 * risk_score, score_date, model_version)}) and Redis ({@code --redisHost}, prefix {@code fraud}),
 * each published all-or-nothing.
 *
 * <pre>
 * mvn -pl examples/jobs exec:java -Dexec.mainClass=dev.batchserve.examples.fraud.ScoreFraudTransactions \
 *   -Dexec.args="--runner=DirectRunner --accounts=2000 --runDate=2026-11-28"
 * </pre>
 */
public final class ScoreFraudTransactions {
  /** The PostgreSQL view the fraud rules and reports read. */
  public static final String JDBC_VIEW = "fraud_risk";

  /** Its columns: view column -> prediction field. */
  public static final Map<String, String> JDBC_VIEW_COLUMNS = java.util.Collections.unmodifiableMap(
      JdbcSink.parseViewColumns("account_id=key,risk_score=score,score_date=run_date,model_version=model_version"));

  private ScoreFraudTransactions() {}

  /** Options of the example. */
  public interface Options extends StoreSinkOptions, ScheduleOptions {
    @Description("Transactions CSV (account_id,ts,amount,country,merchant; ts ISO-8601); empty = generate --accounts accounts.")
    @Default.String("")
    String getTransactions();

    void setTransactions(String value);

    @Description("Accounts CSV (account_id,opened; opened ISO-8601); used with --transactions; empty = every account is expected with unknown age.")
    @Default.String("")
    String getAccountsFile();

    void setAccountsFile(String value);

    @Description("Accounts to generate when --transactions is empty (tiny for tests, millions for benchmarks).")
    @Default.Integer(2000)
    int getAccounts();

    void setAccounts(int value);

    @Description("Seed of the generator.")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);

    @Description("Model directory with model-manifest.json and feature-spec.json.")
    @Default.String("work/models/fraud-mlp/1")
    String getModel();

    void setModel(String value);

    @Description("Root of the prediction files.")
    @Default.String("work/predictions/fraud-transactions")
    String getFraudTxOutput();

    void setFraudTxOutput(String value);

    @Description("Records per model call.")
    @Default.Integer(256)
    int getBatchSize();

    void setBatchSize(int value);

    @Description("Shards per output format, also the join back's buckets; 0 = auto: one per 25,000 accounts, at least 4.")
    @Default.Integer(0)
    int getNumShards();

    void setNumShards(int value);

    @Description("Score of accounts without a model prediction (no activity in the window, invalid features).")
    @Default.Float(0.02f)
    float getFallbackScore();

    void setFallbackScore(float value);
  }

  public static void main(String[] args) {
    Options o = dev.batchserve.pipelines.OptionArgs.parse(Options.class, args);
    Schedule.runToCompletion(o, runInfo(o), ScoreFraudTransactions::build);
  }

  /** The run: {@code --runDate} (unset = today, UTC), {@code --interval} (default daily). */
  public static RunInfo runInfo(Options o) {
    return Schedule.runInfo("fraud-tx", o, RunInfo.Interval.DAILY);
  }

  /** Builds the pipeline; returns the run directory it publishes. */
  public static String build(Pipeline p, Options o) {
    String attempt = FileSink.newAttemptId(); // this run's files go into an attempt of their own
    RunInfo run = runInfo(o);
    PCollection<Row> transactions;
    PCollection<Row> accounts = null;
    PCollection<DeadLetter> unreadable = null;
    if (o.getTransactions().isEmpty()) {
      transactions = p.apply("GenerateTransactions", FraudTransactions.read(o.getAccounts(), o.getSeed(), run));
      accounts = p.apply("GenerateAccounts", FraudTransactions.readAccounts(o.getAccounts(), o.getSeed(), run));
    } else {
      ReadRecords.Result tx = p.apply("ReadTransactions", ReadRecords.csv(o.getTransactions()).withKeyColumns("account_id"));
      transactions = tx.records().apply("TransactionRows", Values.create()).setCoder(RowCoder.of(tx.schema()));
      unreadable = tx.deadLetters();
      if (!o.getAccountsFile().isEmpty()) {
        ReadRecords.Result acc = p.apply("ReadAccounts", ReadRecords.csv(o.getAccountsFile()).withKeyColumns("account_id"));
        accounts = acc.records().apply("AccountRows", Values.create()).setCoder(RowCoder.of(acc.schema()));
        unreadable = PCollectionList.of(unreadable).and(acc.deadLetters()).apply("Unreadable", Flatten.pCollections());
      }
    }
    AggregateAccountActivity aggregate = AggregateAccountActivity.of(run);
    if (accounts != null) {
      aggregate = aggregate.withAccounts(accounts);
    }
    AggregateAccountActivity.Result features = transactions.apply("Aggregate", aggregate);

    FeatureSpec spec = FeatureSpec.read(stripSlash(o.getModel()) + "/" + SaveSpecToModel.FILE_NAME);
    // The join back writes the files' shards as it resolves the keys: one shuffle for both.
    FileSink<String> files = SinkWithMetadata.<String>files(o.getFraudTxOutput())
        .withRunInfo(run)
        .withForceLatest(o.getForceLatest())
        .withAttempt(attempt)
        .withFormats(FileFormat.PARQUET, FileFormat.JSONL)
        .withNumShards(OutputShards.resolve(o.getNumShards(), o.getAccounts(), 25_000));
    KeyedPrediction<String> keyed = KeyedPrediction.<String>of(spec, o.getModel())
        .writingShards(files.shardWriter())
        .withRunInfo(run)
        .withMaxBatchSize(o.getBatchSize())
        .withFallback(Fallback.constant(o.getFallbackScore()));
    if (accounts != null) {
      // Every account gets a result: one without activity in the window is a cold start.
      keyed = keyed.withExpectedKeys(accounts
          .apply("AccountIds", MapElements.into(TypeDescriptors.strings()).via((Row r) -> r.getValue("account_id").toString()))
          .setCoder(StringUtf8Coder.of()));
    }
    KeyedPrediction.Result<String> predicted = features.rows().apply("Score", keyed);
    PCollectionList<DeadLetter> dead = PCollectionList.of(features.deadLetters()).and(predicted.deadLetters());
    if (unreadable != null) {
      dead = dead.and(unreadable);
    }
    predicted.predictions().apply("Write", files
        .withWrittenFiles(predicted.writtenFiles())
        .withInputCount(predicted.resolvedCount())
        .withDeadLetters(dead.apply("AllDeadLetters", Flatten.pCollections()))
        .publishAfter(predicted.counts()));
    // PostgreSQL (--jdbcUrl) for reports, served through the view fraud_risk(account_id, risk_score,
    // score_date, model_version); Redis (--redisHost) for the real-time rules.
    StoreSinks.of(o, run)
        .withRedisPrefix("fraud")
        .withDefaultJdbcView(JDBC_VIEW, JDBC_VIEW_COLUMNS)
        .publishAfter(predicted.counts())
        .write(predicted.predictions());
    return FileSink.attemptDirectory(o.getFraudTxOutput(), run, attempt);
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
