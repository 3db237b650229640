package dev.batchserve.transforms.aws;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.sink.PublishedRun;
import dev.batchserve.transforms.sink.StagedPublish;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.util.BackOff;
import org.apache.beam.sdk.util.BackOffUtils;
import org.apache.beam.sdk.util.FluentBackoff;
import org.apache.beam.sdk.util.Sleeper;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.checkerframework.checker.nullness.qual.Nullable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutRequest;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

/**
 * Writes keyed predictions to a DynamoDB table under the attempt's own namespace and publishes the
 * run by one conditional write of a pointer item.
 *
 * <p>The table has one string partition key named {@value #KEY_ATTRIBUTE} and no sort key; enable
 * DynamoDB's Time to Live on {@value #TTL_ATTRIBUTE} so that old runs are deleted:
 *
 * <pre>
 * aws dynamodb create-table --table-name predictions --billing-mode PAY_PER_REQUEST \
 *   --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH
 * aws dynamodb update-time-to-live --table-name predictions \
 *   --time-to-live-specification Enabled=true,AttributeName=expires_at
 * </pre>
 *
 * <p>Items ({@code <p>} = the key prefix, default {@code predictions}; {@code <ns>} = {@code
 * <run_id>~<attempt>}, a fresh attempt id per execution of the pipeline):
 *
 * <pre>
 * pk = &lt;p&gt;#&lt;ns&gt;#&lt;key&gt;   prediction (JSON, {@link Prediction#toJson}), run_id, expires_at (epoch s)
 * pk = &lt;p&gt;#current          namespace, run_id, prediction_timestamp (ms), records, published_at
 * pk = &lt;p&gt;#run#&lt;run_id&gt;     the same for one published run, served or not (a backfill), with a TTL
 * </pre>
 *
 * <p>A reader ({@code DynamoDbPredictionStore}) reads the pointer, then the item in the namespace it
 * names. The steps of a run:
 *
 * <ol>
 *   <li>Prepare: check the table's key schema; choose the attempt's namespace.
 *   <li>Write: {@code BatchWriteItem} of up to 25 items, flushed when full and at the end of each
 *       bundle. Items DynamoDB leaves unprocessed and throttled requests
 *       ({@code ProvisionedThroughputExceeded}, {@code RequestLimitExceeded}, {@code Throttling}) are
 *       retried with exponential backoff, bounded by {@link #withMaxRetries}; any other error fails
 *       the bundle. Each bundle reports how many items DynamoDB confirmed.
 *   <li>Publish, after every write and every {@link #publishAfter} signal ({@code Wait.on}): check
 *       that the confirmed writes equal the input count, record the run in {@code <p>#run#<run_id>},
 *       then one {@code PutItem} of the pointer on the condition that it does not exist, names this
 *       run id, or names a prediction timestamp no newer than this run's, so the served run never
 *       moves back in time.
 * </ol>
 *
 * <p>Backfills: when that condition fails (a newer run is served, {@link Backfill#isOlder}; decided
 * by DynamoDB, so also for runs finishing out of order), the run stays published as its own run (its
 * namespace and {@code <p>#run#<run_id>}), the pointer stays on the newer run, and the publish step
 * logs {@code backfill: run <id> published; readers still see <id>}. {@link #withForceLatest} writes
 * the pointer without the condition instead. A backfill's items expire with their TTL like any run's.
 *
 * <p>A failed attempt never moves the pointer, so the previous run stays fully served; its items
 * are never read and expire by their TTL. A re-run writes a new namespace, so it publishes every key
 * exactly once whatever an earlier attempt left. The items of the run a pointer switch replaces stay
 * readable until their TTL (default 1.5 x the run's interval), so a reader that read the old pointer
 * just before the switch still finds its item. DynamoDB deletes expired items lazily (within days),
 * so the store also treats an item past its {@code expires_at} as absent.
 *
 * <pre>{@code
 * predictions.apply(DynamoDbSink.<String>to("predictions")
 *     .withEndpoint(DynamoDbEndpoint.of("eu-west-1"))
 *     .withRunInfo(run).withKeyPrefix("fraud")
 *     .publishAfter(keyed.counts()));
 * }</pre>
 *
 * <p><b>Why this class is long.</b> It is one store's whole connector: the builder with its
 * validated settings (each with an example), the staged batch writes with retries of unprocessed
 * items, the publish (a conditional write of the run's pointer item) and the expiry of old runs
 * by their TTL attribute. Each of these is DynamoDB-specific; the protocol they share with the other
 * stores (stage, verify the counts, publish after the gates) is {@code StagedPublish}.
 */
