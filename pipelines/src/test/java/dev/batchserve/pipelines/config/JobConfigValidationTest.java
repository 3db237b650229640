package dev.batchserve.pipelines.config;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.Assert.assertThrows;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;
import org.junit.runners.Parameterized.Parameters;

/**
 * One case per validation rule: the override that breaks a valid job, and the exact error naming the
 * field (the message after the path is the one of the code that uses the value); null: the override
 * keeps the job valid.
 */
@RunWith(Parameterized.class)
public class JobConfigValidationTest {
  static final String VALID = String.join("\n",
      "name: fraud",
      "source: {type: files, path: data/accounts.parquet}",
      "keyColumns: [account_id]",
      "model: models/fraud/1",
      "sinks:",
      "  - {type: files, root: out/fraud}",
      "  - {type: redis, host: localhost, port: 6379, prefix: fraud, ttl: 36h}",
      "");

  @Parameters(name = "{0}")
  public static Collection<Object[]> cases() {
    return Arrays.asList(new Object[][] {
        {"name=", "name is required"},
        {"name=Fraud Daily", "name: pipeline name must match [a-z0-9][a-z0-9_-]{0,62}, but was 'Fraud Daily'"},
        {"source=", "source is required"},
        {"source.type=", "source.type is required: files, jdbc or bigquery"},
        {"source.type=kafka", "source.type must be one of files, jdbc, bigquery, but was 'kafka'"},
        {"source.path=", "source.path is required for a files source"},
        {"source.format=avro", "source.format: format must be one of csv, jsonl, parquet, but was 'avro'"},
        {"source.format=JSONL", null},
        {"source.path=data/accounts.jsonl", null}, // the pipeline tells JSON lines from the extension
        {"source.path=data/accounts.txt", "source.format is required: cannot tell it from the extension of 'data/accounts.txt'"},
        {"source.query=SELECT 1", "source.query is not used by a files source"},
        {"source={type: jdbc, url: postgres://db, table: t}", "source.url: url must be a JDBC URL (jdbc:<database>:...), but was 'postgres://db'"},
        {"source={type: jdbc, url: 'jdbc:postgresql://db/x'}", "source needs exactly one of query, table for a jdbc source"},
        {"source={type: bigquery, table: nodataset}", "source.table must be [project:]dataset.table, but was 'nodataset'"},
        {"keyColumns=[]", "keyColumns must name at least one column"},
        {"keyColumns=[account_id, '']", "keyColumns[1] must be a non-empty column name"},
        {"keyColumns=[a, b, a]", "keyColumns[2] repeats the column 'a'"},
        {"model=", "model is required"},
        {"featureSpec=''", "featureSpec must be a path when set, but was empty"},
        {"batchSize=0", "batchSize: maxBatchSize must be in [1, 100000], but was 0"},
        {"batchSize=100001", "batchSize: maxBatchSize must be in [1, 100000], but was 100001"},
        {"sinks=[]", "sinks must list at least one sink"},
        {"sinks[0].type=", "sinks[0].type is required: files, redis, jdbc or bigquery"},
        {"sinks[0].type=s3", "sinks[0].type must be one of files, redis, jdbc, bigquery, but was 's3'"},
        {"sinks[0].root=", "sinks[0].root is required for a files sink"},
        {"sinks[0].formats=[parquet, csv]", "sinks[0].formats[1]: file format must be parquet or jsonl, but was 'csv'"},
        {"sinks[0].formats=[]", "sinks[0].formats must name at least one format"},
        {"sinks[0].numShards=-1", "sinks[0].numShards: numShards must be 0 (auto: from the run's size) or in [1, 10000], but was -1"},
        {"sinks[0].host=localhost", "sinks[0].host is not used by a files sink"},
        {"sinks[1].port=0", "sinks[1].port: port must be in [1, 65535], but was 0"},
        {"sinks[1].port=65536", "sinks[1].port: port must be in [1, 65535], but was 65536"},
        {"sinks[1].host=", "sinks[1].host is required for a redis sink"},
        {"sinks[1].prefix=a b", "sinks[1].prefix: keyPrefix must match [A-Za-z0-9_.:/-]{1,200}, but was 'a b'"},
        {"sinks[1].prefix=fraud/v2", null}, // RedisSink takes '/' in a prefix: so does the job file
        {"sinks[1].ttl=36 hours", "sinks[1].ttl must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '36 hours'"},
        {"sinks[1].ttl=0h", "sinks[1].ttl must be a positive duration, but was '0h'"},
        {"sinks[1].root=out", "sinks[1].root is not used by a redis sink"},
        {"sinks[2]={type: jdbc, url: 'postgresql://db', table: p}", "sinks[2].url: url must be a JDBC URL (jdbc:<database>:...), but was 'postgresql://db'"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: 'p; drop'}", "sinks[2].table: table must match [a-z_][a-z0-9_]{0,39}, but was 'p; drop'"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, view: Risk}", "sinks[2].view: view must match [a-z_][a-z0-9_]{0,39}, but was 'Risk'"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, view: risk}", "sinks[2].view needs viewColumns"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, viewColumns: {a: key}}", "sinks[2].viewColumns needs view (the view's name)"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, view: risk, viewColumns: {account_id: account}}", "sinks[2].view: view column account_id must show one of [key, score, label, confidence, model_name, model_version, prediction_timestamp, run_id, fallback_reason, run_date], but was 'account'"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, view: risk, viewColumns: {Account: key}}", "sinks[2].view: view column must match [a-z_][a-z0-9_]{0,39}, but was 'Account'"},
        {"sinks[2]={type: jdbc, url: 'jdbc:postgresql://db', table: t, tempLocation: 'gs://b/t'}", "sinks[2].tempLocation is not used by a jdbc sink"},
        {"sinks[1].view=risk", "sinks[1].view is not used by a redis sink"},
        {"sinks[2]={type: bigquery, table: x}", "sinks[2].table must be [project:]dataset.table, but was 'x'"},
        {"sinks[2]={type: bigquery, table: 'p:d.t'}", "sinks[2].table must be [project:]dataset.table, but was 'p:d.t'"},
        {"sinks[2]={type: bigquery, table: 'my-project:d.t', host: h}", "sinks[2].host is not used by a bigquery sink"},
        {"fallback={value: 0.1}", "fallback.policy is required: abstain or constant"},
        {"fallback.policy=constant", "fallback.value is required for the constant policy"},
        {"fallback={policy: constant, value: 'NaN'}", "fallback.value must be finite, but was NaN"},
        {"fallback={policy: abstain, value: 0.1}", "fallback.value is not used by the abstain policy, but was 0.1"},
        {"fallback.policy=previous", "fallback.policy must be one of abstain, constant, but was 'previous'"},
        {"duplicateKeys=first_wins", "duplicateKeys must be one of error, last_wins, but was 'first_wins'"},
        {"schedule.interval=monthly", "schedule.interval: interval must be one of hourly, daily, weekly, but was 'monthly'"},
        {"schedule.waitForMarker=''", "schedule.waitForMarker must be a path when set, but was empty"},
        {"schedule={waitForMarker: x, markerTimeout: soon}", "schedule.markerTimeout must be a duration like 90s, 15m, 36h, 2d or PT36H, but was 'soon'"},
        {"schedule={waitForMarker: x, markerPoll: 0s}", "schedule.markerPoll must be a positive duration, but was '0s'"},
        {"schedule.markerTimeout=2h", "schedule.markerTimeout and schedule.markerPoll need schedule.waitForMarker"},
        {"alerts.thresholds.maxDeadLetterRate=1.5", "alerts.thresholds.maxDeadLetterRate must be in [0, 1] or off, but was 1.5"},
        {"alerts.thresholds.maxPsi=-1", "alerts.thresholds.maxPsi must be >= 0, but was -1.0"},
        {"alerts.thresholds.maxJsDivergence=-2", "alerts.thresholds.maxJsDivergence must be >= 0, but was -2.0"},
        {"alerts.thresholds.maxPsi=0.5x", "alerts.thresholds.maxPsi must be a number or off, but was '0.5x'"},
        {"alerts.thresholds.minRecords=.inf", "alerts.thresholds.minRecords must be a whole number or off, but was '.inf'"},
        {"alerts.thresholds={maxPsi: .inf, maxCategoryShift: .inf}", null}, // YAML's infinity: off for a max limit
        {"alerts.thresholds.minDriftSample=off", "alerts.thresholds.minDriftSample cannot be off: it is no check but the fewest values the drift limits are judged on (0 judges every sample); turn a drift limit off instead"},
        {"alerts.thresholds={maxPsi: off, maxJsDivergence: Infinity, maxDeadLetterRate: off, minRecords: off, maxRecordDrop: off}", null},
        {"alerts.thresholds.maxCategoryShift=-0.1", "alerts.thresholds.maxCategoryShift must be >= 0, but was -0.1"},
        {"alerts.thresholds.maxPredictionMeanShift=-0.1", "alerts.thresholds.maxPredictionMeanShift must be >= 0, but was -0.1"},
        {"alerts.thresholds.minDriftSample=-5", "alerts.thresholds.minDriftSample must be >= 0, but was -5"},
        {"alerts.thresholds.minRecords=-1", "alerts.thresholds.minRecords must be >= 0 (0 turns the check off), but was -1"},
        {"alerts.thresholds.maxRecordDrop=1.5", "alerts.thresholds.maxRecordDrop must be in [0, 1] or off (1 also turns the check off), but was 1.5"},
        {"alerts.webhook=hooks.example.com", "alerts.webhook: alertWebhook must be an http(s) URL, but was 'hooks.example.com'"},
        // Unknown fields and wrong types, from Jackson, with the path.
        {"sinks[1].hots=localhost", "unknown field 'sinks[1].hots' (known fields there: formats, host, numShards, port, prefix, root, table, tempLocation, ttl, type, url, view, viewColumns)"},
        {"schedule.cron=0 6 * * *", "unknown field 'schedule.cron' (known fields there: interval, markerPoll, markerTimeout, waitForMarker)"},
        {"alerts.thresholds.maxPSI=0.3", "unknown field 'alerts.thresholds.maxPSI' (known fields there: maxCategoryShift, maxDeadLetterRate, maxJsDivergence, maxPredictionMeanShift, maxPsi, maxRecordDrop, minDriftSample, minRecords)"},
        {"modle=x", "unknown field 'modle' (known fields there: alerts, batchSize, duplicateKeys, fallback, featureSpec, keyColumns, model, modelRuntime, name, passThroughColumns, schedule, segments, sinks, source)"},
        // Malformed overrides.
        {"sinks[5].port=1", "--set sinks[5].port: index 5 is out of range (sinks has 2 entries; use index 2 to append)"},
        {"name.first=x", "--set name.first: name is not a mapping"},
        {"no-equals-sign", "--set needs key.path=value, but was 'no-equals-sign'"},
    });
  }

  private final String override;
  private final String expected;

  public JobConfigValidationTest(String override, String expected) {
    this.override = override;
    this.expected = expected;
  }

  @Test
  public void theErrorNamesTheField() {
    if (expected == null) {
      JobConfig.parse(VALID, false, "job.yaml", List.of(override)).toOptions(null);
      return;
    }
    JobConfig.InvalidConfig e = assertThrows(JobConfig.InvalidConfig.class,
        () -> JobConfig.parse(VALID, false, "job.yaml", List.of(override)));
    assertThat(e.getMessage(), e.errors(), hasItem(expected));
  }
}
