package dev.batchserve.transforms.aws;

import static dev.batchserve.transforms.sink.StoreTestData.create;
import static dev.batchserve.transforms.sink.StoreTestData.day;
import static dev.batchserve.transforms.sink.StoreTestData.key;
import static dev.batchserve.transforms.sink.StoreTestData.prediction;
import static dev.batchserve.transforms.sink.StoreTestData.publish;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.aws.testing.DynaliteServer;
import dev.batchserve.transforms.connect.Secret;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Before;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableRequest;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableResponse;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/** {@link DynamoDbSink} and {@link DynamoDbPredictionStore} against a real DynamoDB API (dynalite). */
@RunWith(JUnit4.class)
public class DynamoDbSinkTest {
  @ClassRule public static final DynaliteServer DYNAMO = new DynaliteServer();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final String PREFIX = "fraud";
  private static final AtomicInteger TABLES = new AtomicInteger();
  private String table;

  @Before
  public void freshTable() {
    table = "predictions-" + TABLES.incrementAndGet();
    DYNAMO.createTable(table);
  }

  private DynamoDbSink<String> sink(RunInfo run) {
    return DynamoDbSink.<String>to(table).withEndpoint(DYNAMO.endpoint()).withRunInfo(run)
        .withKeyPrefix(PREFIX).withInitialBackoff(Duration.ofMillis(5));
  }

  private DynamoDbPredictionStore store() {
    return DynamoDbPredictionStore.builder(DYNAMO.endpoint(), table).withKeyPrefix(PREFIX).build();
  }

  /** Every item of the table, by partition key. */
  private Map<String, Map<String, AttributeValue>> items() {
    Map<String, Map<String, AttributeValue>> all = new HashMap<>();
    try (DynamoDbClient c = DYNAMO.client()) {
      Map<String, AttributeValue> start = null;
      do {
        ScanResponse r = c.scan(ScanRequest.builder().tableName(table).exclusiveStartKey(start).build());
        for (Map<String, AttributeValue> item : r.items()) {
          all.put(item.get(DynamoDbSink.KEY_ATTRIBUTE).s(), item);
        }
        start = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
      } while (start != null);
    }
    return all;
  }

  private Map<String, AttributeValue> pointer() {
    return items().get(DynamoDbSink.pointerKey(PREFIX));
  }

  /** The items of one run id, over all its attempts. */
  private long itemsOfRun(RunInfo run) {
    return items().values().stream().filter(i -> i.containsKey(DynamoDbSink.PREDICTION_ATTRIBUTE)
        && run.runId().equals(i.get(DynamoDbSink.RUN_ID_ATTRIBUTE).s())).count();
  }