public final class DynamoDbSink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.dynamodb";
  /** The table's partition key (string). */
  public static final String KEY_ATTRIBUTE = "pk";
  /** Epoch seconds after which an item is expired; the table's TTL attribute. */
  public static final String TTL_ATTRIBUTE = "expires_at";
  public static final String PREDICTION_ATTRIBUTE = "prediction";
  public static final String RUN_ID_ATTRIBUTE = "run_id";
  public static final String NAMESPACE_ATTRIBUTE = "namespace";
  public static final String TIMESTAMP_ATTRIBUTE = "prediction_timestamp";
  public static final String RECORDS_ATTRIBUTE = "records";
  public static final String PUBLISHED_AT_ATTRIBUTE = "published_at";
  /** DynamoDB's limit of items per {@code BatchWriteItem}. */
  public static final int MAX_BATCH = 25;
  private static final int MAX_PARTITION_KEY_BYTES = 2048;
  private static final Pattern TABLE = Pattern.compile("[A-Za-z0-9_.-]{3,255}");
  private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.:/-]{1,200}");

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DynamoDbSink.class);

  private final String table;
  private DynamoDbEndpoint endpoint = DynamoDbEndpoint.of("us-east-1");
  private String keyPrefix = "predictions";
  private @Nullable RunInfo runInfo;
  private @Nullable Duration ttl;
  private int batchSize = MAX_BATCH;
  private boolean forceLatest;
  private int maxRetries = 10;
  private org.joda.time.Duration initialBackoff = org.joda.time.Duration.millis(100);
  private transient List<PCollection<?>> signals = List.of();

  private DynamoDbSink(String table) {
    this.table = table;
  }

  /**
   * A DynamoDB table (one string partition key {@code pk}): every prediction as an item under the
   * attempt's own namespace with a TTL, published by one conditional write of the pointer item
   * {@code <prefix>#current} (formerly {@code SinkWithMetadata.dynamoDb}).
   *
   * <pre>{@code
   * predictions.apply(DynamoDbSink.<String>to("predictions").withRunInfo(run).withKeyPrefix("fraud"));
   * }</pre>
   */
  public static <K> DynamoDbSink<K> to(String table) {
    checkArgument(table != null && TABLE.matcher(table).matches(),
        "DynamoDB table name must match %s, but was '%s'", TABLE.pattern(), table);
    return new DynamoDbSink<>(table);
  }

  private DynamoDbSink<K> copy() {
    DynamoDbSink<K> c = new DynamoDbSink<>(table);
    c.endpoint = endpoint;
    c.keyPrefix = keyPrefix;
    c.runInfo = runInfo;
    c.ttl = ttl;
    c.batchSize = batchSize;
    c.forceLatest = forceLatest;
    c.maxRetries = maxRetries;
    c.initialBackoff = initialBackoff;
    c.signals = signals;
    return c;
  }

  /** The run being written (required). */
  public DynamoDbSink<K> withRunInfo(RunInfo run) {
    DynamoDbSink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** Region, endpoint and credentials (default: {@code us-east-1}, default credentials chain). */
  public DynamoDbSink<K> withEndpoint(DynamoDbEndpoint endpoint) {
    DynamoDbSink<K> c = copy();
    c.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    return c;
  }

  /** Key prefix, default {@code predictions}; letters, digits and {@code _ . : / -} only. */
  public DynamoDbSink<K> withKeyPrefix(String prefix) {
    checkArgument(prefix != null && PREFIX.matcher(prefix).matches(),
        "keyPrefix must match %s, but was '%s'", PREFIX.pattern(), prefix);
    DynamoDbSink<K> c = copy();
    c.keyPrefix = prefix;
    return c;
  }

  /** Time to live of every written item (default 1.5 x the run's interval). */
  public DynamoDbSink<K> withTtl(Duration ttl) {
    checkArgument(ttl != null && ttl.getSeconds() > 0, "ttl must be at least one second, but was %s", ttl);
    DynamoDbSink<K> c = copy();
    c.ttl = ttl;
    return c;
  }

  /** Items per {@code BatchWriteItem} (default and maximum 25). */
  public DynamoDbSink<K> withBatchSize(int n) {
    checkArgument(n >= 1 && n <= MAX_BATCH, "batchSize must be in [1, %s], but was %s", MAX_BATCH, n);
    DynamoDbSink<K> c = copy();
    c.batchSize = n;
    return c;
  }

  /** Retries of one batch's unprocessed items or throttled requests before the bundle fails (default 10). */
  public DynamoDbSink<K> withMaxRetries(int n) {
    checkArgument(n >= 0, "maxRetries must be >= 0, but was %s", n);
    DynamoDbSink<K> c = copy();
    c.maxRetries = n;
    return c;
  }

  /** The first backoff between retries, doubling up to 1 minute (default 100 ms). */
  public DynamoDbSink<K> withInitialBackoff(Duration backoff) {
    checkArgument(backoff != null && backoff.toMillis() > 0, "initialBackoff must be positive, but was %s", backoff);
    DynamoDbSink<K> c = copy();
    c.initialBackoff = org.joda.time.Duration.millis(backoff.toMillis());
    return c;
  }

  /**
   * Whether a backfill moves the pointer {@code <p>#current} back to it (default false): a run older
   * than the served one ({@link Backfill#isOlder}) is published as its own run, its items and
   * {@code <p>#run#<run_id>}, and the pointer stays on the newer run, unless this is set:
   *
   * <pre>{@code
   * DynamoDbSink.<String>to("predictions").withRunInfo(yesterday).withForceLatest(true);
   * }</pre>
   */
  public DynamoDbSink<K> withForceLatest(boolean force) {
    DynamoDbSink<K> c = copy();
    c.forceLatest = force;
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public DynamoDbSink<K> publishAfter(PCollection<?>... more) {
    DynamoDbSink<K> c = copy();
    c.signals = StagedPublish.plus(signals, more);
    return c;
  }

  /** The TTL that applies: the configured one, else 1.5 x the interval. */
  public Duration effectiveTtl() {
    checkState(runInfo != null, "DynamoDbSink needs withRunInfo(run)");
    return ttl != null ? ttl : runInfo.interval().length().multipliedBy(3).dividedBy(2);
  }

  /** {@code <prefix>#<namespace>#<key>}: where one prediction of one attempt lives. */
  public static String itemKey(String prefix, String namespace, String key) {
    return prefix + "#" + namespace + "#" + key;
  }

  /** {@code <prefix>#current}: the pointer item readers resolve. */
  public static String pointerKey(String prefix) {
    return prefix + "#current";
  }

  /** {@code <prefix>#run#<run_id>}: one published run's record (namespace, timestamps, records), served or not. */
  public static String runKey(String prefix, String runId) {
    return prefix + "#run#" + runId;
  }

  /** The partition-key value of {@code key} as an item key map. */
  static Map<String, AttributeValue> key(String pk) {
    return Map.of(KEY_ATTRIBUTE, AttributeValue.builder().s(pk).build());
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "DynamoDbSink needs withRunInfo(run)");
    RunInfo run = runInfo;
    long ttlSeconds = effectiveTtl().getSeconds();
    return StagedPublish.<K>of("DynamoDbSink", METRICS_NAMESPACE, run, signals)
        .preparedBy(new PrepareFn(endpoint, table, keyPrefix, run))
        .writing((in, attempt) -> {
          PCollectionView<String> namespace = attempt.view();
          PCollection<Long> confirmed = in
              .apply("Write", ParDo.of(new WriteFn<K>(endpoint, table, keyPrefix, run.runId(), namespace, ttlSeconds,
                      batchSize, maxRetries, initialBackoff))
                  .withSideInputs(namespace))
              .setCoder(VarLongCoder.of());
          return StagedPublish.Staged.confirmed(confirmed, "DynamoDB table " + table,
              new Switch(endpoint, table, keyPrefix, run, forceLatest, ttlSeconds));
        })
        .expand(input);
  }

  /** The served pointer item, read consistently; null when no run was ever published. */
  static @Nullable Map<String, AttributeValue> pointer(DynamoDbClient client, String table, String prefix) {
    Map<String, AttributeValue> item = client.getItem(GetItemRequest.builder()
        .tableName(table).key(key(pointerKey(prefix))).consistentRead(true).build()).item();
    return item == null || item.isEmpty() ? null : item;
  }

  /** Fails unless the table has exactly one partition key, a string named {@value #KEY_ATTRIBUTE}. */
  static void checkTable(DynamoDbClient client, String table, DynamoDbEndpoint endpoint) {
    TableDescription d;
    try {
      d = client.describeTable(b -> b.tableName(table)).table();
    } catch (ResourceNotFoundException e) {
      throw new IllegalStateException("DynamoDB table " + table + " does not exist at " + endpoint
          + "; create it with a string partition key named " + KEY_ATTRIBUTE
          + " (aws dynamodb create-table --table-name " + table
          + " --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH"
          + " --billing-mode PAY_PER_REQUEST)", e);
    }
    List<KeySchemaElement> schema = d.keySchema();
    boolean ok = schema.size() == 1 && schema.get(0).keyType() == KeyType.HASH
        && KEY_ATTRIBUTE.equals(schema.get(0).attributeName())
        && d.attributeDefinitions().stream().anyMatch(a -> KEY_ATTRIBUTE.equals(a.attributeName())
            && "S".equals(a.attributeTypeAsString()));
    checkState(ok, "DynamoDB table %s has key schema %s, but the prediction sink needs one string partition key"
        + " named %s and no sort key", table, schema, KEY_ATTRIBUTE);
  }

  /** The served run's id when it is newer than {@code run} (so {@code run} is a backfill), else null. */
  private static @Nullable String newerServedRun(@Nullable Map<String, AttributeValue> served, RunInfo run) {
    if (served == null) {
      return null;
    }
    String servedRun = served.get(RUN_ID_ATTRIBUTE).s();
    Instant ts = Instant.ofEpochMilli(Long.parseLong(served.get(TIMESTAMP_ATTRIBUTE).n()));
    return Backfill.isOlder(run, servedRun, ts) ? servedRun : null;
  }

  private static final class PrepareFn extends DoFn<String, String> {
    private final DynamoDbEndpoint endpoint;
    private final String table;
    private final String prefix;
    private final RunInfo run;

    PrepareFn(DynamoDbEndpoint endpoint, String table, String prefix, RunInfo run) {
      this.endpoint = endpoint;
      this.table = table;
      this.prefix = prefix;
      this.run = run;
    }

    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) {
      try (DynamoDbClient client = endpoint.open()) {
        checkTable(client, table, endpoint);
        // Decided again at publish, by the pointer's condition: a newer run may be published meanwhile.
        String newer = newerServedRun(pointer(client, table, prefix), run);
        if (newer != null) {
          LOG.info("Run {} is older than the run {} served by DynamoDB table {}: it will be published as a backfill",
              run.runId(), newer, table);
        }
      }
      // A fresh namespace per attempt: what an earlier, unpublished attempt wrote is never read.
      out.output(runId + "~" + UUID.randomUUID().toString().substring(0, 8));
    }
  }

  private static final class WriteFn<K> extends DoFn<KV<K, Prediction>, Long> {
    private final DynamoDbEndpoint endpoint;
    private final String table;
    private final String prefix;
    private final String runId;
    private final PCollectionView<String> namespaceView;
    private final long ttlSeconds;
    private final int batchSize;
    private final int maxRetries;
    private final org.joda.time.Duration initialBackoff;
    private final Counter records = Metrics.counter(METRICS_NAMESPACE, "records_written");
    private final Counter unprocessedRetries = Metrics.counter(METRICS_NAMESPACE, "unprocessed_retries");
    private final Counter throttledRetries = Metrics.counter(METRICS_NAMESPACE, "throttled_retries");
    private final Distribution batches = Metrics.distribution(METRICS_NAMESPACE, "records_per_batch");
    private transient @Nullable DynamoDbClient client;
    private transient Map<String, WriteRequest> batch;
    private transient long confirmedInBundle;
    private transient @Nullable String namespace;

    WriteFn(DynamoDbEndpoint endpoint, String table, String prefix, String runId, PCollectionView<String> namespaceView,
        long ttlSeconds, int batchSize, int maxRetries, org.joda.time.Duration initialBackoff) {
      this.endpoint = endpoint;
      this.table = table;
      this.prefix = prefix;
      this.runId = runId;
      this.namespaceView = namespaceView;
      this.ttlSeconds = ttlSeconds;
      this.batchSize = batchSize;
      this.maxRetries = maxRetries;
      this.initialBackoff = initialBackoff;
    }

    @Setup
    public void setup() {
      client = endpoint.open();
    }

    @StartBundle
    public void startBundle() {
      batch = new LinkedHashMap<>();
      confirmedInBundle = 0;
      namespace = null;
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException, InterruptedException {
      if (namespace == null) {
        namespace = c.sideInput(namespaceView);
      }
      KV<K, Prediction> kv = c.element();
      String key = String.valueOf(kv.getKey());
      String pk = itemKey(prefix, namespace, key);
      checkArgument(pk.getBytes(StandardCharsets.UTF_8).length <= MAX_PARTITION_KEY_BYTES,
          "key '%s' makes a DynamoDB partition key of more than %s bytes (%s)", key, MAX_PARTITION_KEY_BYTES, pk);
      if (batch.containsKey(pk)) {
        flush(); // one BatchWriteItem may not name the same key twice
      }
      Map<String, AttributeValue> item = new LinkedHashMap<>();
      item.put(KEY_ATTRIBUTE, AttributeValue.builder().s(pk).build());
      item.put(PREDICTION_ATTRIBUTE, AttributeValue.builder().s(kv.getValue().toJson(key)).build());
      item.put(RUN_ID_ATTRIBUTE, AttributeValue.builder().s(runId).build());
      item.put(TTL_ATTRIBUTE, AttributeValue.builder()
          .n(Long.toString(Instant.now().getEpochSecond() + ttlSeconds)).build());
      batch.put(pk, WriteRequest.builder().putRequest(PutRequest.builder().item(item).build()).build());
      if (batch.size() >= batchSize) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext c) throws IOException, InterruptedException {
      flush();
      c.output(confirmedInBundle, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE);
    }

    /** Writes the batch; retries unprocessed items and throttled calls with backoff, bounded. */
    private void flush() throws IOException, InterruptedException {
      if (batch.isEmpty()) {
        return;
      }
      int size = batch.size();
      List<WriteRequest> pending = new ArrayList<>(batch.values());
      batch.clear();
      BackOff backoff = FluentBackoff.DEFAULT.withInitialBackoff(initialBackoff)
          .withMaxBackoff(org.joda.time.Duration.standardMinutes(1)).withMaxRetries(maxRetries).backoff();
      while (true) {
        String why;
        try {
          BatchWriteItemResponse r = client.batchWriteItem(BatchWriteItemRequest.builder()
              .requestItems(Map.of(table, pending)).build());
          List<WriteRequest> left = r.hasUnprocessedItems() && r.unprocessedItems().containsKey(table)
              ? r.unprocessedItems().get(table) : List.of();
          int done = pending.size() - left.size();
          records.inc(done);
          confirmedInBundle += done;
          if (left.isEmpty()) {
            break;
          }
          unprocessedRetries.inc();
          why = left.size() + " of " + pending.size() + " items unprocessed";
          pending = new ArrayList<>(left);
        } catch (DynamoDbException e) {
          if (!isThrottling(e)) {
            throw e;
          }
          throttledRetries.inc();
          why = "throttled (" + e.awsErrorDetails().errorCode() + ")";
        }
        if (!BackOffUtils.next(Sleeper.DEFAULT, backoff)) {
          throw new IllegalStateException("DynamoDB table " + table + " (" + endpoint + "): run " + runId + " still had "
              + why + " after " + maxRetries + " retries; raise the table's write capacity (or use on-demand"
              + " billing) or the sink's maxRetries");
        }
      }
      batches.update(size);
    }

    @Teardown
    public void teardown() {
      if (client != null) {
        client.close();
        client = null;
      }
    }
  }

  /** Throttling that a later retry can get past; everything else is the caller's problem. */
  static boolean isThrottling(DynamoDbException e) {
    if (e.isThrottlingException()) {
      return true;
    }
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return "ProvisionedThroughputExceededException".equals(code) || "RequestLimitExceeded".equals(code)
        || "ThrottlingException".equals(code);
  }

  /** The publish: the run's record, then one conditional write of the pointer. */
  private static final class Switch implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final DynamoDbEndpoint endpoint;
    private final String table;
    private final String prefix;
    private final RunInfo run;
    private final boolean forceLatest;
    private final long ttlSeconds;

    Switch(DynamoDbEndpoint endpoint, String table, String prefix, RunInfo run, boolean forceLatest, long ttlSeconds) {
      this.endpoint = endpoint;
      this.table = table;
      this.prefix = prefix;
      this.run = run;
      this.forceLatest = forceLatest;
      this.ttlSeconds = ttlSeconds;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context c) {
      String ns = c.attempt();
      long ts = run.predictionTimestamp().toEpochMilli();
      Map<String, AttributeValue> item = new LinkedHashMap<>();
      item.put(KEY_ATTRIBUTE, AttributeValue.builder().s(pointerKey(prefix)).build());
      item.put(NAMESPACE_ATTRIBUTE, AttributeValue.builder().s(ns).build());
      item.put(RUN_ID_ATTRIBUTE, AttributeValue.builder().s(run.runId()).build());
      item.put(TIMESTAMP_ATTRIBUTE, AttributeValue.builder().n(Long.toString(ts)).build());
      item.put(RECORDS_ATTRIBUTE, AttributeValue.builder().n(Long.toString(c.records())).build());
      Instant now = Instant.now();
      item.put(PUBLISHED_AT_ATTRIBUTE, AttributeValue.builder().s(now.toString()).build());
      try (DynamoDbClient client = endpoint.open()) {
        // The run's own record first: a backfill is published by it alone.
        Map<String, AttributeValue> record = new LinkedHashMap<>(item);
        record.put(KEY_ATTRIBUTE, AttributeValue.builder().s(runKey(prefix, run.runId())).build());
        record.put(TTL_ATTRIBUTE, AttributeValue.builder().n(Long.toString(now.getEpochSecond() + ttlSeconds)).build());
        client.putItem(PutItemRequest.builder().tableName(table).item(record).build());
        PutItemRequest.Builder put = PutItemRequest.builder().tableName(table).item(item);
        if (!forceLatest) {
          // The one switch: readers move from the previous run's namespace to this one, never back in time.
          put.conditionExpression("attribute_not_exists(#pk) OR #run = :run OR #ts <= :ts")
              .expressionAttributeNames(Map.of("#pk", KEY_ATTRIBUTE, "#ts", TIMESTAMP_ATTRIBUTE, "#run", RUN_ID_ATTRIBUTE))
              .expressionAttributeValues(Map.of(":ts", AttributeValue.builder().n(Long.toString(ts)).build(),
                  ":run", AttributeValue.builder().s(run.runId()).build()));
        }
        try {
          client.putItem(put.build());
        } catch (ConditionalCheckFailedException e) {
          // A newer run is served: this run stays published as its own run, a backfill.
          Map<String, AttributeValue> served = pointer(client, table, prefix);
          String newer = newerServedRun(served, run);
          if (newer == null) {
            throw new IllegalStateException("run " + run.runId() + ": the pointer " + pointerKey(prefix) + " of "
                + table + " changed during the publish; not published as the served run, re-run it", e);
          }
          return StagedPublish.Published.backfill(run.runId(), newer,
              "DynamoDB table " + table + ": " + pointerKey(prefix) + " unchanged");
        }
      }
      return StagedPublish.Published.latest(run.runId());
    }
  }
}
