package dev.batchserve.examples.recommend;

import dev.batchserve.tools.samples.RecommendSample;
import dev.batchserve.models.training.TopKExporter;
import dev.batchserve.pipelines.recommend.Recommend;
import dev.batchserve.pipelines.OutputShards;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.pipelines.StoreSinkOptions;
import dev.batchserve.pipelines.StoreSinks;
import dev.batchserve.pipelines.monitoring.PreviousRun;
import dev.batchserve.pipelines.schedule.Schedule;
import dev.batchserve.pipelines.schedule.ScheduleOptions;
import dev.batchserve.transforms.compare.TopKOverlap;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.sink.PublishedRun;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.Row;

/**
 * The recommendations example: generated users (embeddings, purchases; 5% new) -> top-100 items per
 * user from a TensorFlow SavedModel ({@code matMul} + {@code topK}, purchased items masked) in
 * batches of 256 -> new users get the 100 most popular items ({@code fallback_reason = cold_start})
 * -> Parquet (and Redis with a 36 h TTL when {@code --redisHost} is set), published all-or-nothing.
 * The model is exported from the generated catalog into {@code --model} when that directory has no
 * manifest yet.
 *
 * <pre>
 * mvn -pl examples/jobs exec:java -Dexec.mainClass=dev.batchserve.examples.recommend.RecommendPipeline \
 *   -Dexec.args="--runner=DirectRunner --users=100000 --items=5000 --runDate=2026-11-28"
 * </pre>
 */
public final class RecommendPipeline {
  public static final String MODEL_NAME = "recs-topk";

  private RecommendPipeline() {}

  /** Options of the example. */
  public interface Options extends StoreSinkOptions, ScheduleOptions {
    @Description("Users to generate (tiny for tests, millions for benchmarks).")
    @Default.Integer(10_000)
    int getUsers();

    void setUsers(int value);

    @Description("Items in the catalog.")
    @Default.Integer(2_000)
    int getItems();

    void setItems(int value);

    @Description("Dimensions of the user and item embeddings.")
    @Default.Integer(RecommendSample.DIM)
    int getDim();

    void setDim(int value);

    @Description("Seed of the generator.")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);

    @Description("Recommendations per user.")
    @Default.Integer(100)
    int getK();

    void setK(int value);

    @Description("Users per model call.")
    @Default.Integer(256)
    int getBatchSize();

    void setBatchSize(int value);

    @Description("Model directory; exported from the generated catalog when it has no model-manifest.json.")
    @Default.String("work/models/recs-topk/1")
    String getRecsModel();

    void setRecsModel(String value);

    @Description("Root of the prediction files (Parquet).")
    @Default.String("work/predictions/recs")
    String getRecsOutput();

    void setRecsOutput(String value);

    @Description("Shards of the Parquet output; 0 = auto (4).")
    @Default.Integer(0)
    int getNumShards();

