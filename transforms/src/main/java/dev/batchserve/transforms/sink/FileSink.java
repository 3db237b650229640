package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.join.BucketJoin;
import dev.batchserve.transforms.join.ShardWriter;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
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
  public static final String SUCCESS = "_SUCCESS";
  public static final String MANIFEST = "_MANIFEST.json";
  public static final String LATEST = "_LATEST";
  /** In a run's directory: names the run's published attempt ({@code attempt=<id>}), replaced by rename. */
  public static final String CURRENT = "_CURRENT";
  /**
   * In a published attempt: {@code {"run_id": ..., "published_at": "<ISO-8601 instant>"}}, written at
   * publish time just before {@code _SUCCESS}; what the ages of {@code check-staleness} count from.
   */
  public static final String PUBLISHED = "_PUBLISHED.json";
  /** In an attempt: the driver gave it up (failed run); nothing may be written or published there any more. */
  public static final String ABORTED = "_ABORTED";
  /** The prefix of an attempt's directory inside its run's directory. */
  public static final String ATTEMPT_PREFIX = "attempt=";
  private static final java.util.regex.Pattern ATTEMPT_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final java.time.format.DateTimeFormatter ATTEMPT_TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", java.util.Locale.ROOT)
          .withZone(java.time.ZoneOffset.UTC);
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileSink.class);

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
    c.attempt = checkAttemptId(attemptId);
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
    return new FilesShardWriter(attemptDirectory(root, runInfo, attempt), numShards, formats, passThrough);
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
    byte[] b = new byte[3];
    RANDOM.nextBytes(b);
    return ATTEMPT_TIME.format(java.time.Instant.now()) + "-" + HexFormat.of().formatHex(b);
  }

  private static String checkAttemptId(String id) {
    checkArgument(id != null && ATTEMPT_ID.matcher(id).matches(),
        "an attempt id is 1-100 letters, digits, '.', '_' or '-' (not first), but was '%s'", id);
    return id;
  }

  /**
   * {@code <root>/run_date=<date>/run_id=<id>}: the run's directory, holding its attempts, its
   * {@code _CURRENT} pointer and the job's lock. A run's files are in the attempt {@code _CURRENT} names:
   * read them through {@link #publishedDirectory}.
   */
  public static String runDirectory(String root, RunInfo run) {
    return trim(root) + "/" + runPath(run);
  }

  /** {@code <root>/run_date=<date>/run_id=<id>/attempt=<attempt id>}: where one attempt writes everything. */
  public static String attemptDirectory(String root, RunInfo run, String attemptId) {
    return runDirectory(root, run) + "/" + ATTEMPT_PREFIX + checkAttemptId(attemptId);
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
    String runDir = runDirectory(root, run);
    String current = readSmall(runDir + "/" + CURRENT);
    String dir = current == null || current.trim().isEmpty() ? runDir : runDir + "/" + current.trim();
    return exists(dir + "/" + SUCCESS) ? dir : null;
  }

  /**
   * The directory {@code <root>/_LATEST} names (the latest published attempt of any run), or null when
   * nothing was published. Readers trust it only with its {@code _SUCCESS}, which publishing wrote first.
   */
  public static @Nullable String latestDirectory(String root) {
    String latest = readSmall(trim(root) + "/" + LATEST);
    return latest == null || latest.trim().isEmpty() ? null : trim(root) + "/" + latest.trim();
  }

  /** The run id in a run's or attempt's path ({@code .../run_id=<id>[/attempt=...]}). */
  public static String runIdOf(String path) {
    int i = path.lastIndexOf("run_id=");
    checkArgument(i >= 0, "'%s' is not a run's path: it has no run_id=<id> part", path);
    String rest = path.substring(i + "run_id=".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
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
    String dir = attemptDirectory(root, run, attemptId);
    if (isServed(root, run, ATTEMPT_PREFIX + attemptId)) {
      return false;
    }
    write(FileSystems.matchNewResource(dir + "/" + ABORTED, false), new byte[0]);
    removeOutputs(FileSystems.matchNewResource(dir, true));
    return true;
  }

  /**
   * Discards every attempt of the run that is not published (left by a failed or killed run), see
   * {@link #discardAttempt}; the job driver calls it under the run's lock before a new attempt starts.
   *
   * @return the attempt ids discarded
   */
  public static List<String> discardUnpublishedAttempts(String root, RunInfo run) throws IOException {
    List<String> discarded = new ArrayList<>();
    for (Map.Entry<String, Boolean> a : attempts(FileSystems.matchNewResource(runDirectory(root, run), true)).entrySet()) {
      String id = a.getKey().substring(ATTEMPT_PREFIX.length());
      if (!a.getValue() && discardAttempt(root, run, id)) {
        discarded.add(id);
      }
    }
    return discarded;
  }

  private static String trim(String root) {
    return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  /** The run's path relative to the root, as written into {@code _LATEST}. */
  public static String runPath(RunInfo run) {
    return "run_date=" + run.runDate() + "/run_id=" + run.runId();
  }

  @Override
  public PublishedRun expand(PCollection<KV<K, Prediction>> input) {
    checkState(runInfo != null, "FileSink needs withRunInfo(run)");
    RunInfo run = runInfo;
    String attemptDir = attemptDirectory(root, run, attempt != null ? attempt : newAttemptId());
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
   * the attempt ({@link #complete}).
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
      shardFiles = writtenFiles.apply("CheckWrittenFiles", ParDo.of(new CheckWrittenFn(staging, shards)))
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
              .apply("WriteSortedShards", ParDo.of(new WriteShardFn(writer)))
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
        new Switch(root, run, written, deadFiles, models, forceLatest, rowSchema));
    if (deadWritten != null) {
      staged = staged.alsoAfter(deadWritten);
    }
    return staged.withSideInputs(sideInputs);
  }

  /**
   * Sorts one shard's predictions by key (ties, which a keyed run does not have, by their JSON) and
   * writes it through the sink's {@link FilesShardWriter}.
   */
  private static final class WriteShardFn
      extends DoFn<KV<Integer, Iterable<KV<String, Prediction>>>, KV<String, KV<String, Long>>> {
    private final FilesShardWriter writer;

    WriteShardFn(FilesShardWriter writer) {
      this.writer = writer;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<KV<String, Prediction>>> shard,
        OutputReceiver<KV<String, KV<String, Long>>> out) throws IOException {
      List<KV<String, Prediction>> rows = new ArrayList<>();
      shard.getValue().forEach(rows::add);
      rows.sort(java.util.Comparator.<KV<String, Prediction>, String>comparing(KV::getKey)
          .thenComparing(kv -> kv.getValue().toJson(kv.getKey())));
      ShardWriter.Shard open = writer.open(shard.getKey());
      for (KV<String, Prediction> kv : rows) {
        open.write(kv.getKey(), kv.getValue());
      }
      open.finish().forEach(out::output);
    }
  }

  /** Passes on files written by a shard writer after checking they are this sink's (attempt, shard count). */
  private static final class CheckWrittenFn extends DoFn<KV<String, KV<String, Long>>, KV<String, KV<String, Long>>> {
    private final String staging;
    private final int shards;
    private transient String dir;

    CheckWrittenFn(String staging, int shards) {
      this.staging = staging;
      this.shards = shards;
    }

    @Setup
    public void setup() {
      // As the writer names its files: resolved, so that a relative root compares equal.
      dir = FileSystems.matchNewResource(staging, true).toString();
    }

    @ProcessElement
    public void process(@Element KV<String, KV<String, Long>> file, OutputReceiver<KV<String, KV<String, Long>>> out) {
      if (file.getKey().equals(FilesShardWriter.ROWS_BY_MODEL)) {
        out.output(file); // a shard's rows per model, not a file
        return;
      }
      String path = file.getValue().getKey();
      String suffix = String.format(java.util.Locale.ROOT, "-of-%05d", shards);
      checkState(path.startsWith(dir) && path.contains(suffix),
          "FileSink.withWrittenFiles: %s was not written by this sink's shardWriter() (its files go to %s/ as"
              + " part-<i>%s.<format>): build the KeyedPrediction's writingShards(...) from the same FileSink",
          path, staging, suffix);
      out.output(file);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * The publish: counts each format's rows, moves the staged files into place, then writes the
   * manifest, {@code _SUCCESS}, {@code _CURRENT} and {@code _LATEST} ({@link #complete}).
   */
  private static final class Switch implements StagedPublish.Publisher {
    private static final long serialVersionUID = 1L;
    private final String root;
    private final RunInfo run;
    private final Map<FileFormat, PCollectionView<List<KV<String, Long>>>> written;
    private final @Nullable PCollectionView<List<KV<String, Long>>> deadFiles;
    private final PCollectionView<List<KV<String, Long>>> models;
    private final boolean forceLatest;
    private final org.apache.beam.sdk.schemas.Schema rowSchema;

    Switch(String root, RunInfo run, Map<FileFormat, PCollectionView<List<KV<String, Long>>>> written,
        @Nullable PCollectionView<List<KV<String, Long>>> deadFiles,
        PCollectionView<List<KV<String, Long>>> models, boolean forceLatest, org.apache.beam.sdk.schemas.Schema rowSchema) {
      this.rowSchema = rowSchema;
      this.root = root;
      this.run = run;
      this.written = written;
      this.deadFiles = deadFiles;
      this.models = models;
      this.forceLatest = forceLatest;
    }

    @Override
    public StagedPublish.Published publish(StagedPublish.Context c) throws IOException {
      String attemptDir = c.attempt();
      // Every format holds every prediction once, before anything moves.
      Map<FileFormat, List<String>> files = new TreeMap<>();
      for (Map.Entry<FileFormat, PCollectionView<List<KV<String, Long>>>> e : written.entrySet()) {
        long rows = 0;
        List<String> names = new ArrayList<>();
        for (KV<String, Long> f : c.sideInput(e.getValue())) {
          names.add(f.getKey());
          rows += f.getValue();
        }
        c.checkCount(rows, "rows in the " + e.getKey().directory() + " shards of " + attemptDir);
        files.put(e.getKey(), names);
      }
      // The attempt's own directory: no reader looks here before _CURRENT and _LATEST name it.
      ResourceId dir = FileSystems.matchNewResource(attemptDir, true);
      Map<String, Long> perModel = new TreeMap<>();
      for (KV<String, Long> m : c.sideInput(models)) {
        perModel.merge(m.getKey(), m.getValue(), Long::sum);
      }
      ObjectNode manifest = manifestHeader(run, c.records(), perModel.keySet(), rowSchema);
      putPerModel(manifest, perModel);
      ObjectNode listing = manifest.putObject("files");
      for (Map.Entry<FileFormat, List<String>> e : files.entrySet()) {
        String sub = e.getKey().directory();
        listing.set(sub, moveIntoPlace(dir, sub, byOwnName(e.getValue())));
      }
      if (deadFiles != null) {
        List<KV<String, Long>> dead = c.sideInput(deadFiles);
        List<String> names = new ArrayList<>();
        long deadCount = 0;
        for (KV<String, Long> f : dead) {
          names.add(f.getKey());
          deadCount += f.getValue();
        }
        if (names.isEmpty()) {
          // No dead letters, so no group was written: the run still lists its (empty) file.
          names.add(DeadLetterFiles.writeEmpty(attemptDir));
        }
        manifest.put("dead_letters", deadCount);
        listing.set("dead_letters", moveIntoPlace(dir, "dead_letters", byOwnName(names)));
      }
      removeTree(dir.resolve("_staging", StandardResolveOptions.RESOLVE_DIRECTORY));
      String servedInstead = complete(root, run, dir, manifest, forceLatest);
      return servedInstead == null
          ? StagedPublish.Published.latest(attemptDir)
          : StagedPublish.Published.backfill(attemptDir, servedInstead, "files under " + root + ": " + LATEST + " unchanged");
    }
  }

  /** The manifest's run-level fields and schema; the caller adds counts and files. */
  /** {@code "predictions_by_model": {"<name>:<version>": rows}}, fallbacks under their own model name. */
  static void putPerModel(ObjectNode manifest, Map<String, Long> perModel) {
    ObjectNode counts = manifest.putObject("predictions_by_model");
    new TreeMap<>(perModel).forEach(counts::put);
  }

  static ObjectNode manifestHeader(RunInfo run, long records, java.util.Collection<String> models) {
    return manifestHeader(run, records, models, Prediction.SCHEMA);
  }

  /** As above, listing the fields of {@code rowSchema} (with a {@code pass_through} record, its fields too). */
  static ObjectNode manifestHeader(RunInfo run, long records, java.util.Collection<String> models,
      org.apache.beam.sdk.schemas.Schema rowSchema) {
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("run_id", run.runId());
    manifest.put("pipeline", run.pipeline());
    manifest.put("run_date", run.runDate().toString());
    manifest.put("interval", run.interval().name().toLowerCase(java.util.Locale.ROOT));
    manifest.put("prediction_timestamp", run.predictionTimestamp().toString());
    manifest.put("records", records);
    ArrayNode modelList = manifest.putArray("models");
    new TreeSet<>(models).forEach(modelList::add);
    ArrayNode schema = manifest.putArray("schema");
    for (org.apache.beam.sdk.schemas.Schema.Field f : rowSchema.getFields()) {
      ObjectNode field = schema.addObject();
      field.put("name", f.getName());
      field.put("type", f.getType().getTypeName().toString());
      field.put("nullable", f.getType().getNullable());
      org.apache.beam.sdk.schemas.Schema nested = f.getType().getRowSchema();
      if (nested != null) {
        ArrayNode inner = field.putArray("fields");
        for (org.apache.beam.sdk.schemas.Schema.Field g : nested.getFields()) {
          inner.addObject().put("name", g.getName()).put("type", g.getType().getTypeName().toString())
              .put("nullable", g.getType().getNullable());
        }
      }
    }
    return manifest;
  }

  /**
   * Publishes a written attempt: its manifest, {@code _PUBLISHED.json} and {@code _SUCCESS}, then the
   * run's {@code _CURRENT} and the root's {@code _LATEST} are moved to it, each by an atomic rename,
   * last. {@code _LATEST} stays where it is when it names a newer run ({@link Backfill#isOlder}: the
   * prediction timestamp in that run's manifest is later), unless {@code forceLatest}. Then attempts of
   * the run superseded before the one just replaced are removed (the one just replaced stays until the
   * next publish, for readers still reading it), and unpublished ones lose their shards.
   *
   * @return the run id {@code _LATEST} still names when this run was published as a backfill, else null
   */
  static @Nullable String complete(String root, RunInfo run, ResourceId attemptDir, ObjectNode manifest,
      boolean forceLatest) throws IOException {
    String attemptName = attemptDir.getFilename();
    checkState(attemptName != null && attemptName.startsWith(ATTEMPT_PREFIX), "not an attempt's directory: %s", attemptDir);
    write(attemptDir.resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE), JSON.writeValueAsBytes(manifest));
    if (exists(attemptDir.resolve(ABORTED, StandardResolveOptions.RESOLVE_FILE).toString())) {
      throw new IllegalStateException("not publishing " + attemptDir + ": the job gave this attempt up ("
          + ABORTED + " exists), so the run failed; run it again");
    }
    // Apart from the manifest, which stays byte-identical across re-runs of the run.
    ObjectNode published = JSON.createObjectNode();
    published.put("run_id", run.runId());
    published.put("published_at", java.time.Instant.now().toString());
    write(attemptDir.resolve(PUBLISHED, StandardResolveOptions.RESOLVE_FILE), JSON.writeValueAsBytes(published));
    write(attemptDir.resolve(SUCCESS, StandardResolveOptions.RESOLVE_FILE), new byte[0]);
    ResourceId runDir = FileSystems.matchNewResource(runDirectory(root, run), true);
    String current = readSmall(runDir.resolve(CURRENT, StandardResolveOptions.RESOLVE_FILE).toString());
    String replaced = current == null ? null : current.trim();
    // The pointers move last, so readers switch from one complete attempt to the next.
    replace(runDir, CURRENT, attemptName + "\n");
    String servedInstead = forceLatest ? null : newerLatestRun(root, run);
    if (servedInstead == null) {
      replace(FileSystems.matchNewResource(root, true), LATEST, runPath(run) + "/" + attemptName + "\n");
    }
    Set<String> keep = new TreeSet<>();
    keep.add(attemptName);
    if (replaced != null) {
      keep.add(replaced);
    }
    for (Map.Entry<String, Boolean> a : attempts(runDir).entrySet()) {
      if (keep.contains(a.getKey()) || isServed(root, run, a.getKey())) {
        continue;
      }
      ResourceId old = runDir.resolve(a.getKey(), StandardResolveOptions.RESOLVE_DIRECTORY);
      if (a.getValue()) {
        removeTree(old); // superseded before the one just replaced: no reader can still be on it
      } else {
        removeOutputs(old); // failed or killed: its report stays, its shards go
      }
    }
    return servedInstead;
  }

  /**
   * The run id {@code _LATEST} names when that run is newer than {@code run} (its manifest's
   * {@code prediction_timestamp} is later and it is another run id), else null. A pointer without a
   * readable manifest (written by hand, or before manifests had timestamps) counts as not newer.
   */
  private static @Nullable String newerLatestRun(String root, RunInfo run) {
    String latest = latestDirectory(root);
    if (latest == null) {
      return null;
    }
    String servedRunId = runIdOf(latest);
    String manifest = readSmall(latest + "/" + MANIFEST);
    if (manifest == null) {
      return null;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode ts = JSON.readTree(manifest).get("prediction_timestamp");
      if (ts == null || !ts.isTextual()) {
        return null;
      }
      return Backfill.isOlder(run, servedRunId, java.time.Instant.parse(ts.asText())) ? servedRunId : null;
    } catch (IOException | java.time.format.DateTimeParseException e) {
      return null;
    }
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
    String published = readSmall(trim(dir) + "/" + PUBLISHED);
    if (published != null) {
      try {
        com.fasterxml.jackson.databind.JsonNode at = JSON.readTree(published).get("published_at");
        if (at != null && at.isTextual()) {
          return java.time.Instant.parse(at.asText());
        }
      } catch (IOException | java.time.format.DateTimeParseException e) {
        // fall back to _SUCCESS below
      }
    }
    try {
      List<MatchResult.Metadata> success = match(trim(dir) + "/" + SUCCESS);
      long millis = success.isEmpty() ? 0 : success.get(0).lastModifiedMillis();
      return millis > 0 ? java.time.Instant.ofEpochMilli(millis) : null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + "/" + SUCCESS, e);
    }
  }

  /** Writes {@code name} in {@code dir} through a temporary file and an atomic rename. */
  private static void replace(ResourceId dir, String name, String text) throws IOException {
    ResourceId tmp = dir.resolve(name + ".tmp-" + UUID.randomUUID(), StandardResolveOptions.RESOLVE_FILE);
    write(tmp, text.getBytes(StandardCharsets.UTF_8));
    try {
      FileSystems.rename(List.of(tmp), List.of(dir.resolve(name, StandardResolveOptions.RESOLVE_FILE)));
    } catch (IOException | RuntimeException e) {
      delete(List.of(tmp));
      throw e;
    }
  }

  /** Whether the run's {@code _CURRENT} or the root's {@code _LATEST} names this attempt of the run. */
  private static boolean isServed(String root, RunInfo run, String attemptName) {
    String current = readSmall(runDirectory(root, run) + "/" + CURRENT);
    if (current != null && current.trim().equals(attemptName)) {
      return true;
    }
    String latest = readSmall(trim(root) + "/" + LATEST);
    return latest != null && latest.trim().equals(runPath(run) + "/" + attemptName);
  }

  /** The run's attempts ({@code attempt=<id>}), each with whether it has its {@code _SUCCESS}. */
  private static Map<String, Boolean> attempts(ResourceId runDir) throws IOException {
    Map<String, Boolean> found = new TreeMap<>();
    String prefix = runDir.toString();
    for (MatchResult.Metadata m : match(runDir + ATTEMPT_PREFIX + "*/**")) {
      String rel = m.resourceId().toString().substring(prefix.length());
      int slash = rel.indexOf('/');
      if (slash > 0 && rel.startsWith(ATTEMPT_PREFIX)) {
        String name = rel.substring(0, slash);
        boolean success = rel.equals(name + "/" + SUCCESS);
        found.merge(name, success, Boolean::logicalOr);
      }
    }
    return found;
  }

  /** Removes what the sink wrote into an attempt (staging, shards, dead letters, manifest, success marker). */
  private static void removeOutputs(ResourceId attemptDir) throws IOException {
    removeTree(attemptDir.resolve("_staging", StandardResolveOptions.RESOLVE_DIRECTORY));
    for (FileFormat f : FileFormat.values()) {
      removeTree(attemptDir.resolve(f.directory(), StandardResolveOptions.RESOLVE_DIRECTORY));
    }
    removeTree(attemptDir.resolve("dead_letters", StandardResolveOptions.RESOLVE_DIRECTORY));
    delete(List.of(attemptDir.resolve(SUCCESS, StandardResolveOptions.RESOLVE_FILE),
        attemptDir.resolve(PUBLISHED, StandardResolveOptions.RESOLVE_FILE),
        attemptDir.resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE)));
  }

  /** A small file's text, or null when it does not exist. */
  private static @Nullable String readSmall(String uri) {
    try {
      List<MatchResult.Metadata> m = match(uri);
      if (m.isEmpty()) {
        return null;
      }
      try (InputStream in = Channels.newInputStream(FileSystems.open(m.get(0).resourceId()))) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + uri, e);
    }
  }

  static boolean exists(String glob) {
    try {
      return !match(glob).isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + glob, e);
    }
  }

  private static Map<ResourceId, String> byOwnName(List<String> staged) {
    Map<ResourceId, String> m = new java.util.LinkedHashMap<>();
    for (String f : staged) {
      ResourceId src = FileSystems.matchNewResource(f, false);
      m.put(src, src.getFilename());
    }
    return m;
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
    return publishPartitions(root, run, partitionRoots, false);
  }

  /**
   * {@link #publishPartitions(String, RunInfo, List)}, moving {@code _LATEST} back to this run even when
   * it is older than the run {@code _LATEST} names when {@code forceLatest} (see {@link #withForceLatest}).
   */
  public static String publishPartitions(String root, RunInfo run, List<String> partitionRoots, boolean forceLatest)
      throws IOException {
    List<String> parts = new ArrayList<>();
    for (int p = 0; p < partitionRoots.size(); p++) {
      String part = publishedDirectory(partitionRoots.get(p), run);
      if (part == null) {
        throw new IllegalStateException("partition " + p + " of run " + run.runId() + " is not complete: no "
            + SUCCESS + " in a published attempt under " + runDirectory(partitionRoots.get(p), run));
      }
      parts.add(part);
    }
    String attemptId;
    try {
      attemptId = "partitions-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(String.join("\n", parts).getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    String attemptDir = attemptDirectory(root, run, attemptId);
    if (attemptDir.equals(publishedDirectory(root, run))) {
      return attemptDir; // these partitions are published already
    }
    ResourceId runId = FileSystems.matchNewResource(attemptDir, true);
    long records = 0;
    long dead = 0;
    Set<String> models = new TreeSet<>();
    Map<String, Long> perModel = new TreeMap<>();
    Map<String, Map<ResourceId, String>> byDir = new TreeMap<>();
    for (int p = 0; p < parts.size(); p++) {
      ResourceId part = FileSystems.matchNewResource(parts.get(p), true);
      com.fasterxml.jackson.databind.JsonNode m;
      try (InputStream in = Channels.newInputStream(
          FileSystems.open(part.resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE)))) {
        m = JSON.readTree(in);
      }
      records += m.path("records").asLong();
      dead += m.path("dead_letters").asLong();
      m.path("models").forEach(n -> models.add(n.asText()));
      m.path("predictions_by_model").fields().forEachRemaining(e -> perModel.merge(e.getKey(), e.getValue().asLong(), Long::sum));
      String prefix = String.format(java.util.Locale.ROOT, "part-p%05d-", p);
      for (java.util.Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it =
          m.path("files").fields(); it.hasNext(); ) {
        Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
        Map<ResourceId, String> files = byDir.computeIfAbsent(e.getKey(), k -> new java.util.LinkedHashMap<>());
        for (com.fasterxml.jackson.databind.JsonNode f : e.getValue()) {
          ResourceId src = part.resolve(f.get("path").asText(), StandardResolveOptions.RESOLVE_FILE);
          files.put(src, prefix + src.getFilename());
        }
      }
    }
    ObjectNode manifest = manifestHeader(run, records, models);
    putPerModel(manifest, perModel);
    manifest.put("dead_letters", dead);
    manifest.put("partitions", partitionRoots.size());
    ObjectNode files = manifest.putObject("files");
    for (Map.Entry<String, Map<ResourceId, String>> e : byDir.entrySet()) {
      files.set(e.getKey(), moveIntoPlace(runId, e.getKey(), e.getValue()));
    }
    String servedInstead = complete(root, run, runId, manifest, forceLatest);
    if (servedInstead != null) {
      LOG.warn(Backfill.message(run.runId(), servedInstead, "files under " + root + ": " + LATEST + " unchanged"));
    }
    return attemptDir;
  }

  /**
   * Moves files into {@code <runDir>/<dir>/} under the given names, drops {@code part-*} files there
   * that are not among them (stale shards of an earlier attempt), and lists them with their sha256.
   * A source already moved by an earlier attempt is skipped.
   */
  private static ArrayNode moveIntoPlace(ResourceId runDir, String dir, Map<ResourceId, String> sources)
      throws IOException {
    ResourceId target = runDir.resolve(dir, StandardResolveOptions.RESOLVE_DIRECTORY);
    List<ResourceId> from = new ArrayList<>();
    List<ResourceId> to = new ArrayList<>();
    Set<String> names = new TreeSet<>();
    for (Map.Entry<ResourceId, String> e : sources.entrySet()) {
      from.add(e.getKey());
      to.add(target.resolve(e.getValue(), StandardResolveOptions.RESOLVE_FILE));
      names.add(e.getValue());
    }
    List<ResourceId> stale = new ArrayList<>();
    for (MatchResult.Metadata m : match(target.resolve("part-*", StandardResolveOptions.RESOLVE_FILE).toString())) {
      if (!names.contains(m.resourceId().getFilename())) {
        stale.add(m.resourceId());
      }
    }
    delete(stale);
    if (!from.isEmpty()) {
      FileSystems.rename(from, to, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    }
    ArrayNode listing = JSON.createArrayNode();
    for (String name : names) {
      ResourceId file = target.resolve(name, StandardResolveOptions.RESOLVE_FILE);
      ObjectNode entry = listing.addObject();
      entry.put("path", dir + "/" + name);
      long[] size = new long[1];
      entry.put("sha256", sha256(file, size));
      entry.put("bytes", size[0]);
    }
    return listing;
  }

    private static List<MatchResult.Metadata> match(String glob) throws IOException {
      MatchResult r = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
      return r.status() == MatchResult.Status.OK ? r.metadata() : List.of();
    }

    static void delete(List<ResourceId> ids) throws IOException {
      if (!ids.isEmpty()) {
        FileSystems.delete(ids, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
      }
    }

    /** Deletes every file under {@code dir}; on a local disk also the emptied directories. */
    private static void removeTree(ResourceId dir) throws IOException {
      List<ResourceId> files = new ArrayList<>();
      for (MatchResult.Metadata m : match(dir + "**")) {
        files.add(m.resourceId());
      }
      delete(files);
      if ("file".equals(dir.getScheme())) {
        java.nio.file.Path local = java.nio.file.Paths.get(dir.toString());
        if (java.nio.file.Files.exists(local)) {
          try (java.util.stream.Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(local)) {
            for (java.nio.file.Path d : (Iterable<java.nio.file.Path>)
                walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
              java.nio.file.Files.delete(d);
            }
          }
        }
      }
    }

    private static void write(ResourceId id, byte[] bytes) throws IOException {
      try (OutputStream out = Channels.newOutputStream(FileSystems.create(id, "application/octet-stream"))) {
        out.write(bytes);
      }
    }

    private static String sha256(ResourceId id, long[] size) throws IOException {
      try (InputStream in = Channels.newInputStream(FileSystems.open(id))) {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
          md.update(buf, 0, n);
          total += n;
        }
        size[0] = total;
        return HexFormat.of().formatHex(md.digest());
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
}
