package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Test;

/** Which stores the options name, and the mistakes refused before anything runs. */
public class StoreSinksTest {
  private static final RunInfo RUN = RunInfo.of("fraud", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  private static int stores(StoreSinks sinks, Pipeline p) {
    PCollection<KV<String, Prediction>> none = p.apply(Create.empty(
        KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())));
    return sinks.write(none);
  }

  private static StoreSinkOptions options(String... args) {
    return OptionArgs.parse(StoreSinkOptions.class, args);
  }

  @Test
  public void writesExactlyTheStoresTheOptionsName() {
    StoreSinkOptions none = options();
    assertThat(stores(StoreSinks.of(none, RUN), Pipeline.create(none)), is(0));
    StoreSinkOptions all = options("--redisHost=127.0.0.1", "--jdbcUrl=jdbc:postgresql://db/x",
        "--bigQueryTable=my-project:serving.fraud", "--tempLocation=/tmp", "--dynamoDbTable=predictions");
    assertThat(stores(StoreSinks.of(all, RUN), Pipeline.create(all)), is(4));
  }

  @Test
  public void refusesAViewWithoutColumnsOrColumnsWithoutAView() {
    StoreSinkOptions viewOnly = options("--jdbcUrl=jdbc:postgresql://db/x", "--jdbcView=risk");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> stores(StoreSinks.of(viewOnly, RUN), Pipeline.create(viewOnly))).getMessage(),
        is("--jdbcView=risk needs --jdbcViewColumns (column=field,...)"));
    StoreSinkOptions columnsOnly = options("--jdbcUrl=jdbc:postgresql://db/x", "--jdbcViewColumns=a=key");
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> stores(StoreSinks.of(columnsOnly, RUN), Pipeline.create(columnsOnly))).getMessage(),
        is("--jdbcViewColumns needs --jdbcView (the view's name)"));
    // A job's default view takes the columns from the options when they are given.
    assertThat(stores(StoreSinks.of(columnsOnly, RUN).withDefaultJdbcView("risk", Map.of("k", "key")),
        Pipeline.create(columnsOnly)), is(1));
  }

  @Test
  public void dynamoDbCredentialsNeedBothTheKeyIdAndWhereItsSecretIs() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> StoreSinks.dynamoDbEndpoint(
        options("--dynamoDbTable=t", "--dynamoDbAccessKeyId=AKIAEXAMPLE"))).getMessage(),
        is("--dynamoDbAccessKeyId needs --dynamoDbSecretKeyEnv or --dynamoDbSecretKeyFile (where its secret key is)"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> StoreSinks.dynamoDbEndpoint(
        options("--dynamoDbTable=t", "--dynamoDbSecretKeyEnv=DDB_SECRET"))).getMessage(),
        is("--dynamoDbSecretKeyEnv/--dynamoDbSecretKeyFile need --dynamoDbAccessKeyId"));
    assertThat(StoreSinks.dynamoDbEndpoint(options("--dynamoDbRegion=eu-west-1", "--dynamoDbEndpoint=http://127.0.0.1:8000",
        "--dynamoDbAccessKeyId=AKIAEXAMPLE", "--dynamoDbSecretKeyFile=/run/secrets/ddb")).toString(),
        is("dynamodb eu-west-1 at http://127.0.0.1:8000 (key AKIAEXAMPLE, secret file:/run/secrets/ddb)"));
    // Read once, with the options (issue 19), as a job file's ttl: 36h and PT36H both are durations.
    assertThat(options("--dynamoDbTtl=36h").getDynamoDbTtl(), is(java.time.Duration.ofHours(36)));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> options("--dynamoDbTable=serving", "--dynamoDbTtl=36 hours")).getMessage(),
        is("--dynamoDbTtl must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '36 hours'"));
  }

  @Test
  public void validatesItsSettingsAtOnce() {
    StoreSinks s = StoreSinks.of(options(), RUN);
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withRedisPrefix(" ")).getMessage(),
        is("redisPrefix must be set, but was ' '"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withDefaultJdbcView("risk", Map.of()))
        .getMessage(), is("the view risk needs at least one column"));
    assertThat(options("--redisTtl=PT36H").getRedisTtl(), is(java.time.Duration.ofHours(36)));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> options("--redisHost=127.0.0.1", "--redisTtl=36 hours")).getMessage(),
        is("--redisTtl must be a duration like 90s, 15m, 36h, 2d or PT36H, but was '36 hours'"));
  }
}
