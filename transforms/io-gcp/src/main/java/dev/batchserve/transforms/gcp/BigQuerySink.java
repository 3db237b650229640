package dev.batchserve.transforms.gcp;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import com.google.api.services.bigquery.model.TableSchema;
import com.google.api.services.bigquery.model.TimePartitioning;
import dev.batchserve.transforms.sink.Backfill;
import dev.batchserve.transforms.sink.PassThroughColumns;
import dev.batchserve.transforms.sink.PublishedRun;
import dev.batchserve.transforms.sink.StagedPublish;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
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
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryOptions;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices.DatasetService;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServicesImpl;
import org.apache.beam.sdk.io.gcp.bigquery.TableDestination;
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
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.ValueInSingleWindow;
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
 * <p>The latest pointer: {@code <table>__latest} ({@link #latestTableSpec}) holds one row, the
 * served run ({@code run_id, prediction_timestamp, partition, published_at}), so readers of "the
 * latest run" join on it:
 *
 * <pre>
 * SELECT t.* FROM serving.fraud_scores t JOIN serving.fraud_scores__latest l
 *   ON t.prediction_timestamp = l.prediction_timestamp
 * </pre>
 *
 * <p>After the run's partition is loaded, the publish step reads the served run from the pointer
 * table's description (the same fields as JSON, readable without a query job), and when this run is
 * not older ({@link Backfill#isOlder}) writes the description and then replaces the row by a load job
 * with {@code WRITE_TRUNCATE} (atomic for readers), writing the description once more after it. A
 * backfill (an older run than the served one) keeps its partition, which is its own published run,
 * and leaves the pointer as it is; the publish step logs {@code backfill: run <id> published; readers
 * still see <id>}. {@link #withForceLatest} moves the pointer back all the same. BigQuery has no
 * compare-and-swap for this: two runs of different run ids publishing within the same seconds can
 * still leave the older one in the pointer.
 *
 * <pre>{@code
 * predictions.apply(BigQuerySink.<String>to("my-project:serving.fraud_scores")
 *     .withRunInfo(run)
 *     .publishAfter(keyed.counts()));
 * }</pre>
 *
 * <p><b>Why this class is long.</b> It is one store's whole connector: the builder with its
 * validated settings (each with an example), the table schema and partitioning, the load into the
 * run's partition decorator through BigQueryIO, the latest-run pointer table and the backfill rule.
 * Each of these is BigQuery-specific; the protocol shared with the other stores (stage, verify the
 * counts, publish after the gates) is {@code StagedPublish}.
 */
public final class BigQuerySink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.bigquery";
  public static final String PARTITION_FIELD = "prediction_timestamp";
  /** What {@link #latestTableSpec} appends to the table's name. */
  public static final String LATEST_SUFFIX = "__latest";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BigQuerySink.class);
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
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
  private boolean forceLatest;
  private transient List<PCollection<?>> signals = List.of();
  private PassThroughColumns passThrough = PassThroughColumns.NONE;

  private BigQuerySink(String tableSpec) {
    this.tableSpec = tableSpec;
  }

  /**
   * A BigQuery table ({@code [project:]dataset.table}, no partition decorator), partitioned on
   * {@code prediction_timestamp}: every prediction as a row, each run replacing its own partition in
   * one load job (formerly {@code SinkWithMetadata.bigQuery}).
   *
   * <pre>{@code
   * predictions.apply(BigQuerySink.<String>to("my-project:serving.fraud_scores").withRunInfo(run));
   * }</pre>
   */
  public static <K> BigQuerySink<K> to(String tableSpec) {
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
    c.forceLatest = forceLatest;
    c.signals = signals;
    c.passThrough = passThrough;
    return c;
  }

  /**
   * Also writes these pass-through columns ({@link Prediction#getPassThrough()}): the last column is
   * then {@code pass_through RECORD NULLABLE} with one {@code STRING NULLABLE} field per column, in
   * this order, named as the column (so {@code pass_through.label} never meets the prediction's
   * {@code label}), as in the JSON lines. A key without values (a cold start) has an empty record.
   * Default none: the schema is unchanged. The load may add the record to an existing table
   * ({@code ALLOW_FIELD_ADDITION}, set only with columns); BigQuery never drops a column, so a later
   * run without them leaves it null. Names must be BigQuery field names,
   * {@code [A-Za-z_][A-Za-z0-9_]*}:
   *
   * <pre>{@code
   * BigQuerySink.<String>to("my-project:serving.fraud_scores").withRunInfo(run)
   *     .withPassThroughColumns(List.of("row_id", "label")); // SELECT pass_through.row_id ...
   * }</pre>
   */
  public BigQuerySink<K> withPassThroughColumns(List<String> columns) {
    BigQuerySink<K> c = copy();
    c.passThrough = PassThroughColumns.of(columns).checkNestedNames("BigQuery");
    return c;
  }

  /** The run being written (required). */
  public BigQuerySink<K> withRunInfo(RunInfo run) {
    BigQuerySink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /**
   * Whether a backfill moves the latest pointer ({@code <table>__latest}) back to it (default false):
   * a run older than the one the pointer names ({@link Backfill#isOlder}) replaces its own partition
   * and leaves the pointer on the newer run, unless this is set:
   *
   * <pre>{@code
   * BigQuerySink.<String>to("p:serving.fraud_scores").withRunInfo(yesterday).withForceLatest(true);
   * }</pre>
   */
  public BigQuerySink<K> withForceLatest(boolean force) {
    BigQuerySink<K> c = copy();
    c.forceLatest = force;
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public BigQuerySink<K> publishAfter(PCollection<?>... more) {
    BigQuerySink<K> c = copy();
    c.signals = StagedPublish.plus(signals, more);
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

  /** {@code <tableSpec>__latest}: the latest pointer's table, one row naming the served run. */
  public static String latestTableSpec(String tableSpec) {
    return tableSpec + LATEST_SUFFIX;
  }

  /** The latest pointer's schema: {@code run_id, prediction_timestamp, partition, published_at}. */
  public static TableSchema latestTableSchema() {
    return new TableSchema().setFields(List.of(
        new TableFieldSchema().setName("run_id").setType("STRING").setMode("REQUIRED"),
        new TableFieldSchema().setName("prediction_timestamp").setType("TIMESTAMP").setMode("REQUIRED"),
        new TableFieldSchema().setName("partition").setType("STRING").setMode("REQUIRED"),
        new TableFieldSchema().setName("published_at").setType("TIMESTAMP").setMode("REQUIRED")));
  }

  /** The table's schema, column for column from {@link Prediction#SCHEMA}. */
  public static TableSchema tableSchema() {
    return tableSchema(List.of());
  }

  /**
   * {@link #tableSchema()} and, with pass-through columns, the record {@code pass_through} last
   * ({@link #withPassThroughColumns}).
   */
  public static TableSchema tableSchema(List<String> passThroughColumns) {
    TableSchema schema = envelopeSchema();
    if (!passThroughColumns.isEmpty()) {
      List<TableFieldSchema> nested = new ArrayList<>();
      for (String c : passThroughColumns) {
        nested.add(new TableFieldSchema().setName(c).setType("STRING").setMode("NULLABLE"));
      }
      List<TableFieldSchema> fields = new ArrayList<>(schema.getFields());
      fields.add(new TableFieldSchema().setName(PassThroughColumns.FIELD).setType("RECORD").setMode("NULLABLE")
          .setFields(nested));
      schema.setFields(fields);
    }
    return schema;
  }

  private static TableSchema envelopeSchema() {
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
    return toTableRow(key, p, List.of());
  }

  /**
   * {@link #toTableRow(String, Prediction)} and, with pass-through columns, the record
   * {@code pass_through}: always present, its null values left out.
   */
  public static TableRow toTableRow(String key, Prediction p, List<String> passThroughColumns) {
    TableRow row = envelopeRow(key, p);
    if (!passThroughColumns.isEmpty()) {
      TableRow nested = new TableRow();
      for (String c : passThroughColumns) {
        setIfPresent(nested, c, p.getPassThrough().get(c));
      }
      row.set(PassThroughColumns.FIELD, nested);
    }
    return row;
  }

  private static TableRow envelopeRow(String key, Prediction p) {
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
    // Nothing to prepare: the load job creates the table and stages under the temp location. The
    // load replaces the run's partition, so it must pass the gates first.
    return StagedPublish.<K>of("BigQuerySink", METRICS_NAMESPACE, run, signals)
        .gatingTheWrite()
        .writing((in, attempt) -> {
          PCollection<TableRow> rows = in
              .apply("ToTableRows", ParDo.of(new ToTableRowFn<K>(run, passThrough.names())))
              .setCoder(TableRowJsonCoder.of());
          BigQueryIO.Write<TableRow> load = configured(BigQueryIO.writeTableRows()
              .to(partitionTableSpec(tableSpec, run))
              .withSchema(tableSchema(passThrough.names()))
              .withTimePartitioning(timePartitioning(run.interval())));
          if (!passThrough.isEmpty()) {
            // A table made by runs without the record: the load adds it (allowed on a partition's truncate).
            load = load.withSchemaUpdateOptions(java.util.EnumSet.of(
                BigQueryIO.Write.SchemaUpdateOption.ALLOW_FIELD_ADDITION));
          }
          WriteResult loaded = rows.apply("LoadPartition", load);
          return StagedPublish.Staged.atomic(loaded.getSuccessfulTableLoads(),
                  "a load job commits all of the run's rows into its partition, or none",
                  new DecideLatest(tableSpec, run, forceLatest, testServices))
              .then(descriptions -> loadLatest(descriptions, run));
        })
        .expand(input);
  }

  /** FILE_LOADS, created if needed, truncating, with the sink's temp location, validation and services. */
  private BigQueryIO.Write<TableRow> configured(BigQueryIO.Write<TableRow> write) {
    BigQueryIO.Write<TableRow> w = write
        .withMethod(Method.FILE_LOADS)
        .withCreateDisposition(CreateDisposition.CREATE_IF_NEEDED)
        .withWriteDisposition(WriteDisposition.WRITE_TRUNCATE);
    if (customGcsTempLocation != null) {
      w = w.withCustomGcsTempLocation(StaticValueProvider.of(customGcsTempLocation));
    }
    if (!validate) {
      w = w.withoutValidation();
    }
    if (testServices != null) {
      w = w.withTestServices(testServices);
    }
    return w;
  }

  /**
   * After the publish step decided this run is the latest (it emits the pointer's new description,
   * nothing for a backfill): loads the pointer's row, writes the description again, then emits the run id.
   */
  private PCollection<String> loadLatest(PCollection<String> descriptions, RunInfo run) {
    Pipeline p = descriptions.getPipeline();
    String latestSpec = latestTableSpec(tableSpec);
    // A table function, not a constant table: BigQueryIO loads nothing (and truncates nothing) for no rows.
    WriteResult pointer = descriptions
        .apply("PointerRow", ParDo.of(new PointerRowFn()))
        .setCoder(TableRowJsonCoder.of())
        .apply("LoadLatest", configured(BigQueryIO.writeTableRows()
            .to((SerializableFunction<ValueInSingleWindow<TableRow>, TableDestination>)
                row -> new TableDestination(latestSpec, null))
            .withSchema(latestTableSchema())));
    PCollection<String> described = descriptions
        .apply("WaitForLatest", Wait.on(pointer.getSuccessfulTableLoads()))
        .apply("DescribeLatest", ParDo.of(new DescribeLatestFn(tableSpec, testServices)))
        .setCoder(StringUtf8Coder.of());
    return p.apply("PublishedTrigger", Create.of(run.runId()))
        .apply("WaitForPointer", Wait.on(described));
  }

  /** The pointer table of {@code tableSpec}, in the options' project when the spec names none. */
  private static TableReference latestTable(String tableSpec, BigQueryOptions options) {
    TableReference ref = BigQueryHelpers.parseTableSpec(latestTableSpec(tableSpec));
    if (ref.getProjectId() == null) {
      ref.setProjectId(options.getBigQueryProject() != null ? options.getBigQueryProject() : options.getProject());
    }
    return ref;
  }

  private static DatasetService datasets(@Nullable BigQueryServices testServices, BigQueryOptions options) {
    return (testServices != null ? testServices : new BigQueryServicesImpl()).getDatasetService(options);
  }

  /**
   * The publish: reads the served run from the pointer table's description; for a backfill leaves the
   * pointer as it is, else writes the new description (creating the pointer table on the first run)
   * and emits it, for the pointer row's load and the second write after it.
   */
  private static final class DecideLatest implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final String tableSpec;
    private final RunInfo run;
    private final boolean forceLatest;
    private final @Nullable BigQueryServices testServices;

    DecideLatest(String tableSpec, RunInfo run, boolean forceLatest, @Nullable BigQueryServices testServices) {
      this.tableSpec = tableSpec;
      this.run = run;
      this.forceLatest = forceLatest;
      this.testServices = testServices;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context c) throws Exception {
      BigQueryOptions options = c.options().as(BigQueryOptions.class);
      TableReference ref = latestTable(tableSpec, options);
      try (DatasetService datasets = datasets(testServices, options)) {
        Table table = datasets.getTable(ref);
        String served = table == null ? null : table.getDescription();
        if (!forceLatest && served != null && !served.isBlank()) {
          com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(served);
          String servedRun = n.path("run_id").asText();
          Instant servedTs = Instant.ofEpochMilli(n.path("prediction_timestamp_ms").asLong());
          if (Backfill.isOlder(run, servedRun, servedTs)) {
            return StagedPublish.Published.backfill(null, servedRun, "BigQuery " + BigQueryHelpers.toTableSpec(ref)
                + " unchanged; the run is in partition " + partitionTableSpec(tableSpec, run));
          }
        }
        com.fasterxml.jackson.databind.node.ObjectNode d = JSON.createObjectNode();
        d.put("run_id", run.runId());
        d.put("prediction_timestamp_ms", run.predictionTimestamp().toEpochMilli());
        d.put("partition", partition(run));
        d.put("published_at", Instant.now().toString());
        String text = JSON.writeValueAsString(d);
        // Written before the row: the guard never lags behind what readers see.
        if (table == null) {
          datasets.createTable(new Table().setTableReference(ref).setSchema(latestTableSchema()).setDescription(text));
        } else {
          datasets.patchTableDescription(ref, text);
        }
        return StagedPublish.Published.latest(text);
      }
    }
  }

  /** The pointer's row, from the description the publish step wrote. */
  private static final class PointerRowFn extends DoFn<String, TableRow> {
    @ProcessElement
    public void process(@Element String description, OutputReceiver<TableRow> out) throws Exception {
      com.fasterxml.jackson.databind.JsonNode d = JSON.readTree(description);
      out.output(new TableRow().set("run_id", d.path("run_id").asText())
          .set("prediction_timestamp", TIMESTAMP.format(Instant.ofEpochMilli(d.path("prediction_timestamp_ms").asLong())))
          .set("partition", d.path("partition").asText())
          .set("published_at", TIMESTAMP.format(Instant.parse(d.path("published_at").asText()))));
    }
  }

  /** Writes the pointer's description again once its row is loaded (a truncating load may reset table metadata). */
  private static final class DescribeLatestFn extends DoFn<String, String> {
    private final String tableSpec;
    private final @Nullable BigQueryServices testServices;

    DescribeLatestFn(String tableSpec, @Nullable BigQueryServices testServices) {
      this.tableSpec = tableSpec;
      this.testServices = testServices;
    }

    @ProcessElement
    public void process(ProcessContext c) throws Exception {
      BigQueryOptions options = c.getPipelineOptions().as(BigQueryOptions.class);
      try (DatasetService datasets = datasets(testServices, options)) {
        datasets.patchTableDescription(latestTable(tableSpec, options), c.element());
      }
      c.output(c.element());
    }
  }

  /**
   * Converts to rows and refuses a prediction outside the run's partition: BigQuery would fail the
   * whole load for it anyway, later and with a less helpful message.
   */
  private static final class ToTableRowFn<K> extends DoFn<KV<K, Prediction>, TableRow> {
    private final RunInfo.Interval interval;
    private final String partition;
    private final Counter rows = Metrics.counter(METRICS_NAMESPACE, "rows_written");
    private final List<String> passThroughColumns;

    ToTableRowFn(RunInfo run, List<String> passThroughColumns) {
      this.interval = run.interval();
      this.partition = partition(run);
      this.passThroughColumns = new ArrayList<>(passThroughColumns);
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
      out.output(toTableRow(key, p, passThroughColumns));
    }
  }
}
