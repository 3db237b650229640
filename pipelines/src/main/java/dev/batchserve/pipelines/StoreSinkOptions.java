package dev.batchserve.pipelines;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.batchserve.pipelines.schedule.DurationText;
import java.time.Duration;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Hidden;
import org.apache.beam.sdk.options.PipelineOptions;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Options of the prediction stores written beside the files: Redis, PostgreSQL, BigQuery and DynamoDB. Every
 * job of this project takes them ({@link BatchScoringPipeline}, the worked examples); {@link
 * StoreSinks} applies them. A store whose host / URL / table is empty is not written.
 */
public interface StoreSinkOptions extends PipelineOptions {
  @Description("Redis host for a Redis sink beside the files; empty = no Redis sink.")
  @Default.String("")
  String getRedisHost();

  void setRedisHost(String value);

  @Description("Redis port.")
  @Default.Integer(6379)
  int getRedisPort();

  void setRedisPort(int value);

  @Description("Redis key prefix: values are <prefix>:<run_id>~<attempt_id>:<key>, the served attempt <prefix>:current;"
      + " empty = the pipeline name.")
  @Default.String("")
  String getRedisPrefix();

  void setRedisPrefix(String value);

  @Description("TTL of Redis values (e.g. 36h or PT36H); unset = 1.5 x the interval.")
  @JsonDeserialize(using = DurationText.Reader.class)
  @JsonSerialize(using = ToStringSerializer.class)
  @Nullable Duration getRedisTtl();

  void setRedisTtl(@Nullable Duration value);

  @Description("Name of the environment variable holding the Redis password (never the password itself).")
  @Default.String("")
  String getRedisPasswordEnv();

  void setRedisPasswordEnv(String value);

  @Description("File holding the Redis password (one line).")
  @Default.String("")
  String getRedisPasswordFile();

  void setRedisPasswordFile(String value);

  @Description("Use TLS to Redis.")
  @Default.Boolean(false)
  boolean getRedisTls();

  void setRedisTls(boolean value);

  @Description("JDBC URL of a PostgreSQL, MySQL/MariaDB or Snowflake sink beside the files (jdbc:postgresql:,"
      + " jdbc:mysql:, jdbc:mariadb:, jdbc:snowflake:; no password in it); empty = no JDBC sink.")
  @Default.String("")
  String getJdbcUrl();

  void setJdbcUrl(String value);

  @Description("Table the JDBC sink serves predictions from.")
  @Default.String("predictions")
  String getJdbcTable();

  void setJdbcTable(String value);

  @Description("JDBC user.")
  @Default.String("")
  String getJdbcUser();

  void setJdbcUser(String value);

  @Description("Name of the environment variable holding the JDBC password (never the password itself).")
  @Default.String("")
  String getJdbcPasswordEnv();

  void setJdbcPasswordEnv(String value);

  @Description("File holding the JDBC password (one line).")
  @Default.String("")
  String getJdbcPasswordFile();

  void setJdbcPasswordFile(String value);

  @Description("Serving view of the JDBC table with your column names (recreated at each publish); empty = none.")
  @Default.String("")
  String getJdbcView();

  void setJdbcView(String value);

  @Description("Columns of --jdbcView as column=field, comma-separated; fields: key, score, label, confidence,"
      + " model_name, model_version, prediction_timestamp, run_id, fallback_reason, run_date"
      + " (e.g. account_id=key,risk_score=score,score_date=run_date,model_version=model_version).")
  @JsonDeserialize(using = MapText.ViewColumnsReader.class)
  @JsonSerialize(using = MapText.Writer.class)
  @Default.InstanceFactory(MapText.NoEntries.class)
  Map<String, String> getJdbcViewColumns();

  void setJdbcViewColumns(Map<String, String> value);

  @Description("BigQuery table ([project:]dataset.table) of a BigQuery sink beside the files, partitioned by"
      + " run; empty = no BigQuery sink. Its load files go to --bigQueryTempLocation, else --tempLocation.")
  @Default.String("")
  String getBigQueryTable();

  void setBigQueryTable(String value);

  @Description("gs:// directory for the BigQuery sink's load files; empty = --tempLocation.")
  @Default.String("")
  String getBigQueryTempLocation();

  void setBigQueryTempLocation(String value);

  @Description("DynamoDB table of a DynamoDB sink beside the files (string partition key pk, TTL on expires_at);"
      + " empty = no DynamoDB sink.")
  @Default.String("")
  String getDynamoDbTable();

  void setDynamoDbTable(String value);

  @Description("AWS region of the DynamoDB table.")
  @Default.String("us-east-1")
  String getDynamoDbRegion();

  void setDynamoDbRegion(String value);

  @Description("DynamoDB endpoint URL instead of the region's (a DynamoDB-compatible server, a VPC endpoint);"
      + " empty = the region's.")
  @Default.String("")
  String getDynamoDbEndpoint();

  void setDynamoDbEndpoint(String value);

  @Description("DynamoDB key prefix: items are <prefix>#<run_id>~<attempt>#<key>, the served run <prefix>#current;"
      + " empty = the pipeline name.")
  @Default.String("")
  String getDynamoDbPrefix();

  void setDynamoDbPrefix(String value);

  @Description("TTL of DynamoDB items (e.g. 36h or PT36H); unset = 1.5 x the interval.")
  @JsonDeserialize(using = DurationText.Reader.class)
  @JsonSerialize(using = ToStringSerializer.class)
  @Nullable Duration getDynamoDbTtl();

  void setDynamoDbTtl(@Nullable Duration value);

  @Description("AWS access key id for DynamoDB with --dynamoDbSecretKeyEnv/--dynamoDbSecretKeyFile; empty = the"
      + " AWS default credentials chain (environment, profile, instance or container role).")
  @Default.String("")
  String getDynamoDbAccessKeyId();

  void setDynamoDbAccessKeyId(String value);

  @Description("Name of the environment variable holding the DynamoDB secret access key (never the key itself).")
  @Default.String("")
  String getDynamoDbSecretKeyEnv();

  void setDynamoDbSecretKeyEnv(String value);

  @Description("File holding the DynamoDB secret access key (one line).")
  @Default.String("")
  String getDynamoDbSecretKeyFile();

  void setDynamoDbSecretKeyFile(String value);

  @Description("Move every store's latest pointer (files' _LATEST, Redis and DynamoDB current, the JDBC table and"
      + " view, BigQuery's <table>__latest) to this run even when it is older than the run served now. Without it an"
      + " older run (a backfill) is published as its own run and readers keep the newer one.")
  @Default.Boolean(false)
  boolean getForceLatest();

  void setForceLatest(boolean value);

  /**
   * BigQuery services to use instead of the real ones, for BigQuery sources and sinks: Beam's
   * {@code FakeBigQueryServices} in tests. Not a command-line option.
   */
  @JsonIgnore
  @Hidden
  @Description("Internal: BigQuery services to use instead of the real ones (tests).")
  @Nullable BigQueryServices getBigQueryServices();

  void setBigQueryServices(@Nullable BigQueryServices value);
}
