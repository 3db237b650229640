package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import com.google.api.services.bigquery.model.TimePartitioning;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryHelpers;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.CreateDisposition;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.Method;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.Write.WriteDisposition;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.bigquery.TableRowJsonCoder;
import org.apache.beam.sdk.io.gcp.bigquery.WriteResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.ValueProvider.StaticValueProvider;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes keyed predictions into a time-partitioned BigQuery table and publishes each run by
 * replacing its own partition in one load job.
 *
 * <p>The table has the columns of {@link Prediction#SCHEMA} ({@link #tableSchema()}): {@code key
 * STRING REQUIRED, score FLOAT64, scores FLOAT64 REPEATED, items STRING REPEATED, label STRING,
 * confidence FLOAT64, model_name STRING REQUIRED, model_version STRING REQUIRED,
 * prediction_timestamp TIMESTAMP REQUIRED, run_id STRING REQUIRED, fallback_reason STRING}, and is
 * partitioned on {@code prediction_timestamp}: by day for daily and weekly runs, by hour for hourly
 * runs (so one table serves runs of one interval). A run's rows all carry its prediction timestamp,
 * the end of its window, so a run owns exactly one partition ({@link #partition}): a daily run for
 * 2026-11-28 owns {@code $20261129}, an hourly run for 2026-11-28 hour 05 owns {@code $2026112806}.
 * Scores are widened exactly from float to FLOAT64, so {@code score} equals {@code scores[0]}.
 *
 * <p>Publish, all-or-nothing: Beam {@code BigQueryIO} FILE_LOADS writes the run's rows to files
 * under the temp location, and only after every input element is written and every {@link
 * #publishAfter} signal has completed, starts a load job into the partition decorator ({@code
 * table$20261129}) with {@code WRITE_TRUNCATE}. BigQuery commits a load job atomically and, with a
 * decorator, replaces that partition only: readers see the partition's previous content or the new
 * run, never a mix; other runs' partitions are untouched; a re-run of the same run id replaces its
 * partition, so it never duplicates rows; a run that fails before the load changes nothing. (With
 * more data than one load job takes, BigQueryIO loads temp tables and copies them into the
 * decorator in one copy job, which is atomic as well.) The table is created on the first load
 * ({@code CREATE_IF_NEEDED}) with the schema and partitioning above.
 *
 * <p>Why a load into the decorator and not a staging table per run plus a copy job: the load is
 * already atomic per partition and leaves no staging table behind after a failed run. Beam's
 * {@code FakeJobService} models neither exactly: it appends on a decorator instead of replacing the
 * partition (the tests add BigQuery's semantics, see {@code PartitionReplacingJobService}), and its
 * copy job cannot create a table through a decorator.
 *
 * <pre>{@code
 * predictions.apply(SinkWithMetadata.<String>bigQuery("my-project:serving.fraud_scores")
 *     .withRunInfo(run)
 *     .publishAfter(keyed.counts()));
 * }</pre>
 */
public final class BigQuerySink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.bigquery";
  public static final String PARTITION_FIELD = "prediction_timestamp";
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuuMMdd", Locale.ROOT)
      .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("uuuuMMddHH", Locale.ROOT)
      .withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private final String tableSpec;
  private @Nullable RunInfo runInfo;
  private @Nullable String customGcsTempLocation;
  private @Nullable BigQueryServices testServices;
  private boolean validate = true;
  private transient List<PCollection<?>> signals = List.of();

  private BigQuerySink(String tableSpec) {
    this.tableSpec = tableSpec;
  }

  static <K> BigQuerySink<K> to(String tableSpec) {
    checkArgument(tableSpec != null && !tableSpec.isEmpty(), "tableSpec must be set, but was '%s'", tableSpec);
    TableReference ref;
    try {
      ref = BigQueryHelpers.parseTableSpec(tableSpec);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "tableSpec must be [project:]dataset.table, but was '" + tableSpec + "'", e);
    }
    checkArgument(!ref.getTableId().contains("$") && !ref.getTableId().contains("@"),
        "tableSpec must name the table without a decorator (the sink picks the run's partition), but was '%s'",
        tableSpec);
    return new BigQuerySink<>(tableSpec);
  }

  private BigQuerySink<K> copy() {
    BigQuerySink<K> c = new BigQuerySink<>(tableSpec);
    c.runInfo = runInfo;
    c.customGcsTempLocation = customGcsTempLocation;
    c.testServices = testServices;
    c.validate = validate;
    c.signals = signals;
    return c;
  }

  /** The run being written (required). */
  public BigQuerySink<K> withRunInfo(RunInfo run) {
    BigQuerySink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public BigQuerySink<K> publishAfter(PCollection<?>... more) {
    List<PCollection<?>> s = new ArrayList<>(signals);
    Collections.addAll(s, more);
    BigQuerySink<K> c = copy();
    c.signals = s;
    return c;
  }

  /** Where the load files are staged (a {@code gs://} path); default: the pipeline's temp location. */
  public BigQuerySink<K> withCustomGcsTempLocation(String location) {
    checkArgument(location != null && !location.isEmpty(),
        "customGcsTempLocation must be set, but was '%s'", location);
    BigQuerySink<K> c = copy();
    c.customGcsTempLocation = location;
    return c;
  }

  /** Skips BigQueryIO's checks of the dataset and temp location at construction (offline, tests). */
  public BigQuerySink<K> withoutValidation() {
    BigQuerySink<K> c = copy();
    c.validate = false;
    return c;
  }

  /** BigQuery services to use instead of the real ones: Beam's {@code FakeBigQueryServices} in tests. */
  public BigQuerySink<K> withTestServices(BigQueryServices services) {
    BigQuerySink<K> c = copy();
    c.testServices = Objects.requireNonNull(services, "services");
    return c;
  }

  /** {@code HOUR} for hourly runs, else {@code DAY}: the table's partitioning on {@link #PARTITION_FIELD}. */
  public static TimePartitioning timePartitioning(RunInfo.Interval interval) {
    return new TimePartitioning()
        .setType(interval == RunInfo.Interval.HOURLY ? "HOUR" : "DAY")
        .setField(PARTITION_FIELD);
  }

  /** The run's partition id: its prediction timestamp as {@code yyyyMMdd} (UTC), {@code yyyyMMddHH} for hourly runs. */
  public static String partition(RunInfo run) {
    return partitionOf(run.interval(), run.predictionTimestamp());
  }

  private static String partitionOf(RunInfo.Interval interval, Instant t) {
    return (interval == RunInfo.Interval.HOURLY ? HOUR : DAY).format(t);
  }

  /** {@code <tableSpec>$<partition>}: where the run's load job writes. */
  public static String partitionTableSpec(String tableSpec, RunInfo run) {
    return tableSpec + "$" + partition(run);
  }

  /** The table's schema, column for column from {@link Prediction#SCHEMA}. */
  public static TableSchema tableSchema() {
    List<TableFieldSchema> fields = new ArrayList<>();
    for (Schema.Field f : Prediction.SCHEMA.getFields()) {
      Schema.FieldType type = f.getType();
      String mode = type.getNullable() ? "NULLABLE" : "REQUIRED";
      if (type.getTypeName() == Schema.TypeName.ARRAY) {
        type = Objects.requireNonNull(type.getCollectionElementType());
        mode = "REPEATED";
      }
      fields.add(new TableFieldSchema().setName(f.getName()).setType(bigQueryType(type)).setMode(mode));
    }
    return new TableSchema().setFields(fields);
  }

  private static String bigQueryType(Schema.FieldType type) {
    switch (type.getTypeName()) {
      case STRING:
        return "STRING";
      case FLOAT:
      case DOUBLE:
        return "FLOAT64";
      case DATETIME:
        return "TIMESTAMP";
      default:
        throw new IllegalStateException("no BigQuery type for " + type);
    }
  }

  /**
   * One prediction as a BigQuery row: numbers as JSON numbers (floats widened exactly), the
   * timestamp as {@code yyyy-MM-dd HH:mm:ss.SSSSSS UTC}, null columns left out.
   */
  public static TableRow toTableRow(String key, Prediction p) {
    List<Double> scores = new ArrayList<>(p.getScores().length);
    for (float s : p.getScores()) {
      scores.add((double) s);
    }
    TableRow row = new TableRow().set("key", key);
    setIfPresent(row, "score", p.getScore());
    row.set("scores", scores).set("items", new ArrayList<>(p.getItems()));
    setIfPresent(row, "label", p.getLabel());
    setIfPresent(row, "confidence", p.getConfidence());
    row.set("model_name", p.getModelName())
        .set("model_version", p.getModelVersion())
        .set("prediction_timestamp", TIMESTAMP.format(Instant.ofEpochMilli(p.getPredictionTimestampMillis())))
        .set("run_id", p.getRunId());
    setIfPresent(row, "fallback_reason", p.getFallbackReason());
    return row;
  }

  private static void setIfPresent(TableRow row, String name, @Nullable Object value) {
    if (value != null) {
      row.set(name, value);
    }
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "BigQuerySink needs withRunInfo(run)");
    RunInfo run = runInfo;
    Pipeline p = input.getPipeline();

    PCollection<KV<K, Prediction>> released = signals.isEmpty()
        ? input
        : input.apply("WaitForSignals", Wait.on(signals.toArray(new PCollection<?>[0])));
    PCollection<TableRow> rows = released
        .apply("ToTableRows", ParDo.of(new ToTableRowFn<K>(run)))
        .setCoder(TableRowJsonCoder.of());

    BigQueryIO.Write<TableRow> write = BigQueryIO.writeTableRows()
        .to(partitionTableSpec(tableSpec, run))
        .withSchema(tableSchema())
        .withTimePartitioning(timePartitioning(run.interval()))
        .withMethod(Method.FILE_LOADS)
        .withCreateDisposition(CreateDisposition.CREATE_IF_NEEDED)
        .withWriteDisposition(WriteDisposition.WRITE_TRUNCATE);
    if (customGcsTempLocation != null) {
      write = write.withCustomGcsTempLocation(StaticValueProvider.of(customGcsTempLocation));
    }
    if (!validate) {
      write = write.withoutValidation();
    }
    if (testServices != null) {
      write = write.withTestServices(testServices);
    }
    WriteResult loaded = rows.apply("LoadPartition", write);

    PCollection<String> published = p.apply("PublishTrigger", Create.of(run.runId()))
        .apply("WaitForLoad", Wait.on(loaded.getSuccessfulTableLoads()))
        .apply("Published", ParDo.of(new PublishedFn()))
        .setCoder(StringUtf8Coder.of());
    return new PublishedRun(p, published);
  }

  /**
   * Converts to rows and refuses a prediction outside the run's partition: BigQuery would fail the
   * whole load for it anyway, later and with a less helpful message.
   */
  private static final class ToTableRowFn<K> extends DoFn<KV<K, Prediction>, TableRow> {
    private final RunInfo.Interval interval;
    private final String partition;
    private final Counter rows = Metrics.counter(METRICS_NAMESPACE, "rows_written");

    ToTableRowFn(RunInfo run) {
      this.interval = run.interval();
      this.partition = partition(run);
    }

    @ProcessElement
    public void process(@Element KV<K, Prediction> kv, OutputReceiver<TableRow> out) {
      String key = String.valueOf(kv.getKey());
      Prediction p = kv.getValue();
      Instant t = Instant.ofEpochMilli(p.getPredictionTimestampMillis());
      String own = partitionOf(interval, t);
      if (!own.equals(partition)) {
        throw new IllegalStateException("prediction for key " + key + " has prediction_timestamp " + t
            + " (partition " + own + "), outside the run's partition " + partition);
      }
      rows.inc();
      out.output(toTableRow(key, p));
    }
  }

  private static final class PublishedFn extends DoFn<String, String> {
    private final Counter published = Metrics.counter(METRICS_NAMESPACE, "runs_published");

    @ProcessElement
    public void process(@Element String runId, OutputReceiver<String> out) {
      published.inc();
      out.output(runId);
    }
  }
}
