package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.api.services.bigquery.model.Job;
import com.google.api.services.bigquery.model.JobConfigurationExtract;
import com.google.api.services.bigquery.model.JobConfigurationLoad;
import com.google.api.services.bigquery.model.JobConfigurationQuery;
import com.google.api.services.bigquery.model.JobConfigurationTableCopy;
import com.google.api.services.bigquery.model.JobReference;
import com.google.api.services.bigquery.model.JobStatistics;
import com.google.api.services.bigquery.model.TableRow;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import dev.batchserve.transforms.gcp.BigQuerySink;
import dev.batchserve.transforms.gcp.testing.FakeBigQuery;
import dev.batchserve.transforms.gcp.testing.PartitionReplacingJobService;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisPredictionStore;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.testing.RedisServer;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import redis.clients.jedis.Jedis;

/**
 * Backfills with the real job on the Direct runner, files and Redis (issue 18): a run of an older run
 * date than the one served publishes its own run and leaves every latest pointer where it is, and the
 * run's summary says so; {@code --forceLatest} moves the pointers back; an older run that finishes
 * after a newer one started later is a backfill too (files, Redis and BigQuery, read from BigQuery's
 * fakes with the older run's export held until the newer run has published).
 */
public class BackfillTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @ClassRule public static final RedisServer REDIS = new RedisServer();
  private static final int ACCOUNTS = 200;
  private static final String TODAY = "2026-11-28";
  private static final String YESTERDAY = "2026-11-27";

  private static Path model;
  private static Path input;

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    model = TMP.newFolder("model").toPath();
    TrainFraudModel.train(model, 2000, 7, "1");
    input = TMP.getRoot().toPath().resolve("in/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(ACCOUNTS, 42), input);
  }

  @Before
  public void clean() {
    REDIS.flushAll();
  }

  private static BatchScoringOptions options(Path out, String date, String... more) {
    List<String> a = new ArrayList<>(List.of("--runner=DirectRunner", "--model=" + model,
        "--output=" + out, "--runDate=" + date, "--formats=jsonl", "--progressEvery=0",
        "--redisHost=" + REDIS.host(), "--redisPort=" + REDIS.port(), "--redisPrefix=fraud"));
    a.addAll(List.of(more));
    if (a.stream().noneMatch(arg -> arg.startsWith("--input="))) {
      a.add("--input=" + input);
    }
    if (a.stream().noneMatch(arg -> arg.startsWith("--numShards="))) {
      a.add("--numShards=2");
    }
    return PipelineOptionsFactory.fromArgs(a.toArray(new String[0])).withValidation().as(BatchScoringOptions.class);
  }

  private static RunInfo run(String date) {
    return BatchScoringPipeline.runInfo(options(Path.of("/unused"), date));
  }

  /** The run readers of the files get: the one {@code _LATEST} names. */
  private static String filesServe(Path root) {
    return FileSink.runIdOf(FileSink.latestDirectory(root.toString()));
  }

  /** The run readers of Redis get, through the lookup client. */
  private static String redisServes() {
    try (RedisPredictionStore store = RedisPredictionStore.builder(RedisEndpoint.of(REDIS.host(), REDIS.port()))
        .withKeyPrefix("fraud").build()) {
      Lookup l = store.get("acct-000001");
      assertThat(l.toString(), l.source(), is(Lookup.Source.STORE));
      assertTrue("a fresh run's age is small and never negative: " + l, l.age().get().getSeconds() < 600);
      return l.servedRunId().get();
    }
  }

  /** Every key of the run's own published attempt, readable as a partition (its {@code _CURRENT}). */
  private static void assertPublishedAsItsOwnRun(Path root, String date) throws Exception {
    String dir = FileSink.publishedDirectory(root.toString(), run(date));
    assertThat("published: " + date, dir, not(nullValue()));
    Map<String, JsonNode> keys = PublishedFiles.jsonLines(dir);
    assertThat(keys.size(), is(ACCOUNTS));
    assertThat(keys.values().iterator().next().get("run_id").asText(), is(run(date).runId()));
    try (Jedis j = REDIS.client()) {
      String ns = j.hget(RedisSink.runKey("fraud", run(date).runId()), "namespace");
      assertThat("Redis namespace of " + date, ns, not(nullValue()));
      assertThat(j.get(RedisSink.valueKey("fraud", ns, "acct-000001")), containsString(run(date).runId()));
    }
  }

  @Test
  public void yesterdaysRunAfterTodaysIsABackfillThatReadersDoNotSee() throws Exception {
    Path root = TMP.newFolder("in-order").toPath();
    RunSummary today = BatchScoringPipeline.run(options(root, TODAY));
    assertThat(today.isBackfill(), is(false));
    assertThat(today.render(), not(containsString("backfill:")));

    RunSummary yesterday = BatchScoringPipeline.run(options(root, YESTERDAY));
    assertThat(yesterday.isBackfill(), is(true));
    assertThat(yesterday.servedInstead, is(run(TODAY).runId()));
    assertThat(yesterday.backfilledStores, is(List.of("files", "redis")));
    assertThat(yesterday.render(), containsString(
        "backfill: run fraud-daily-20261127 published; readers still see fraud-daily-20261128"));

    assertThat(filesServe(root), is(run(TODAY).runId()));
    assertThat(redisServes(), is(run(TODAY).runId()));
    assertPublishedAsItsOwnRun(root, YESTERDAY);
  }

  @Test
  public void forceLatestMovesEveryPointerBackToTheOlderRun() throws Exception {
    Path root = TMP.newFolder("forced").toPath();
    BatchScoringPipeline.run(options(root, TODAY));
    RunSummary yesterday = BatchScoringPipeline.run(options(root, YESTERDAY, "--forceLatest"));
    assertThat(yesterday.isBackfill(), is(false));
    assertThat(filesServe(root), is(run(YESTERDAY).runId()));
    assertThat(redisServes(), is(run(YESTERDAY).runId()));
    // Today's run stays published as its own run.
    assertThat(FileSink.publishedDirectory(root.toString(), run(TODAY)), not(nullValue()));
  }

  /**
   * A BigQuery job service that holds every extract job (the export a BigQuery source starts when the
   * job runs) until the test lets it go, so a run can be kept from finishing: the run it belongs to
   * reads nothing, so publishes nothing, before {@link #release}.
   */
  static final class HeldExtracts implements BigQueryServices.JobService, java.io.Serializable {
    private static final java.util.concurrent.CountDownLatch REACHED = new java.util.concurrent.CountDownLatch(1);
    private static final java.util.concurrent.CountDownLatch RELEASED = new java.util.concurrent.CountDownLatch(1);
    private final BigQueryServices.JobService jobs;

    HeldExtracts(BigQueryServices.JobService jobs) {
      this.jobs = jobs;
    }

    static boolean awaitReached() throws InterruptedException {
      return REACHED.await(5, TimeUnit.MINUTES);
    }

    static void release() {
      RELEASED.countDown();
    }

    @Override
    public void startExtractJob(JobReference ref, JobConfigurationExtract extract)
        throws InterruptedException, java.io.IOException {
      REACHED.countDown();
      if (!RELEASED.await(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("the test never released the held extract job");
      }
      jobs.startExtractJob(ref, extract);
    }

    @Override
    public void startLoadJob(JobReference ref, JobConfigurationLoad load) throws InterruptedException, java.io.IOException {
      jobs.startLoadJob(ref, load);
    }

    @Override
    public void startLoadJob(JobReference ref, JobConfigurationLoad load,
        com.google.api.client.http.AbstractInputStreamContent content) throws InterruptedException, java.io.IOException {
      jobs.startLoadJob(ref, load, content);
    }

    @Override
    public void startQueryJob(JobReference ref, JobConfigurationQuery query) throws java.io.IOException, InterruptedException {
      jobs.startQueryJob(ref, query);
    }

    @Override
    public void startCopyJob(JobReference ref, JobConfigurationTableCopy copy)
        throws java.io.IOException, InterruptedException {
      jobs.startCopyJob(ref, copy);
    }

    @Override
    public Job pollJob(JobReference ref, int maxAttempts) throws InterruptedException {
      return jobs.pollJob(ref, maxAttempts);
    }

    @Override
    public JobStatistics dryRunQuery(String projectId, JobConfigurationQuery query, @Nullable String location)
        throws InterruptedException, java.io.IOException {
      return jobs.dryRunQuery(projectId, query, location);
    }

    @Override
    public Job getJob(JobReference ref) throws java.io.IOException, InterruptedException {
      return jobs.getJob(ref);
    }

    @Override
    public void close() throws Exception {
      jobs.close();
    }
  }

  /** The sample accounts as a BigQuery table (integers as Long, as the fake's reads need). */
  private static void loadAccounts(FakeBigQuery bq) {
    List<Map<String, Object>> sample = FraudSample.generate(ACCOUNTS, 42);
    Map<String, String> types = new java.util.LinkedHashMap<>();
    for (String col : FraudSample.COLUMNS) {
      Object v = sample.get(0).get(col);
      types.put(col, v instanceof String ? "STRING" : v instanceof Boolean ? "BOOLEAN"
          : v instanceof Double || v instanceof Float ? "FLOAT" : "INTEGER");
    }
    List<TableRow> rows = new ArrayList<>();
    for (Map<String, Object> r : sample) {
      TableRow row = new TableRow();
      for (String col : FraudSample.COLUMNS) {
        Object v = r.get(col);
        row.set(col, v instanceof Integer ? Long.valueOf((Integer) v) : v);
      }
      rows.add(row);
    }
    bq.table("features", "accounts", types, rows);
  }

  private static BatchScoringOptions fromBigQuery(Path out, String date, FakeBigQuery bq, BigQueryServices services)
      throws Exception {
    BatchScoringOptions o = options(out, date, "--input=bigquery:" + FakeBigQuery.PROJECT + ":features.accounts",
        "--keyColumns=account_id", "--bigQueryTable=" + FakeBigQuery.PROJECT + ":serving.fraud_scores");
    bq.configure(o, TMP.newFolder().getAbsolutePath());
    o.setBigQueryServices(services);
    return o;
  }

  /** The run BigQuery's latest pointer ({@code <table>__latest}) names. */
  private static String bigQueryServes(FakeBigQuery bq) {
    List<TableRow> latest = bq.rows("serving", "fraud_scores" + BigQuerySink.LATEST_SUFFIX);
    assertThat(latest.size(), is(1));
    return (String) latest.get(0).get("run_id");
  }

  @Test
  public void anOlderRunThatFinishesAfterANewerOneLeavesTheNewerOneServed() throws Exception {
    Path root = TMP.newFolder("out-of-order").toPath();
    FakeBigQuery bq = new FakeBigQuery().dataset("features").dataset("serving");
    loadAccounts(bq);
    BigQueryServices held = new FakeBigQueryServices().withDatasetService(bq.datasets)
        .withJobService(new HeldExtracts(new PartitionReplacingJobService(bq.jobs, bq.datasets)));
    // Yesterday's run starts first and is held at its read ...
    ExecutorService background = Executors.newSingleThreadExecutor();
    Future<RunSummary> yesterday;
    try {
      BatchScoringOptions o = fromBigQuery(root, YESTERDAY, bq, held);
      yesterday = background.submit(() -> BatchScoringPipeline.run(o));
    } finally {
      background.shutdown();
    }
    assertTrue("yesterday's run reached its read", HeldExtracts.awaitReached());
    // ... today's run starts later and publishes first ...
    RunSummary today = BatchScoringPipeline.run(fromBigQuery(root, TODAY, bq, bq.services));
    assertThat(today.isBackfill(), is(false));
    assertThat(bigQueryServes(bq), is(run(TODAY).runId()));
    // ... and yesterday's, let go, publishes last.
    HeldExtracts.release();
    RunSummary late = yesterday.get(10, TimeUnit.MINUTES);

    assertThat(late.render(), containsString(
        "backfill: run fraud-daily-20261127 published; readers still see fraud-daily-20261128"));
    assertThat(late.backfilledStores, is(List.of("files", "redis", "bigquery")));
    assertThat(filesServe(root), is(run(TODAY).runId()));
    assertThat(redisServes(), is(run(TODAY).runId()));
    assertThat(bigQueryServes(bq), is(run(TODAY).runId()));
    assertPublishedAsItsOwnRun(root, YESTERDAY);
    // Yesterday's rows are in its own partition beside today's.
    long rows = bq.rows("serving", "fraud_scores").stream()
        .filter(r -> run(YESTERDAY).runId().equals(r.get("run_id"))).count();
    assertThat(rows, is((long) ACCOUNTS));
  }
}
