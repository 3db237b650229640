package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import dev.batchserve.transforms.join.BucketJoin;
import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes keyed predictions as Parquet and/or JSON-lines files and publishes the run all-or-nothing.
 *
 * <p>Layout under the root ({@code <run>} = {@code run_date=<yyyy-mm-dd>/run_id=<run id>}); every
 * attempt at a run writes into a directory of its own, {@code <attempt>} = {@code attempt=<attempt id>}
 * ({@link #newAttemptId()}: UTC start time and random hex, so attempts sort by start):
 *
 * <pre>
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/parquet/part-00000-of-00004.parquet   shards, keys spread by a stable hash
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/jsonl/part-00000-of-00004.jsonl
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/dead_letters/part-00000-of-00001.jsonl
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/_MANIFEST.json   counts, schema, models, every file with its sha256
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/_PUBLISHED.json  run id and published_at (when it was published)
 * &lt;root&gt;/&lt;run&gt;/&lt;attempt&gt;/_SUCCESS         written after every shard and the manifest exist
 * &lt;root&gt;/&lt;run&gt;/_CURRENT                  names the run's published attempt ({@code attempt=<id>})
 * &lt;root&gt;/_LATEST                          the path of the latest published attempt, {@code <run>/<attempt>}
 * </pre>
 *
 * <p>Rows inside a shard are sorted by key, so a re-run of the same run writes byte-identical files
 * (shards and manifest contain neither the attempt id nor a clock reading; the publish time is in
 * {@code _PUBLISHED.json}, see {@link #publishedAt}).
 * A shard is sorted in memory on one worker: choose {@link #withNumShards} so that a shard fits
 * (roughly 0.5 KB per prediction, e.g. 64 shards for 50 million predictions with 1 GB per shard).
 *
 * <p>Shards are written through the formats' Beam {@code FileIO} sinks into {@code <attempt>/_staging/} and moved into
 * place by the publish step, which runs only after every shard is written and every signal given to
 * {@link #publishAfter} (e.g. the completeness check) has completed. Publishing writes the manifest and
 * {@code _SUCCESS} into the attempt, then moves {@code _CURRENT} and then {@code _LATEST} to it, each by
 * an atomic rename. Readers follow {@code _LATEST} (or a run's {@code _CURRENT}, see
 * {@link #publishedDirectory}) and so only ever see complete attempts: a failed, rejected or killed
 * attempt, also of the run id being served, never changes what they see. After publishing, the
 * attempt just replaced stays (readers may still be reading it) and is removed by the next publish of
 * the run; attempts that never published lose their shards (their other files, e.g. the job's report,
 * stay). A partition-style reader lists {@code run_date=*}/{@code run_id=*} and reads the attempt the
 * run's {@code _CURRENT} names.
 *
 * <p>Backfills: a run older than the one {@code _LATEST} names (its manifest's prediction timestamp is
 * later, {@link Backfill#isOlder}) is published as its own run, its {@code _CURRENT} moved to it, but
 * {@code _LATEST} stays on the newer run, and the publish step logs
 * {@code backfill: run <id> published; readers still see <id>}; {@link #withForceLatest} moves
 * {@code _LATEST} back all the same. The check and the move of {@code _LATEST} are two steps (files have
 * no compare-and-swap): two runs of different run ids publishing in the same instant can still leave
 * the older one in {@code _LATEST}; the run lock serializes runs of one run id only.
 *
 * <pre>{@code
 * predictions.apply(SinkWithMetadata.<String>files("/data/predictions").withRunInfo(run));
 * String served = FileSink.publishedDirectory("/data/predictions", run); // after the run
 * }</pre>
 */
public final class FileSink<K> extends PTransform<PCollection<KV<K, Prediction>>, PublishedRun> {
  private static final long serialVersionUID = 1L;
  public static final String METRICS_NAMESPACE = "batchserve.sink.files";
  public static final String SUCCESS = RunDirectory.SUCCESS;
  public static final String MANIFEST = RunDirectory.MANIFEST;
  public static final String LATEST = RunDirectory.LATEST;
  /** In a run's directory: names the run's published attempt ({@code attempt=<id>}), replaced by rename. */
  public static final String CURRENT = RunDirectory.CURRENT;
  /**
   * In a published attempt: {@code {"run_id": ..., "published_at": "<ISO-8601 instant>"}}, written at
   * publish time just before {@code _SUCCESS}; what the ages of {@code check-staleness} count from.
   */
  public static final String PUBLISHED = RunDirectory.PUBLISHED;
  /** In an attempt: the driver gave it up (failed run); nothing may be written or published there any more. */
  public static final String ABORTED = RunDirectory.ABORTED;
  /** The prefix of an attempt's directory inside its run's directory. */
  public static final String ATTEMPT_PREFIX = RunDirectory.ATTEMPT_PREFIX;

  private final String root;
  private @Nullable RunInfo runInfo;
  private @Nullable String attempt;
  private Set<FileFormat> formats = EnumSet.of(FileFormat.PARQUET, FileFormat.JSONL);
  private int numShards = 4;
  private transient @Nullable PCollection<DeadLetter> deadLetters;
  private transient List<PCollection<?>> signals = List.of();
  private transient @Nullable PCollection<KV<String, KV<String, Long>>> writtenFiles;
  private transient @Nullable PCollection<Long> inputCount;
  private boolean forceLatest;
  private PassThroughColumns passThrough = PassThroughColumns.NONE;

  private FileSink(String root) {
    this.root = root;
  }

  static <K> FileSink<K> to(String root) {
    checkArgument(root != null && !root.isEmpty(), "root must be set, but was '%s'", root);
    return new FileSink<>(root.endsWith("/") ? root.substring(0, root.length() - 1) : root);
  }

  private FileSink<K> copy() {
    FileSink<K> c = new FileSink<>(root);
    c.runInfo = runInfo;
    c.attempt = attempt;
    c.formats = formats;
    c.numShards = numShards;
    c.deadLetters = deadLetters;
    c.signals = signals;
    c.writtenFiles = writtenFiles;
    c.inputCount = inputCount;
    c.forceLatest = forceLatest;
    c.passThrough = passThrough;
    return c;
  }

  /** The run being written (required). */
  public FileSink<K> withRunInfo(RunInfo run) {
    FileSink<K> c = copy();
    c.runInfo = Objects.requireNonNull(run, "run");
    return c;
  }

  /** Which formats to write (default both). */
  public FileSink<K> withFormats(FileFormat first, FileFormat... more) {
    FileSink<K> c = copy();
    c.formats = EnumSet.of(Objects.requireNonNull(first, "format"), more);
    return c;
  }

  /** Number of shards per format (default 4); a key always lands in the same shard. */
  public FileSink<K> withNumShards(int n) {
    checkArgument(n >= 1 && n <= 10_000, "numShards must be in [1, 10000], but was %s", n);
    FileSink<K> c = copy();
    c.numShards = n;
    return c;
  }

  /** Also writes these dead letters (JSON lines) into the run, counted in its manifest. */
  public FileSink<K> withDeadLetters(PCollection<DeadLetter> dead) {
    FileSink<K> c = copy();
    c.deadLetters = Objects.requireNonNull(dead, "dead");
    return c;
  }

  /** Publishes only after these collections are complete (e.g. the completeness check's output). */
  public FileSink<K> publishAfter(PCollection<?>... more) {
    FileSink<K> c = copy();
    c.signals = StagedPublish.plus(signals, more);
    return c;
  }

  /**
   * Writes this attempt of the run (default: a new one, {@link #newAttemptId()}). The job driver picks
   * the id before building the pipeline so that its report files land in the same attempt.
   */
  public FileSink<K> withAttempt(String attemptId) {
    FileSink<K> c = copy();
    c.attempt = RunDirectory.checkAttemptId(attemptId);
    return c;
  }

  /**
   * The writer of this sink's shards, for the join back to write them where it resolves the keys
   * ({@link ShardWriter}): one shuffle for the join and the shards instead of two. It writes exactly
   * the files this sink writes by itself (same names, rows sorted by key, every format) into the
   * attempt's staging directory; give what it wrote back with {@link #withWrittenFiles}. Needs the
   * run and the attempt to be set first, since the files go into the attempt's directory:
   *
   * <pre>{@code
   * FileSink<String> files = SinkWithMetadata.<String>files(root).withRunInfo(run)
   *     .withAttempt(FileSink.newAttemptId()).withNumShards(8);
   * KeyedPrediction.Result<String> keyed = rows.apply(
   *     KeyedPrediction.<String>of(spec, modelUri).withRunInfo(run).writingShards(files.shardWriter()));
   * keyed.predictions().apply(files.withWrittenFiles(keyed.writtenFiles())
   *     .withInputCount(keyed.resolvedCount()).publishAfter(keyed.counts()));
   * }</pre>
   */
  public ShardWriter shardWriter() {
    checkState(runInfo != null, "FileSink.shardWriter() needs withRunInfo(run) first");
    checkState(attempt != null,
        "FileSink.shardWriter() needs the attempt chosen first: withAttempt(FileSink.newAttemptId()), and the same"
            + " sink (or a copy of it) must then publish the files");
    return new FilesShardWriter(RunDirectory.attemptDirectory(root, runInfo, attempt), numShards, formats, passThrough);
  }

  /**
   * Publishes shards already written by this sink's {@link #shardWriter()} (in the join back:
   * {@code KeyedPrediction.Result#writtenFiles()}) instead of grouping the input into shards again.
   * The input still gives the count every format is checked against, unless {@link #withInputCount}
   * gives it; the manifest's per-model counts come from the writer. The publish fails, naming both, when a file lies outside this sink's attempt or has another shard
   * count (a writer of another sink).
   */
  public FileSink<K> withWrittenFiles(PCollection<KV<String, KV<String, Long>>> files) {
    FileSink<K> c = copy();
    c.writtenFiles = Objects.requireNonNull(files, "files");
    return c;
  }

  /**
   * The number of predictions in the input, counted upstream: one element, e.g. {@code
   * KeyedPrediction.Result#resolvedCount()} (the run ledger's predictions + fallbacks). Every format's
   * files are checked against it instead of a count of the input made here, which saves the sink a
   * shuffle. A count that differs from the rows written refuses the publish, naming both.
   *
   * <pre>{@code
   * keyed.predictions().apply(files.withWrittenFiles(keyed.writtenFiles())
   *     .withInputCount(keyed.resolvedCount()).publishAfter(keyed.counts()));
   * }</pre>
   */
  public FileSink<K> withInputCount(PCollection<Long> count) {
    FileSink<K> c = copy();
    c.inputCount = Objects.requireNonNull(count, "count");
    return c;
  }

  /**
   * Whether a backfill moves {@code _LATEST} back to it (default false). A run older than the one
   * {@code _LATEST} names ({@link Backfill#isOlder}) is published as its own run (its {@code _CURRENT}
   * names it) and leaves {@code _LATEST} alone, unless this is set:
   *
   * <pre>{@code
   * SinkWithMetadata.<String>files(root).withRunInfo(yesterday).withForceLatest(true); // readers see yesterday
   * }</pre>
   */
  public FileSink<K> withForceLatest(boolean force) {
    FileSink<K> c = copy();
    c.forceLatest = force;
    return c;
  }

  /**
   * Also writes these pass-through columns ({@link Prediction#getPassThrough()}, in this order) into
   * the Parquet files, as the last field: the record {@code pass_through} with one nullable string
   * field per column, named as the column, so {@code pass_through.row_id} never clashes with a
   * prediction field (JSON lines carry them anyway, as the object {@code "pass_through"}). A key
   * without values (a cold start) has every field null. Default none: the schema is unchanged.
   * Names must be Parquet (Avro) field names, {@code [A-Za-z_][A-Za-z0-9_]*}:
   *
   * <pre>{@code
   * SinkWithMetadata.<String>files(root).withRunInfo(run).withPassThroughColumns(List.of("row_id", "label"));
   * }</pre>
   */
  public FileSink<K> withPassThroughColumns(List<String> columns) {
    FileSink<K> c = copy();
    c.passThrough = PassThroughColumns.of(columns).checkNestedNames("Parquet");
    return c;
  }

  /**
   * A new attempt id: the UTC start time and 6 random hex digits ({@code 20261128T020000.000Z-3fa9c1}),
   * so attempts of one run sort by start time and two starts in the same millisecond differ.
   */
  public static String newAttemptId() {
    return RunDirectory.newAttemptId();
  }

  /**
   * {@code <root>/run_date=<date>/run_id=<id>}: the run's directory, holding its attempts, its
   * {@code _CURRENT} pointer and the job's lock. A run's files are in the attempt {@code _CURRENT} names:
   * read them through {@link #publishedDirectory}.
   */
  public static String runDirectory(String root, RunInfo run) {
    return RunDirectory.runDirectory(root, run);
  }

  /** {@code <root>/run_date=<date>/run_id=<id>/attempt=<attempt id>}: where one attempt writes everything. */
  public static String attemptDirectory(String root, RunInfo run, String attemptId) {
    return RunDirectory.attemptDirectory(root, run, attemptId);
  }

  /**
   * The directory of the run's published attempt (the one its {@code _CURRENT} names, with its
   * {@code _SUCCESS}), or null when the run was never published. A run published by a release before
   * attempts (files and {@code _SUCCESS} directly in the run's directory) is that directory.
   *
   * <pre>{@code
   * String dir = FileSink.publishedDirectory("/data/predictions", run); // .../run_id=R/attempt=...
   * }</pre>
   */
  public static @Nullable String publishedDirectory(String root, RunInfo run) {
    return RunDirectory.publishedDirectory(root, run);
  }

  /**
   * The directory {@code <root>/_LATEST} names (the latest published attempt of any run), or null when
   * nothing was published. Readers trust it only with its {@code _SUCCESS}, which publishing wrote first.
   */
  public static @Nullable String latestDirectory(String root) {
    return RunDirectory.latestDirectory(root);
  }

  /** The run id in a run's or attempt's path ({@code .../run_id=<id>[/attempt=...]}). */
  public static String runIdOf(String path) {
    return RunDirectory.runIdOf(path);
  }

  /**
   * Gives up an attempt that will not be published (its run failed or was killed): marks it
   * {@code _ABORTED} (a shard writer still running there deletes what it writes, its publish step
   * refuses), then removes its staged and placed shards, dead letters, manifest and {@code _SUCCESS}.
   * Everything else stays, e.g. the job's {@code _REPORT.json} and {@code _QUALITY.json} saying why it failed.
   * An attempt that was published (its run's {@code _CURRENT} or {@code _LATEST} names it) is left as is.
   *
   * @return whether the attempt was discarded (false: it is published)
   */
  public static boolean discardAttempt(String root, RunInfo run, String attemptId) throws IOException {
    return AttemptPublish.discardAttempt(root, run, attemptId);
  }

  /**
   * Discards every attempt of the run that is not published (left by a failed or killed run), see
   * {@link #discardAttempt}; the job driver calls it under the run's lock before a new attempt starts.
   *
   * @return the attempt ids discarded
   */
  public static List<String> discardUnpublishedAttempts(String root, RunInfo run) throws IOException {
    return AttemptPublish.discardUnpublishedAttempts(root, run);
  }

  /** The run's path relative to the root, as written into {@code _LATEST}. */
  public static String runPath(RunInfo run) {
    return RunDirectory.runPath(run);
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "FileSink needs withRunInfo(run)");
    RunInfo run = runInfo;
    String attemptDir = RunDirectory.attemptDirectory(root, run, attempt != null ? attempt : RunDirectory.newAttemptId());
    // The attempt is chosen when the pipeline is built: the driver writes its report into it too.
    return StagedPublish.<K>of("FileSink", METRICS_NAMESPACE, run, signals)
        .inAttempt(attemptDir)
        .countedUpstream(inputCount)
        .writing((in, attempt) -> writeShards(in, run, attemptDir))
        .expand(input);
  }

  /**
   * The files' write: sorted shards per format and the dead letters into the attempt's staging
   * directory; the publish step counts each format's rows, moves the files into place and completes
   * the attempt ({@link AttemptPublish#complete}).
   */
  private StagedPublish.Staged writeShards(PCollection<KV<K, Prediction>> input, RunInfo run, String attemptDir) {
    String staging = attemptDir + "/_staging";
    PCollection<KV<String, Prediction>> keyed =
        input.apply("KeyToString", MapElements
            .into(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Prediction.class)))
            .via(kv -> KV.of(String.valueOf(kv.getKey()), kv.getValue())));

    Map<FileFormat, PCollectionView<List<KV<String, Long>>>> written = new TreeMap<>();
    int shards = numShards;
    org.apache.beam.sdk.schemas.Schema rowSchema = passThrough.rowSchema();
    FilesShardWriter writer = new FilesShardWriter(attemptDir, shards, formats, passThrough);
    PCollection<KV<String, KV<String, Long>>> shardFiles;
    if (writtenFiles != null) {
      // Written where the join back resolved the keys (shardWriter()): no second shuffle.
      shardFiles = writtenFiles.apply("CheckWrittenFiles", ParDo.of(new CheckWrittenFilesFn(staging, shards)))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
    } else {
      // Each shard is gathered, sorted by key and written by one DoFn, so that a re-run of the same run
      // writes byte-identical files. The sorted shard never travels as one element: a single record of a
      // whole shard exceeded Flink's sort buffer (38 MB) at 5 million predictions.
      shardFiles =
          keyed
              .apply("AssignShards", MapElements
                  .into(TypeDescriptors.kvs(TypeDescriptors.integers(),
                      TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Prediction.class))))
                  .via(kv -> KV.of(BucketJoin.bucketOf(kv.getKey(), shards), kv)))
              .setCoder(KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of())))
              .apply("GroupShards", GroupByKey.create())
              .apply("WriteSortedShards", ParDo.of(new WriteSortedShardFn(writer)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
    }
    for (FileFormat format : formats) {
      String dir = format.directory();
      PCollection<KV<String, Long>> files = shardFiles
          .apply("FileNames" + format.name(), org.apache.beam.sdk.transforms.Filter.by(kv -> kv.getKey().equals(dir)))
          .apply("Names" + format.name(), Values.create());
      written.put(format, files.apply("FileList" + format.name(), View.asList()));
    }

    List<PCollectionView<?>> sideInputs = new ArrayList<>(written.values());
    // Rows per model, counted by the shard writers as they wrote (no count of its own).
    PCollectionView<List<KV<String, Long>>> models = shardFiles
        .apply("ModelRows", org.apache.beam.sdk.transforms.Filter.by(kv -> kv.getKey().equals(FilesShardWriter.ROWS_BY_MODEL)))
        .apply("ModelRowValues", Values.create())
        .apply("ModelRowList", View.asList());
    sideInputs.add(models);
    PCollectionView<List<KV<String, Long>>> deadFiles = null;
    PCollection<KV<String, Long>> deadWritten = null;
    if (deadLetters != null) {
      // One grouping writes the dead letters and counts them (Beam's FileIO write took four shuffles
      // and a count a fifth).
      deadWritten = deadLetters.apply("WriteDeadLetters", DeadLetterFiles.into(attemptDir));
      deadFiles = deadWritten.apply("DeadLetterFileList", View.asList());
      sideInputs.add(deadFiles);
    }

    StagedPublish.Staged staged = StagedPublish.Staged.counted(shardFiles,
        new FilesPublisher(root, run, written, deadFiles, models, forceLatest, rowSchema));
    if (deadWritten != null) {
      staged = staged.alsoAfter(deadWritten);
    }
    return staged.withSideInputs(sideInputs);
  }

  /**
   * When the attempt in {@code dir} was published: the {@code published_at} of its
   * {@code _PUBLISHED.json}, else (an attempt published before that file existed) the modification time
   * of its {@code _SUCCESS}, which publishing wrote; null when it has neither.
   *
   * <pre>{@code
   * Instant at = FileSink.publishedAt(FileSink.latestDirectory("/data/predictions"));
   * }</pre>
   */
  public static java.time.@Nullable Instant publishedAt(String dir) {
    return RunDirectory.publishedAt(dir);
  }

  /**
   * Publishes a run processed in partitions ({@code --partitions}): every partition was published as a
   * run of its own under its root; their shards are moved into an attempt of the run under {@code root}
   * ({@code part-p<partition>-<shard name>}), and one manifest, {@code _SUCCESS}, {@code _CURRENT} and
   * {@code _LATEST} make them visible together. The attempt's id is derived from the partitions' published
   * attempts, so repeating after a crash half-way continues the same attempt (files already moved are
   * kept), and repeating after it was published changes nothing.
   *
   * @return the published attempt's directory
   * @throws IllegalStateException naming the first partition that is not complete
   */
  public static String publishPartitions(String root, RunInfo run, List<String> partitionRoots) throws IOException {
    return PartitionsPublish.publishPartitions(root, run, partitionRoots);
  }

  /**
   * {@link #publishPartitions(String, RunInfo, List)}, moving {@code _LATEST} back to this run even when
   * it is older than the run {@code _LATEST} names when {@code forceLatest} (see {@link #withForceLatest}).
   */
  public static String publishPartitions(String root, RunInfo run, List<String> partitionRoots, boolean forceLatest)
      throws IOException {
    return PartitionsPublish.publishPartitions(root, run, partitionRoots, forceLatest);
  }
}
