package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.aws.DynamoDbEndpoint;
import dev.batchserve.transforms.aws.DynamoDbSink;
import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.gcp.BigQuerySink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Applies the prediction stores that {@link StoreSinkOptions} name (Redis, PostgreSQL, BigQuery, DynamoDB)
 * to a job's predictions; each publishes its run all-or-nothing after the given signals (the
 * completeness check, the circuit breaker), like the files sink beside it.
 *
 * <pre>{@code
 * StoreSinks.of(options, run).withRedisPrefix("fraud").publishAfter(keyed.counts()).write(keyed.predictions());
 * }</pre>
 *
 * <p>Immutable: each {@code withX} returns a copy.
 */
public final class StoreSinks {
  private final StoreSinkOptions o;
  private final RunInfo run;
  private String redisPrefix;
  private @Nullable String defaultView;
  private Map<String, String> defaultViewColumns = Map.of();
  private List<PCollection<?>> signals = List.of();
  private List<String> passThroughColumns = List.of();

  private StoreSinks(StoreSinkOptions o, RunInfo run) {
    this.o = o;
    this.run = run;
    this.redisPrefix = run.pipeline();
  }

  private StoreSinks copy() {
    StoreSinks c = new StoreSinks(o, run);
    c.redisPrefix = redisPrefix;
    c.defaultView = defaultView;
    c.defaultViewColumns = defaultViewColumns;
    c.signals = signals;
    c.passThroughColumns = passThroughColumns;
    return c;
  }

  public static StoreSinks of(StoreSinkOptions options, RunInfo run) {
    return new StoreSinks(options, run);
  }

  /**
   * The pass-through columns the predictions carry ({@code --passThroughColumns}): the JDBC table gets
   * {@code pass_through_<name>} columns and the BigQuery table the record {@code pass_through}; Redis
   * and DynamoDB values are the prediction's JSON, which has them anyway. Names the stores refuse fail
   * here, naming the option.
   */
  public StoreSinks withPassThroughColumns(List<String> columns) {
    StoreSinks c = copy();
    c.passThroughColumns = List.copyOf(columns);
    return c;
  }

  /** The Redis (and DynamoDB) key prefix when {@code --redisPrefix} ({@code --dynamoDbPrefix}) is empty (default: the run's pipeline name). */
  public StoreSinks withRedisPrefix(String prefix) {
    checkArgument(prefix != null && !prefix.isBlank(), "redisPrefix must be set, but was '%s'", prefix);
    StoreSinks c = copy();
    c.redisPrefix = prefix;
    return c;
  }

