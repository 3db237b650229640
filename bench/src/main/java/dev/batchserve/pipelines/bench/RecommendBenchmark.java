package dev.batchserve.pipelines.bench;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.cli.Tools;
import dev.batchserve.models.tensorflow.TensorFlowModel;
import dev.batchserve.models.tensorflow.TensorFlowOptions;
import dev.batchserve.pipelines.recommend.Recommend;
import dev.batchserve.examples.recommend.RecommendPipeline;
import dev.batchserve.tools.samples.RecommendSample;
import dev.batchserve.models.TopKModelFiles;
import dev.batchserve.models.training.TopKExporter;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Top-k recommendations against the raw TensorFlow matmul, measured side by side in one run: the
 * model {@link TopKExporter} exports from the generated catalog ({@code topK(user x catalog^T -
 * 1e30 * exclude, k)}, what {@link RecommendPipeline} uses) scores the same {@link RecommendSample}
 * users
 *
 * <ol>
 *   <li>in plain Java loops on one calling thread (TensorFlow's own thread pool does the math):
 *       the matmul alone, fetched from the exported graph; the whole graph (matmul, mask, top-k)
 *       with an all-zero mask; and {@link Model#predictNamed} as {@link Recommend} calls it, with
 *       the mask of purchased items built per batch and the outputs copied back;
 *   <li>through {@link Recommend} alone (users generated in the pipeline, predictions dropped) and
 *       through the whole {@link RecommendPipeline} (Parquet and JSON lines, published), on the
 *       runner given by the usual {@code --runner} options.
 * </ol>
 *
 * <p>Prints users/s and GFLOP/s of each, and each one's GFLOP/s as a share of the matmul alone;
 * writes JSON. FLOPs count the matmul only: {@code 2 x scored users x items x dim}; new users (about
 * 5%, cold start) get the popularity list without a model call, so they count as users but not as
 * FLOPs.
 *
 * <p>Why one class of some 515 lines (issue #19): every measurement here is one row of the same
 * table, over the same sizes, the same generated users and the same exported model; the raw loops
 * are the baseline the pipeline rows are divided by, so they stay next to them rather than behind
 * a second class that only this one would call.
 *
 * <pre>
 * java ... RecommendBenchmark --out=work/bench/recommend.json --users=100000 --items=10000 --dim=64 \
 *     --k=100 --batchSize=256 --runner=FlinkRunner --flinkMaster=[local] --parallelism=2
 * </pre>
 */
public final class RecommendBenchmark {
  private static final long SEED = 42;
  private static final String RUN_DATE = "2026-01-01";

  private RecommendBenchmark() {}

  /** The sizes of one benchmark run. */
  public static final class Sizes {
    final int users;
    final int items;
    final int dim;
    final int k;
    final int batchSize;

    public Sizes(int users, int items, int dim, int k, int batchSize) {
      checkArgument(users > 0, "users must be > 0, but was %s", users);
      checkArgument(items > 0, "items must be > 0, but was %s", items);
      checkArgument(dim > 0, "dim must be > 0, but was %s", dim);
      checkArgument(k >= 1 && k <= items, "k must be in [1, items=%s], but was %s", items, k);
      checkArgument(batchSize >= 1, "batchSize must be >= 1, but was %s", batchSize);
      this.users = users;
      this.items = items;
      this.dim = dim;
      this.k = k;
      this.batchSize = batchSize;
    }

    /** FLOPs of the matmul for {@code scored} users. */
    double flops(long scored) {
      return 2.0 * scored * items * dim;
    }
  }

  /** The users the model scores (those with an embedding), as the loops feed them. */
  static final class ScoredUsers {
    final float[][] embeddings;
    final int[][] purchased; // catalog indices to mask
    final int total;

    ScoredUsers(float[][] embeddings, int[][] purchased, int total) {
      this.embeddings = embeddings;
      this.purchased = purchased;
      this.total = total;
    }

    int size() {
      return embeddings.length;
    }
  }

  /** Users {@code 0..users-1} as {@link RecommendPipeline#generateUsers} makes them, minus the new users. */
  static ScoredUsers scoredUsers(Sizes s, List<String> itemIds) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < itemIds.size(); i++) {
      index.put(itemIds.get(i), i);
    }
    List<float[]> embeddings = new ArrayList<>();
    List<int[]> purchased = new ArrayList<>();
    for (int i = 0; i < s.users; i++) {
      Row u = RecommendSample.user(i, s.items, s.dim, SEED);
      Collection<Float> e = u.getArray("embedding");
      if (e == null) {
        continue;
      }
      float[] v = new float[e.size()];
      int d = 0;
      for (Float f : e) {
        v[d++] = f;
      }
      embeddings.add(v);
      purchased.add(u.<String>getArray("purchased").stream().map(index::get).mapToInt(Integer::intValue).toArray());
    }
    return new ScoredUsers(embeddings.toArray(new float[0][]), purchased.toArray(new int[0][]), s.users);
  }

  /** One measured step: what ran, users handled, users scored by the model, seconds. */
  static final class Step {
    final String name;
    final String description;
    final long users;
    final long scored;
    final double seconds;

    Step(String name, String description, long users, long scored, double seconds) {
      this.name = name;
      this.description = description;
      this.users = users;
      this.scored = scored;
      this.seconds = seconds;
    }
  }

  // ---- raw loops, one calling thread ----

  private static float[] flatten(float[][] rows, int from, int n, int dim) {
    float[] flat = new float[n * dim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(rows[from + i], 0, flat, i * dim, dim);
    }
    return flat;
  }

  /**
   * The exported graph run through its own session with graph tensor names: {@code matmulOnly}
   * fetches the matmul (TensorFlow then skips the mask and top-k); otherwise the signature's outputs
   * with an all-zero mask. Results stay native (no copy into Java arrays).
   */
  static double rawGraphSeconds(SavedModelBundle bundle, ScoredUsers users, Sizes s, boolean matmulOnly) {
    Signature sig = bundle.signatures().stream().filter(x -> x.key().equals(ModelManifest.DEFAULT_SIGNATURE))
        .findFirst().orElseThrow(() -> new IllegalStateException("no serving_default signature"));
    String userTensor = sig.getInputs().get(TopKModelFiles.USER).name;
    String excludeTensor = sig.getInputs().get(TopKModelFiles.EXCLUDE).name;
    String itemsTensor = sig.getOutputs().get(TopKModelFiles.ITEMS).name;
    String scoresTensor = sig.getOutputs().get(TopKModelFiles.SCORES).name;
    String matmul = matmulOp(bundle);
    Map<Integer, TFloat32> zeroMasks = new HashMap<>();
    try {
      long t0 = System.nanoTime();
      for (int from = 0; from < users.size(); from += s.batchSize) {
        int n = Math.min(s.batchSize, users.size() - from);
        try (TFloat32 u = TFloat32.tensorOf(Shape.of(n, s.dim), DataBuffers.of(flatten(users.embeddings, from, n, s.dim),
            true, false))) {
          var runner = bundle.session().runner().feed(userTensor, u);
          if (matmulOnly) {
            runner.fetch(matmul);
          } else {
            TFloat32 mask = zeroMasks.computeIfAbsent(n, rows -> TFloat32.tensorOf(Shape.of(rows, s.items),
                DataBuffers.of(new float[rows * s.items], true, false)));
            runner.feed(excludeTensor, mask).fetch(itemsTensor).fetch(scoresTensor);
          }
          try (Result r = runner.run()) {
            if (r.size() == 0) {
              throw new IllegalStateException("TensorFlow returned nothing");
            }
          }
        }
      }
      return (System.nanoTime() - t0) / 1e9;
    } finally {
      zeroMasks.values().forEach(TFloat32::close);
    }
  }

  /**
   * Checks that the fetched MatMul is the user x catalog^T product (first batch, first and last row,
   * every item, against plain Java dot products), so the baseline measures the real work.
   */
  static void checkMatmul(SavedModelBundle bundle, ScoredUsers users, Sizes s, float[][] catalog) {
    Signature sig = bundle.signatures().stream().filter(x -> x.key().equals(ModelManifest.DEFAULT_SIGNATURE))
        .findFirst().orElseThrow(() -> new IllegalStateException("no serving_default signature"));
    int n = Math.min(s.batchSize, users.size());
    float[] product = new float[n * s.items];
    try (TFloat32 u = TFloat32.tensorOf(Shape.of(n, s.dim), DataBuffers.of(flatten(users.embeddings, 0, n, s.dim),
            true, false));
        Result r = bundle.session().runner().feed(sig.getInputs().get(TopKModelFiles.USER).name, u)
            .fetch(matmulOp(bundle)).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(product, false, false));
    }
    for (int row : new int[] {0, n - 1}) {
      for (int item = 0; item < s.items; item++) {
        double dot = 0;
        for (int d = 0; d < s.dim; d++) {
          dot += (double) users.embeddings[row][d] * catalog[item][d];
        }
        if (Math.abs(product[row * s.items + item] - dot) > 1e-3) {
          throw new IllegalStateException("the MatMul fetched for the baseline is not user x catalog^T: user " + row
              + ", item " + item + ": " + product[row * s.items + item] + " != " + dot);
        }
      }
    }
  }

  /** The name of the graph's one MatMul operation (the user x catalog^T product). */
  static String matmulOp(SavedModelBundle bundle) {
    List<String> found = new ArrayList<>();
    for (Iterator<GraphOperation> it = bundle.graph().operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      if (op.type().equals("MatMul")) {
        found.add(op.name());
      }
    }
    if (found.size() != 1) {
      throw new IllegalStateException("expected one MatMul in the top-k graph, found " + found);
    }
    return found.get(0);
  }

  /** {@link Model#predictNamed} as {@link Recommend} calls it: mask built per batch, outputs copied out. */
  static double rawModelSeconds(Model model, ScoredUsers users, Sizes s) {
    float sink = 0;
    long t0 = System.nanoTime();
    for (int from = 0; from < users.size(); from += s.batchSize) {
      int n = Math.min(s.batchSize, users.size() - from);
      float[][] u = Arrays.copyOfRange(users.embeddings, from, from + n);
      float[][] exclude = new float[n][s.items];
      for (int i = 0; i < n; i++) {
        for (int idx : users.purchased[from + i]) {
          exclude[i][idx] = 1f;
        }
      }
      Map<String, float[][]> out = model.predictNamed(Map.of(TopKModelFiles.USER, u, TopKModelFiles.EXCLUDE, exclude));
      sink += out.get(TopKModelFiles.SCORES)[0][0];
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (Float.isNaN(sink)) {
      throw new IllegalStateException("model returned NaN");
    }
    return seconds;
  }

  // ---- pipelines ----

  /** Drops the predictions: the top-k-only run measures {@link Recommend}, not a sink. */
  private static final class Discard extends DoFn<KV<String, Prediction>, Void> {
    @ProcessElement
    public void process(@Element KV<String, Prediction> kv) {}
  }

  private static final class DiscardDeadLetters extends DoFn<DeadLetter, Void> {
    @ProcessElement
    public void process(@Element DeadLetter d) {
      throw new IllegalStateException("benchmark user became a dead letter: " + d);
    }
  }

  private static long counter(PipelineResult result, String namespace, String name) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(namespace, name)).build()).getCounters()) {
      total += c.getAttempted() == null ? 0 : c.getAttempted();
    }
    return total;
  }

  /** Runs {@code p} to the end; returns {seconds, users scored by the model}; checks every user got a result. */
  private static double[] runAndCount(Pipeline p, Sizes s) {
    long t0 = System.nanoTime();
    PipelineResult result = p.run();
    PipelineResult.State state = result.waitUntilFinish();
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("benchmark pipeline ended in " + state);
    }
    long scored = counter(result, Recommend.METRICS_NAMESPACE, "users_recommended");
    long cold = counter(result, Recommend.METRICS_NAMESPACE, "cold_starts");
    if (scored + cold != s.users) {
      throw new IllegalStateException("the pipeline recommended to " + scored + " + " + cold + " (cold start) of "
          + s.users + " users");
    }
    return new double[] {seconds, scored};
  }

  static RecommendPipeline.Options options(String[] pipelineArgs, Sizes s, Path model, Path output) {
    List<String> args = new ArrayList<>(Arrays.asList(pipelineArgs));
    args.addAll(List.of("--users=" + s.users, "--items=" + s.items, "--dim=" + s.dim, "--k=" + s.k,
        "--batchSize=" + s.batchSize, "--seed=" + SEED, "--recsModel=" + model, "--recsOutput=" + output,
        "--runDate=" + RUN_DATE));
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(RecommendPipeline.Options.class);
  }

  /** Generated users -> {@link Recommend} (popularity for new users) -> dropped. */
  static Step topKOnly(RecommendPipeline.Options o, Sizes s, RecommendSample.Catalog catalog) {
    Pipeline p = Pipeline.create(o);
    Recommend.Result r = RecommendPipeline.generateUsers(p, s.users, s.items, s.dim, SEED)
        .apply("Recommend", Recommend.withModel(o.getRecsModel()).withRunInfo(RecommendPipeline.runInfo(o))
            .withMaxBatchSize(s.batchSize)
            .withColdStart(Fallback.popularity(catalog.mostPopular(s.k), catalog.mostPopularScores(s.k))));
    r.predictions().apply("Discard", ParDo.of(new Discard()));
    r.deadLetters().apply("NoDeadLetters", ParDo.of(new DiscardDeadLetters()));
    double[] run = runAndCount(p, s);
    return new Step("pipeline: Recommend only", "generate users -> Recommend -> drop", s.users, (long) run[1], run[0]);
  }

  /** The whole recommendations job: {@link RecommendPipeline#build}, Parquet + JSON lines, published. */
  static Step wholeJob(RecommendPipeline.Options o, Sizes s) throws IOException {
    Path output = Paths.get(o.getRecsOutput());
    FraudBenchmarkData.deleteRecursively(output); // a first run: no previous run to compare with
    Pipeline p = Pipeline.create(o);
    String runDir = RecommendPipeline.build(p, o);
    double[] run = runAndCount(p, s);
    if (!Files.exists(Paths.get(runDir, "_SUCCESS"))) {
      throw new IllegalStateException("the recommendations run was not published to " + runDir);
    }
    return new Step("pipeline: RecommendPipeline", "generate users -> Recommend -> Parquet + JSON lines, published",
        s.users, (long) run[1], run[0]);
  }

  /** The load averages of {@code /proc/loadavg} (1, 5, 15 minutes), or empty where unknown. */
  static List<Double> loadAverage() {
    try {
      String[] f = Files.readString(Paths.get("/proc/loadavg"), StandardCharsets.US_ASCII).trim().split("\\s+");
      return List.of(Double.valueOf(f[0]), Double.valueOf(f[1]), Double.valueOf(f[2]));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  /** Exports the model if needed, runs every step; returns the JSON written to {@code out}. */
  public static ObjectNode run(String[] pipelineArgs, Path workDir, Path out, Sizes s, PrintStream table)
      throws IOException {
    List<Double> load = loadAverage();
    int cores = Runtime.getRuntime().availableProcessors();
    table.printf(Locale.ROOT, "Top-%d over %,d items x %d dims for %,d users, batch %d; %d cores, load average %s%n",
        s.k, s.items, s.dim, s.users, s.batchSize, cores, load);
    Path modelDir = workDir.resolve(String.format(Locale.ROOT, "recs-topk-%dx%d-k%d", s.items, s.dim, s.k))
        .resolve("1").toAbsolutePath();
    RecommendSample.Catalog catalog = RecommendSample.catalog(s.items, s.dim, SEED);
    RecommendPipeline.ensureModel(modelDir, catalog, s.k);
    ScoredUsers users = scoredUsers(s, catalog.ids);

    List<Step> steps = new ArrayList<>();
    String describeGraph = "matMul + mask + topK in the exported graph, zero mask, outputs left native";
    try (SavedModelBundle bundle = SavedModelBundle.loader(modelDir.toString()).withTags(TensorFlowModel.SERVE_TAG)
        .withConfigProto(TensorFlowOptions.defaults().toConfigProto()).load()) {
      checkMatmul(bundle, users, s, catalog.embeddings);
      ScoredUsers warmUp = new ScoredUsers(Arrays.copyOf(users.embeddings, Math.min(users.size(), 20 * s.batchSize)),
          users.purchased, 0);
      rawGraphSeconds(bundle, warmUp, s, true);
      steps.add(new Step("raw: TF matmul only", "user batch x catalog^T, fetched from the exported graph",
          users.size(), users.size(), rawGraphSeconds(bundle, users, s, true)));
      rawGraphSeconds(bundle, warmUp, s, false);
      steps.add(new Step("raw: TF matmul + top-k graph", describeGraph,
          users.size(), users.size(), rawGraphSeconds(bundle, users, s, false)));
    }
    try (Model model = Models.load(modelDir)) {
      ScoredUsers warmUp = new ScoredUsers(Arrays.copyOf(users.embeddings, Math.min(users.size(), 20 * s.batchSize)),
          users.purchased, 0);
      rawModelSeconds(model, warmUp, s);
      steps.add(new Step("raw: Model.predictNamed", "as Recommend calls it: purchase mask built, outputs copied to Java",
          users.size(), users.size(), rawModelSeconds(model, users, s)));
    }

    RecommendPipeline.Options o = options(pipelineArgs, s, modelDir, workDir.resolve("out-recs").toAbsolutePath());
    steps.add(topKOnly(o, s, catalog));
    steps.add(wholeJob(o, s));

    double rawMatmulGflops = s.flops(steps.get(0).scored) / steps.get(0).seconds / 1e9;
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    ObjectNode machine = root.putObject("machine");
    machine.put("availableProcessors", cores);
    machine.putPOJO("loadAverageAtStart", load);
    machine.put("javaVersion", System.getProperty("java.version"));
    machine.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
    root.put("runner", o.getRunner().getSimpleName());
    root.putPOJO("pipelineArgs", Arrays.asList(pipelineArgs));
    root.put("users", s.users);
    root.put("scoredUsers", users.size());
    root.put("items", s.items);
    root.put("dim", s.dim);
    root.put("k", s.k);
    root.put("batchSize", s.batchSize);
    root.put("rawMatmulGflops", rawMatmulGflops);
    ArrayNode results = root.putArray("results");
    table.println("| step | users | seconds | users/s | GFLOP/s | share of raw matmul GFLOP/s |");
    table.println("|---|---:|---:|---:|---:|---:|");
    for (Step st : steps) {
      double gflops = s.flops(st.scored) / st.seconds / 1e9;
      ObjectNode r = results.addObject();
      r.put("step", st.name);
      r.put("description", st.description);
      r.put("users", st.users);
      r.put("scoredUsers", st.scored);
      r.put("seconds", st.seconds);
      r.put("usersPerSecond", st.users / st.seconds);
      r.put("gflops", gflops);
      r.put("ratioToRawMatmul", gflops / rawMatmulGflops);
      table.printf(Locale.ROOT, "| %s | %,d | %.2f | %,.0f | %.1f | %.2f |%n", st.name, st.users, st.seconds,
          st.users / st.seconds, gflops, gflops / rawMatmulGflops);
    }
    Files.createDirectories(out.toAbsolutePath().getParent());
    json.writeValue(out.toFile(), root);
    return root;
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line; options not listed are the pipeline's. */
  @Command(name = "RecommendBenchmark", sortOptions = false,
      description = {"Top-k recommendations: the pipeline vs a raw matrix product.",
          "Any other option (--runner=..., runner options) goes to the pipeline."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "work/bench/recommend.json", paramLabel = "FILE",
        description = "The JSON report (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--workDir", defaultValue = "work/bench/recommend", paramLabel = "DIR",
        description = "Models and output (default: ${DEFAULT-VALUE}).")
    private Path workDir;

    @Option(names = "--users", defaultValue = "100000", description = "Users (default: ${DEFAULT-VALUE}).")
    private int users;

    @Option(names = "--items", defaultValue = "10000", description = "Items (default: ${DEFAULT-VALUE}).")
    private int items;

    @Option(names = "--dim", defaultValue = "64", description = "Embedding dimension (default: ${DEFAULT-VALUE}).")
    private int dim;

    @Option(names = "--k", defaultValue = "100", description = "Items per user (default: ${DEFAULT-VALUE}).")
    private int k;

    @Option(names = "--batchSize", defaultValue = "256", description = "Users per batch (default: ${DEFAULT-VALUE}).")
    private int batchSize;

    @Unmatched private List<String> pipelineArgs = new ArrayList<>();

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      String[] a = PipelineBenchmark.checkedPipelineArgs(spec, pipelineArgs, RecommendPipeline.Options.class);
      RecommendBenchmark.run(a, workDir, out, new Sizes(users, items, dim, k, batchSize), System.out);
      return 0;
    }
  }
}
