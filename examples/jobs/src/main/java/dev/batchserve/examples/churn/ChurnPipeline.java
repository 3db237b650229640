package dev.batchserve.examples.churn;

import dev.batchserve.tools.samples.ChurnSample;
import dev.batchserve.tools.training.TrainChurnModel;
import dev.batchserve.pipelines.OutputShards;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.pipelines.StoreSinkOptions;
import dev.batchserve.pipelines.StoreSinks;
import dev.batchserve.pipelines.schedule.Schedule;
import dev.batchserve.pipelines.schedule.ScheduleOptions;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.sink.FileFormat;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.sink.SinkWithMetadata;
import dev.batchserve.transforms.values.Prediction;
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
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The weekly churn example: generated customer activity -> the churn logistic model (trained into
 * {@code --model} when that directory has no manifest) -> churn probability and label ({@code churn}
 * when the probability is at least {@code --threshold}, else {@code stay}) -> Parquet, published
 * all-or-nothing. Run ids are {@code churn-weekly-<yyyymmdd>}.
 *
 * <pre>
 * mvn -pl examples/jobs exec:java -Dexec.mainClass=dev.batchserve.examples.churn.ChurnPipeline \
 *   -Dexec.args="--runner=DirectRunner --customers=100000 --runDate=2026-11-23"
 * </pre>
 */
public final class ChurnPipeline {
  public static final String CHURN = "churn";
  public static final String STAY = "stay";

  private ChurnPipeline() {}

  /** Options of the example. */
  public interface Options extends StoreSinkOptions, ScheduleOptions {
    @Description("Customers to generate (tiny for tests, millions for benchmarks).")
    @Default.Integer(10_000)
    int getCustomers();

    void setCustomers(int value);

    @Description("Seed of the scoring data (the model is trained on seed 7).")
    @Default.Long(42)
    long getSeed();

    void setSeed(long value);

    @Description("Model directory; trained on 20,000 generated customers when it has no model-manifest.json.")
    @Default.String("work/models/churn-logistic/1")
    String getChurnModel();

    void setChurnModel(String value);

    @Description("Root of the prediction files (Parquet).")
    @Default.String("work/predictions/churn")
    String getChurnOutput();

    void setChurnOutput(String value);

    @Description("A customer is labelled churn when the probability is at least this (0 to 1).")
    @Default.Double(0.5)
    double getThreshold();

    void setThreshold(double value);

    @Description("Records per model call.")
    @Default.Integer(256)
    int getBatchSize();

    void setBatchSize(int value);

    @Description("Shards of the Parquet output; 0 = auto (4).")
    @Default.Integer(0)
    int getNumShards();

    void setNumShards(int value);
  }

  public static void main(String[] args) {
    Options o = dev.batchserve.pipelines.OptionArgs.parse(Options.class, args);
    Schedule.runToCompletion(o, runInfo(o), ChurnPipeline::build);
  }

  /** The run: {@code --runDate} (unset = today, UTC), {@code --interval} (default weekly). */
  public static RunInfo runInfo(Options o) {
    return Schedule.runInfo("churn", o, RunInfo.Interval.WEEKLY);
  }

  /** The prediction with its label: {@code churn} at or above the threshold; fallbacks keep theirs. */
  public static Prediction label(Prediction p, double threshold) {
    Double score = p.getScore();
    if (score == null) {
      return p;
    }
    return p.toBuilder().label(score >= threshold ? CHURN : STAY).build();
  }

  /** Builds the pipeline; returns the run directory it publishes. */
  public static String build(Pipeline p, Options o) {
    checkArgument(o.getThreshold() >= 0 && o.getThreshold() <= 1, "threshold must be in [0, 1], but was %s", o.getThreshold());
    String attempt = FileSink.newAttemptId(); // this run's files go into an attempt of their own
    RunInfo run = runInfo(o);
    Path modelDir = Path.of(o.getChurnModel());
    if (!Files.exists(modelDir.resolve(ModelManifest.FILE_NAME))) {
      TrainChurnModel.train(modelDir, 20_000, 7, modelDir.getFileName().toString());
    }
    FeatureSpec spec = FeatureSpec.read(modelDir.resolve(TrainChurnModel.SPEC_FILE).toString());

    List<Integer> blocks = new ArrayList<>();
    for (int b = 0; b * 1000 < o.getCustomers(); b++) {
      blocks.add(b);
    }
    int customers = o.getCustomers();
    long seed = o.getSeed();
    PCollection<KV<String, Row>> rows = p
        .apply("Blocks", Create.of(blocks).withCoder(VarIntCoder.of()))
        .apply("Spread", Reshuffle.viaRandomKey())
        .apply("GenerateCustomers", ParDo.of(new DoFn<Integer, KV<String, Row>>() {
          @ProcessElement
          public void process(@Element Integer block, OutputReceiver<KV<String, Row>> out) {
            for (int i = block * 1000; i < Math.min(customers, (block + 1) * 1000); i++) {
              out.output(KV.of(ChurnSample.customerId(i), ChurnSample.row(i, seed)));
            }
          }
        }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(ChurnSample.SCHEMA)));

    KeyedPrediction.Result<String> keyed = rows.apply("Score", KeyedPrediction.<String>of(spec, o.getChurnModel())
        .withRunInfo(run).withMaxBatchSize(o.getBatchSize()).withFallback(Fallback.abstain()));
    double threshold = o.getThreshold();
    PCollection<KV<String, Prediction>> labelled = keyed.predictions()
        .apply("Label", ParDo.of(new DoFn<KV<String, Prediction>, KV<String, Prediction>>() {
          @ProcessElement
          public void process(@Element KV<String, Prediction> kv, OutputReceiver<KV<String, Prediction>> out) {
            out.output(KV.of(kv.getKey(), label(kv.getValue(), threshold)));
          }
        }))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
    labelled.apply("WriteParquet", SinkWithMetadata.<String>files(o.getChurnOutput())
        .withRunInfo(run)
        .withForceLatest(o.getForceLatest())
        .withAttempt(attempt)
        .withFormats(FileFormat.PARQUET, FileFormat.JSONL)
        .withNumShards(OutputShards.resolve(o.getNumShards(), 0, 1))
        .withDeadLetters(keyed.deadLetters())
        .publishAfter(keyed.counts()));
    // BigQuery (--bigQueryTable) for analysts, Redis / PostgreSQL when named.
    StoreSinks.of(o, run).publishAfter(keyed.counts()).write(labelled);
    return FileSink.attemptDirectory(o.getChurnOutput(), run, attempt);
  }
}