  /**
   * The serving view of the JDBC table when {@code --jdbcView} is empty: a job whose readers expect
   * fixed column names (the fraud job's {@code account_id, risk_score, score_date, model_version})
   * always gets it. {@code --jdbcViewColumns} still overrides the columns.
   */
  public StoreSinks withDefaultJdbcView(String view, Map<String, String> columns) {
    checkArgument(view != null && !view.isBlank(), "view must be set, but was '%s'", view);
    checkArgument(!columns.isEmpty(), "the view %s needs at least one column", view);
    // Kept in order: the view's columns are listed as given.
    StoreSinks c = copy();
    c.defaultView = view;
    c.defaultViewColumns = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(columns));
    return c;
  }

  /** Each store publishes only after these collections are complete (added to earlier ones). */
  public StoreSinks publishAfter(PCollection<?>... more) {
    List<PCollection<?>> all = new ArrayList<>(signals);
    all.addAll(Arrays.asList(more));
    StoreSinks c = copy();
    c.signals = List.copyOf(all);
    return c;
  }

  /** Writes the predictions to every store the options name; returns how many there were. */
  public int write(PCollection<KV<String, Prediction>> predictions) {
    int stores = 0;
    if (!o.getRedisHost().isEmpty()) {
      RedisSink<String> redis = RedisSink.<String>to(o.getRedisHost(), o.getRedisPort())
          .withRunInfo(run)
          .withKeyPrefix(o.getRedisPrefix().isEmpty() ? redisPrefix : o.getRedisPrefix())
          .withPassword(secret("redis", o.getRedisPasswordEnv(), o.getRedisPasswordFile()))
          .withTls(o.getRedisTls())
          .withForceLatest(o.getForceLatest())
          .publishAfter(signals.toArray(new PCollection<?>[0]));
      if (o.getRedisTtl() != null) {
        redis = redis.withTtl(o.getRedisTtl());
      }
      predictions.apply("WriteRedis", redis);
      stores++;
    }
    if (!o.getJdbcUrl().isEmpty()) {
      JdbcSink<String> jdbc = JdbcSink.<String>to(o.getJdbcUrl())
          .withRunInfo(run)
          .withTable(o.getJdbcTable())
          .withPassword(secret("jdbc", o.getJdbcPasswordEnv(), o.getJdbcPasswordFile()))
          .withForceLatest(o.getForceLatest())
          .publishAfter(signals.toArray(new PCollection<?>[0]));
      if (!o.getJdbcUser().isEmpty()) {
        jdbc = jdbc.withUser(o.getJdbcUser());
      }
      String view = o.getJdbcView().isEmpty() ? defaultView : o.getJdbcView();
      if (view != null) {
        Map<String, String> columns = o.getJdbcViewColumns().isEmpty() ? defaultViewColumns : o.getJdbcViewColumns();
        checkArgument(!columns.isEmpty(), "--jdbcView=%s needs --jdbcViewColumns (column=field,...)", view);
        jdbc = jdbc.withView(view, columns);
      } else {
        checkArgument(o.getJdbcViewColumns().isEmpty(), "--jdbcViewColumns needs --jdbcView (the view's name)");
      }
      if (!passThroughColumns.isEmpty()) {
        jdbc = jdbc.withPassThroughColumns(passThroughColumns);
      }
      predictions.apply("WriteJdbc", jdbc);
      stores++;
    }
    if (!o.getDynamoDbTable().isEmpty()) {
      DynamoDbSink<String> dynamo = DynamoDbSink.<String>to(o.getDynamoDbTable())
          .withEndpoint(dynamoDbEndpoint(o))
          .withRunInfo(run)
          .withKeyPrefix(o.getDynamoDbPrefix().isEmpty() ? redisPrefix : o.getDynamoDbPrefix())
          .withForceLatest(o.getForceLatest())
          .publishAfter(signals.toArray(new PCollection<?>[0]));
      if (o.getDynamoDbTtl() != null) {
        dynamo = dynamo.withTtl(o.getDynamoDbTtl());
      }
      predictions.apply("WriteDynamoDb", dynamo);
      stores++;
    }
    if (!o.getBigQueryTable().isEmpty()) {
      BigQuerySink<String> bq = BigQuerySink.<String>to(o.getBigQueryTable())
          .withRunInfo(run)
          .withForceLatest(o.getForceLatest())
          .publishAfter(signals.toArray(new PCollection<?>[0]));
      if (!o.getBigQueryTempLocation().isEmpty()) {
        bq = bq.withCustomGcsTempLocation(o.getBigQueryTempLocation());
      }
      BigQueryServices services = o.getBigQueryServices();
      if (services != null) {
        bq = bq.withTestServices(services).withoutValidation();
      }
      if (!passThroughColumns.isEmpty()) {
        bq = bq.withPassThroughColumns(passThroughColumns);
      }
      predictions.apply("WriteBigQuery", bq);
      stores++;
    }
    return stores;
  }

  /** The DynamoDB region, endpoint and credentials the options name (for the sink and the lookup client). */
  public static DynamoDbEndpoint dynamoDbEndpoint(StoreSinkOptions o) {
    DynamoDbEndpoint e = DynamoDbEndpoint.of(o.getDynamoDbRegion());
    if (!o.getDynamoDbEndpoint().isEmpty()) {
      e = e.withEndpoint(o.getDynamoDbEndpoint());
    }
    Secret secretKey = secret("DynamoDB secret access key", o.getDynamoDbSecretKeyEnv(), o.getDynamoDbSecretKeyFile());
    if (!o.getDynamoDbAccessKeyId().isEmpty()) {
      checkArgument(secretKey.isSet(),
          "--dynamoDbAccessKeyId needs --dynamoDbSecretKeyEnv or --dynamoDbSecretKeyFile (where its secret key is)");
      e = e.withStaticCredentials(o.getDynamoDbAccessKeyId(), secretKey);
    } else {
      checkArgument(!secretKey.isSet(), "--dynamoDbSecretKeyEnv/--dynamoDbSecretKeyFile need --dynamoDbAccessKeyId");
    }
    return e;
  }

  /** A password reference from an environment variable name or a file; never the password itself. */
  public static Secret secret(String store, String env, String file) {
    checkArgument(env.isEmpty() || file.isEmpty(),
        "give the %s password by an environment variable or a file, not both", store);
    return !env.isEmpty() ? Secret.fromEnv(env) : !file.isEmpty() ? Secret.fromFile(file) : Secret.none();
  }

}