    void setNumShards(int value);

  }

  public static void main(String[] args) {
    Options o = dev.batchserve.pipelines.OptionArgs.parse(Options.class, args);
    Schedule.runToCompletion(o, runInfo(o), RecommendPipeline::build);
  }

  /** The run: {@code --runDate} (unset = today, UTC), {@code --interval} (default daily). */
  public static RunInfo runInfo(Options o) {
    return Schedule.runInfo("recs", o, RunInfo.Interval.DAILY);
  }

  /** Exports the model from the generated catalog unless {@code dir} already holds one. */
  public static void ensureModel(Path dir, RecommendSample.Catalog catalog, int k) {
    if (!Files.exists(dir.resolve(ModelManifest.FILE_NAME))) {
      TopKExporter.export(catalog.embeddings, catalog.ids, k, dir, MODEL_NAME, dir.getFileName().toString());
    }
  }

  /**
   * Writes {@code _CHANGE.json} into the run: how much the top-k lists moved against the previous
   * run (users compared, identical lists, mean overlap), to guide the choice of the batch interval.
   */
  static final class WriteChangeFn extends DoFn<TopKOverlap, Void> {
    private final String runDir;
    private final String previousRunId;

    WriteChangeFn(String runDir, String previousRunId) {
      this.runDir = runDir;
      this.previousRunId = previousRunId;
    }

    @ProcessElement
    public void process(@Element TopKOverlap overlap) throws java.io.IOException {
      com.fasterxml.jackson.databind.node.ObjectNode n =
          new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
      n.put("previous_run_id", previousRunId);
      n.put("users_compared", overlap.getCompared());
      n.put("identical_lists", overlap.getIdentical());
      n.put("mean_top_k_overlap", overlap.meanOverlap());
      org.apache.beam.sdk.io.fs.ResourceId file = org.apache.beam.sdk.io.FileSystems.matchNewResource(runDir, true)
          .resolve(CHANGE_FILE, org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions.RESOLVE_FILE);
      try (java.io.OutputStream out = java.nio.channels.Channels.newOutputStream(
          org.apache.beam.sdk.io.FileSystems.create(file, "application/json"))) {
        out.write(n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      LOG.info("Top-k lists against run {}: {}", previousRunId, overlap);
    }
  }

  /** The run's comparison with the previous run, beside its shards. */
  public static final String CHANGE_FILE = "_CHANGE.json";

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RecommendPipeline.class);

  /**
   * Users {@code 0..users-1} of {@link RecommendSample}, generated inside the pipeline in blocks of
   * 1,000 spread over the workers (a reshuffle), keyed by user id.
   */
  public static PCollection<KV<String, Row>> generateUsers(Pipeline p, int users, int items, int dim, long seed) {
    List<Integer> blocks = new ArrayList<>();
    for (int b = 0; b * 1000 < users; b++) {
      blocks.add(b);
    }
    return p
        .apply("Blocks", Create.of(blocks).withCoder(VarIntCoder.of()))
        .apply("Spread", Reshuffle.viaRandomKey())
        .apply("GenerateUsers", ParDo.of(new DoFn<Integer, KV<String, Row>>() {
          @ProcessElement
          public void process(@Element Integer block, OutputReceiver<KV<String, Row>> out) {
            for (int i = block * 1000; i < Math.min(users, (block + 1) * 1000); i++) {
              Row u = RecommendSample.user(i, items, dim, seed);
              out.output(KV.of(u.getString("user_id"), u));
            }
          }
        }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(RecommendSample.USER_SCHEMA)));
  }

  /** Builds the pipeline; returns the run directory it publishes. */
  public static String build(Pipeline p, Options o) {
    RunInfo run = runInfo(o);
    String attempt = FileSink.newAttemptId(); // this run's files go into an attempt of their own
    String attemptDir = FileSink.attemptDirectory(o.getRecsOutput(), run, attempt);
    RecommendSample.Catalog catalog = RecommendSample.catalog(o.getItems(), o.getDim(), o.getSeed());
    ensureModel(Path.of(o.getRecsModel()), catalog, o.getK());
    Fallback popularity = Fallback.popularity(catalog.mostPopular(o.getK()), catalog.mostPopularScores(o.getK()));

    PCollection<KV<String, Row>> input = generateUsers(p, o.getUsers(), o.getItems(), o.getDim(), o.getSeed());

    Recommend.Result r = input.apply("Recommend", Recommend.withModel(o.getRecsModel())
        .withRunInfo(run).withMaxBatchSize(o.getBatchSize()).withColdStart(popularity));
    // JSON lines too: the next run reads them to measure how much the lists moved.
    PreviousRun previous = PreviousRun.latest(o.getRecsOutput(), run);
    PublishedRun published = r.predictions().apply("WriteFiles", SinkWithMetadata.<String>files(o.getRecsOutput())
        .withRunInfo(run)
        .withForceLatest(o.getForceLatest())
        .withAttempt(attempt)
        .withFormats(FileFormat.PARQUET, FileFormat.JSONL)
        .withNumShards(OutputShards.resolve(o.getNumShards(), 0, 1))
        .withDeadLetters(r.deadLetters()));
    if (previous != null && previous.hasScores()) {
      PCollectionList.of(previous.readPredictions(p)).and(r.predictions())
          .apply("CompareWithPrevious", TopKOverlap.compare())
          .apply("AfterPublish", Wait.on(published.published()))
          .apply("WriteChange", ParDo.of(new WriteChangeFn(attemptDir,
              previous.runId())));
    }
    // Redis (--redisHost; keys recs:<run_id>~<attempt_id>:<user>, TTL 1.5 x the interval: 36 h for the nightly run),
    // PostgreSQL and BigQuery when named.
    StoreSinks.of(o, run).withRedisPrefix("recs").write(r.predictions());
    return attemptDir;
  }
}