  /**
   * The store serves every key of {@code run} with exactly that run's prediction, and the served
   * namespace holds exactly the run's {@code n} keys: every key once.
   */
  private void assertServes(RunInfo run, int n) {
    Map<String, AttributeValue> pointer = pointer();
    assertThat(pointer.get(DynamoDbSink.RUN_ID_ATTRIBUTE).s(), equalTo(run.runId()));
    String ns = pointer.get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s();
    String nsPrefix = PREFIX + "#" + ns + "#";
    List<String> keys = new ArrayList<>();
    for (String pk : items().keySet()) {
      if (pk.startsWith(nsPrefix)) {
        keys.add(pk.substring(nsPrefix.length()));
      }
    }
    java.util.Collections.sort(keys);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      expected.add(key(i));
    }
    assertThat(keys, equalTo(expected));
    try (DynamoDbPredictionStore store = store()) {
      for (int i = 0; i < n; i++) {
        Lookup l = store.get(key(i));
        assertThat(l.toString(), l.source(), equalTo(Lookup.Source.STORE));
        assertThat(l.servedRunId().get(), equalTo(run.runId()));
        assertThat(l.prediction().get().toJson(key(i)), equalTo(prediction(run, i).toJson(key(i))));
      }
    }
  }

  private static long counter(PipelineResult result, String name) {
    long sum = 0;
    for (MetricResult<Long> m : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(DynamoDbSink.METRICS_NAMESPACE, name)).build()).getCounters()) {
      sum += m.getAttempted();
    }
    return sum;
  }

  @Test
  public void publishesEveryKeyOnceAndTheStoreReadsItBack() {
    RunInfo run = day(28);
    PCollection<String> published = p.apply(create(run, 60)).apply(sink(run)).published();
    PAssert.that(published).containsInAnyOrder(run.runId());
    Instant before = Instant.now();
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(counter(result, "records_written"), equalTo(60L));
    assertServes(run, 60);
    Map<String, AttributeValue> pointer = pointer();
    assertThat(pointer.get(DynamoDbSink.RECORDS_ATTRIBUTE).n(), equalTo("60"));
    assertThat(pointer.get(DynamoDbSink.TIMESTAMP_ATTRIBUTE).n(),
        equalTo(Long.toString(run.predictionTimestamp().toEpochMilli())));
    // 60 predictions, the pointer and the run's record: nothing else.
    assertThat(items().size(), equalTo(62));
    assertThat(items().get(DynamoDbSink.runKey(PREFIX, run.runId())).get(DynamoDbSink.NAMESPACE_ATTRIBUTE),
        equalTo(pointer.get(DynamoDbSink.NAMESPACE_ATTRIBUTE)));
    // The TTL attribute: 1.5 x the daily interval from the write.
    for (Map<String, AttributeValue> item : items().values()) {
      if (item.containsKey(DynamoDbSink.PREDICTION_ATTRIBUTE)) {
        long expires = Long.parseLong(item.get(DynamoDbSink.TTL_ATTRIBUTE).n());
        assertThat(expires, greaterThanOrEqualTo(before.getEpochSecond() + Duration.ofHours(36).getSeconds()));
        assertThat(expires, lessThanOrEqualTo(Instant.now().getEpochSecond() + Duration.ofHours(36).getSeconds()));
      }
    }
    try (DynamoDbPredictionStore store = store()) {
      Lookup missing = store.get("acct-9999");
      assertThat(missing.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(missing.fallbackReason().get(), equalTo("not_found"));
      assertThat(missing.servedRunId().get(), equalTo(run.runId()));
      Lookup one = store.get(key(3));
      assertThat(one.prediction().get().getLabel(), equalTo("fraud"));
    }
  }

  /**
   * An item keeps the whole prediction as the JSON of its {@code prediction} attribute, so the
   * pass-through values travel in it as the JSON lines' {@code "pass_through"} object and the store
   * reads them back; no sink setting is needed.
   */
  @Test
  public void passThroughValuesTravelInThePredictionAttribute() {
    RunInfo run = day(28);
    p.apply(StoreTestData.createWithPassThrough(run, 3)).apply(sink(run));
    p.run().waitUntilFinish();

    String ns = pointer().get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s();
    Map<String, Map<String, AttributeValue>> items = items();
    assertThat(items.get(PREFIX + "#" + ns + "#" + key(1)).get(DynamoDbSink.PREDICTION_ATTRIBUTE).s(),
        org.hamcrest.Matchers.endsWith(",\"pass_through\":{\"row_id\":\"r1\",\"label\":null}}"));
    assertThat(items.get(PREFIX + "#" + ns + "#" + key(0)).get(DynamoDbSink.PREDICTION_ATTRIBUTE).s(),
        org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("pass_through")));
    try (DynamoDbPredictionStore store = store()) {
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        got.add(key(i) + " " + store.get(key(i)).prediction().get().getPassThrough());
      }
      assertThat(got, equalTo(List.of("acct-0000 {}", "acct-0001 {row_id=r1, label=null}",
          "acct-0002 {row_id=r2, label=L2}")));
    }
  }

  @Test
  public void beforeAnyPublishTheStoreSaysSo() {
    try (DynamoDbPredictionStore store = store()) {
      Lookup l = store.get(key(0));
      assertThat(l.source(), equalTo(Lookup.Source.FALLBACK));
      assertThat(l.fallbackReason().get(), equalTo("no_published_run"));
    }
  }

  @Test
  public void anItemPastItsTtlIsNotServed() {
    RunInfo run = day(28);
    publish(run, 5, sink(run).withTtl(Duration.ofHours(1)));
    java.time.Clock later = java.time.Clock.fixed(Instant.now().plus(Duration.ofHours(2)), java.time.ZoneOffset.UTC);
    try (DynamoDbPredictionStore store =
        DynamoDbPredictionStore.builder(DYNAMO.endpoint(), table).withKeyPrefix(PREFIX).withClock(later).build()) {
      assertThat(store.get(key(1)).fallbackReason().get(), equalTo("not_found"));
    }
    try (DynamoDbPredictionStore store = store()) {
      assertThat(store.get(key(1)).source(), equalTo(Lookup.Source.STORE));
    }
  }

  @Test
  public void aRunKilledMidWriteKeepsThePreviousRunServedAndItsReRunPublishesEveryKeyOnce() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(previous, 20, sink(previous));

    // The 10th write call dies (not a retryable error): nine items of the run have landed by then.
    FAIL_AT_CALL.set(10);
    try {
      Exception e = StoreTestData.runExpectingFailure(
          StoreTestData.pipeline(run, 20, faultySink(run).withBatchSize(1)));
      assertThat(StoreTestData.chain(e), containsString("injected crash"));
    } finally {
      FAIL_AT_CALL.set(0);
    }

    // Some of the run's items landed, in their own namespace, and nobody reads them.
    assertThat(itemsOfRun(run), greaterThanOrEqualTo(9L));
    assertServes(previous, 20);

    publish(run, 20, sink(run));
    assertServes(run, 20);
  }

  @Test
  public void aRunWhosePublishSignalFailsAfterAllItsWritesLeavesThePreviousRunServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(previous, 20, sink(previous));

    PCollection<Integer> check = p.apply("Check", Create.of(1)).apply(ParDo.of(new StoreTestData.FailingCheck()));
    p.apply(create(run, 20)).apply(sink(run).publishAfter(check));
    Exception e = StoreTestData.runExpectingFailure(p);
    assertThat(StoreTestData.chain(e), containsString("injected fault"));

    assertServes(previous, 20);
  }

  /** The run's own record {@code <p>#run#<run_id>}. */
  private Map<String, AttributeValue> runRecord(RunInfo run) {
    return items().get(DynamoDbSink.runKey(PREFIX, run.runId()));
  }

  @Test
  public void aBackfillPublishesItsOwnRunAndLeavesThePointerOnTheNewerOne() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(today, 10, sink(today));

    PipelineResult result = StoreTestData.pipeline(yesterday, 12, sink(yesterday)).run();
    result.waitUntilFinish();
    assertThat(counter(result, "runs_backfilled"), equalTo(1L));
    assertThat(counter(result, "runs_published"), equalTo(1L));

    assertServes(today, 10);
    Map<String, AttributeValue> record = runRecord(yesterday);
    assertThat(record.get(DynamoDbSink.RECORDS_ATTRIBUTE).n(), equalTo("12"));
    assertThat(itemsOfRun(yesterday), equalTo(12L));
    String ns = record.get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s();
    assertThat(items().get(DynamoDbSink.itemKey(PREFIX, ns, key(3))).get(DynamoDbSink.PREDICTION_ATTRIBUTE).s(),
        equalTo(prediction(yesterday, 3).toJson(key(3))));
    assertThat(Instant.parse(record.get(DynamoDbSink.PUBLISHED_AT_ATTRIBUTE).s()).isAfter(Instant.now().minusSeconds(60)),
        equalTo(true));
  }

  @Test
  public void aForcedBackfillMovesThePointerBackToIt() {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    publish(today, 10, sink(today));
    publish(yesterday, 12, sink(yesterday).withForceLatest(true));
    assertServes(yesterday, 12);
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneIsABackfill() throws Exception {
    RunInfo today = day(28);
    RunInfo yesterday = day(27);
    org.apache.beam.sdk.Pipeline older = org.apache.beam.sdk.Pipeline.create(
        org.apache.beam.sdk.options.PipelineOptionsFactory.create());
    older.apply(create(yesterday, 12)).apply(sink(yesterday)
        .publishAfter(StoreTestData.HeldGate.in(older, "dynamo-27-" + table)));
    java.util.concurrent.Future<?> done = StoreTestData.runInBackground(older);
    publish(today, 10, sink(today));
    StoreTestData.HeldGate.open("dynamo-27-" + table);
    done.get(2, java.util.concurrent.TimeUnit.MINUTES);

    assertServes(today, 10);
    assertThat(runRecord(yesterday).get(DynamoDbSink.RECORDS_ATTRIBUTE).n(), equalTo("12"));
  }

  @Test
  public void theLookupAgeCountsFromThePublishNotFromThePredictionTimestamp() throws Exception {
    // Today's run: its input window ends tomorrow, so "now minus prediction timestamp" would be negative.
    RunInfo run = RunInfo.of("fraud", java.time.LocalDate.now(java.time.ZoneOffset.UTC), RunInfo.Interval.DAILY);
    publish(run, 3, sink(run));
    Thread.sleep(1100);
    try (DynamoDbPredictionStore store = store()) {
      Lookup l = store.get(key(1));
      assertThat(l.source(), equalTo(Lookup.Source.STORE));
      assertThat(l.age().get().getSeconds(), org.hamcrest.Matchers.greaterThanOrEqualTo(1L));
      assertThat(l.age().get().getSeconds(), org.hamcrest.Matchers.lessThan(120L));
      assertThat(l.publishedAt().get().isBefore(Instant.now()), equalTo(true));
    }
  }

  @Test
  public void aReRunOfTheServedRunSwitchesToItsNewAttempt() {
    RunInfo run = day(28);
    publish(run, 30, sink(run));
    String first = pointer().get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s();
    publish(run, 30, sink(run));

    assertThat(pointer().get(DynamoDbSink.NAMESPACE_ATTRIBUTE).s(), not(equalTo(first)));
    assertServes(run, 30);
  }

  // Faults injected into the client: the counters are static because the decorator is serialized
  // with the pipeline and runs as a copy.
  private static final AtomicInteger THROTTLE = new AtomicInteger();
  private static final AtomicInteger HOLD_BACK = new AtomicInteger();
  private static final AtomicInteger THROTTLED = new AtomicInteger();
  private static final AtomicInteger HELD_BACK = new AtomicInteger();
  /** When positive: the write call that brings it to zero fails with a non-retryable error. */
  private static final AtomicInteger FAIL_AT_CALL = new AtomicInteger();

  /** Delegates to the real client, but throttles or leaves items unprocessed while the counters say so. */
  static final class FaultyClient implements DynamoDbClient {
    private final DynamoDbClient real;

    FaultyClient(DynamoDbClient real) {
      this.real = real;
    }

    @Override
    public BatchWriteItemResponse batchWriteItem(BatchWriteItemRequest request) {
      if (FAIL_AT_CALL.get() > 0 && FAIL_AT_CALL.decrementAndGet() == 0) {
        throw DynamoDbException.builder().message("injected crash").statusCode(500)
            .awsErrorDetails(AwsErrorDetails.builder().errorCode("InternalServerError")
                .errorMessage("injected crash").build()).build();
      }
      if (THROTTLE.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        THROTTLED.incrementAndGet();
        throw ProvisionedThroughputExceededException.builder().message("injected throttling")
            .awsErrorDetails(AwsErrorDetails.builder().errorCode("ProvisionedThroughputExceededException")
                .errorMessage("injected throttling").build())
            .statusCode(400).build();
      }
      Map.Entry<String, List<WriteRequest>> only = request.requestItems().entrySet().iterator().next();
      List<WriteRequest> all = only.getValue();
      if (all.size() > 1 && HOLD_BACK.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        // Write the first half for real; hand the rest back as unprocessed, as DynamoDB does under load.
        int half = all.size() / 2;
        BatchWriteItemResponse r = real.batchWriteItem(request.toBuilder()
            .requestItems(Map.of(only.getKey(), all.subList(0, half))).build());
        List<WriteRequest> left = new ArrayList<>(all.subList(half, all.size()));
        if (r.hasUnprocessedItems() && r.unprocessedItems().containsKey(only.getKey())) {
          left.addAll(r.unprocessedItems().get(only.getKey()));
        }
        HELD_BACK.addAndGet(all.size() - half);
        return BatchWriteItemResponse.builder().unprocessedItems(Map.of(only.getKey(), left)).build();
      }
      return real.batchWriteItem(request);
    }

    @Override
    public GetItemResponse getItem(GetItemRequest request) {
      return real.getItem(request);
    }

    @Override
    public PutItemResponse putItem(PutItemRequest request) {
      return real.putItem(request);
    }

    @Override
    public DescribeTableResponse describeTable(DescribeTableRequest request) {
      return real.describeTable(request);
    }

    @Override
    public String serviceName() {
      return real.serviceName();
    }

    @Override
    public void close() {
      real.close();
    }
  }

  private DynamoDbSink<String> faultySink(RunInfo run) {
    SerializableFunction<DynamoDbClient, DynamoDbClient> faulty = FaultyClient::new;
    return sink(run).withEndpoint(DYNAMO.endpoint().withClientDecorator(faulty));
  }

  @Test
  public void throttledRequestsAndUnprocessedItemsAreRetriedUntilEveryItemIsWrittenOnce() {
    RunInfo run = day(28);
    THROTTLE.set(3);
    HOLD_BACK.set(4);
    THROTTLED.set(0);
    HELD_BACK.set(0);
    p.apply(create(run, 60)).apply(faultySink(run));
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(THROTTLED.get(), equalTo(3));
    assertThat(HELD_BACK.get(), greaterThan(0));
    assertThat(counter(result, "throttled_retries"), equalTo(3L));
    assertThat(counter(result, "unprocessed_retries"), equalTo(4L));
    assertThat(counter(result, "records_written"), equalTo(60L));
    assertServes(run, 60);
    assertThat(items().size(), equalTo(62));
  }

  @Test
  public void throttlingBeyondTheRetriesFailsTheRunAndKeepsThePreviousOneServed() throws Exception {
    RunInfo previous = day(27);
    RunInfo run = day(28);
    publish(previous, 10, sink(previous));
    THROTTLE.set(1_000);
    HOLD_BACK.set(0);
    try {
      Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, 10, faultySink(run).withMaxRetries(2)));
      assertThat(StoreTestData.chain(e), containsString("throttled (ProvisionedThroughputExceededException) after 2 retries"));
      assertThat(StoreTestData.chain(e), containsString(table));
    } finally {
      THROTTLE.set(0);
    }
    assertServes(previous, 10);
  }

  @Test
  public void aTableWithAnotherKeySchemaIsRefusedNamingIt() throws Exception {
    String other = "other-schema-" + TABLES.incrementAndGet();
    try (DynamoDbClient c = DYNAMO.client()) {
      c.createTable(b -> b.tableName(other).billingMode("PAY_PER_REQUEST")
          .attributeDefinitions(a -> a.attributeName("id").attributeType("S"))
          .keySchema(k -> k.attributeName("id").keyType("HASH")));
    }
    DYNAMO.awaitActive(other);
    RunInfo run = day(28);
    Exception e = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, 3,
        DynamoDbSink.<String>to(other).withEndpoint(DYNAMO.endpoint()).withRunInfo(run)));
    assertThat(StoreTestData.chain(e), containsString("DynamoDB table " + other + " has key schema"));
    assertThat(StoreTestData.chain(e), containsString("named pk"));

    Exception missing = StoreTestData.runExpectingFailure(StoreTestData.pipeline(run, 3,
        DynamoDbSink.<String>to("no-such-table").withEndpoint(DYNAMO.endpoint()).withRunInfo(run)));
    assertThat(StoreTestData.chain(missing), containsString("DynamoDB table no-such-table does not exist"));
  }

  @Test
  public void settingsAreValidatedWhenGiven() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> DynamoDbSink.to("a b")).getMessage(),
        containsString("DynamoDB table name must match"));
    DynamoDbSink<String> s = DynamoDbSink.to("predictions");
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withBatchSize(26)).getMessage(),
        containsString("batchSize must be in [1, 25], but was 26"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withMaxRetries(-1)).getMessage(),
        containsString("maxRetries must be >= 0, but was -1"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withKeyPrefix("a#b")).getMessage(),
        containsString("keyPrefix must match"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> s.withTtl(Duration.ZERO)).getMessage(),
        containsString("ttl must be at least one second"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> DynamoDbEndpoint.of("eu-west-1").withEndpoint("localhost:8000")).getMessage(),
        containsString("endpoint must be an http(s) URL"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> DynamoDbEndpoint.of("eu-west-1").withStaticCredentials("key", Secret.none())).getMessage(),
        containsString("static credentials need the secret access key's source"));
    assertThat(DynamoDbEndpoint.of("eu-west-1").withStaticCredentials("AKIAEXAMPLE", Secret.fromEnv("DDB_SECRET"))
        .toString(), equalTo("dynamodb eu-west-1 (key AKIAEXAMPLE, secret env:DDB_SECRET)"));
    assertThat(s.withRunInfo(day(28)).effectiveTtl(), equalTo(Duration.ofHours(36)));
  }
}
