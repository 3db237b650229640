package dev.batchserve.tools.flink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Flink session cluster on this machine, started from Maven jars alone (no {@code flink-dist}):
 * one JobManager JVM ({@code StandaloneSessionClusterEntrypoint}) and one or more TaskManager JVMs
 * ({@code TaskManagerRunner}) on 127.0.0.1 with free ports, sized and flagged the way Flink's own
 * shell scripts do it ({@code BashJavaUtils}, the Java 17 {@code --add-opens} set).
 *
 * <p>Why one class of some 570 lines (issue #19): it is one public type with its immutable
 * {@link Spec} (a documented {@code withX} per setting), and the daemons' whole life around one
 * directory layout and one set of process handles: configure, launch, wait for the TaskManagers,
 * record {@code cluster.json}, stop (also from another process, {@link #stop(Path)}). Split apart, the
 * layout and the handles would have to be shared across classes that are each only half a lifecycle.
 *
 * <pre>{@code
 * Path lib = FlinkClusterClasspath.copy(Path.of("flink/pom.xml"), Path.of("work/flink/lib"));
 * try (LocalFlinkCluster flink = LocalFlinkCluster.in(Path.of("work/flink")).withLibDir(lib)
 *     .withTaskManagers(2).withRestarts(3, Duration.ofSeconds(2)).start()) {
 *   // --runner=FlinkRunner --flinkMaster=flink.restAddress()
 * }
 * }</pre>
 *
 * <p>The directory gets {@code conf/} (flink-conf.yaml, log4j.properties), {@code log/} (appended,
 * kept after stop), {@code tmp/} (io.tmp.dirs, removed at stop) and {@code cluster.json} (pids and
 * ports), so that another process can {@link #stop(Path) stop} a cluster it did not start.
 */
public final class LocalFlinkCluster implements AutoCloseable {
  public static final String STATE_FILE = "cluster.json";
  /** The REST address alone, for shells: {@code make run-flink FLINK_MASTER=$(cat work/flink/rest-address)}. */
  public static final String ADDRESS_FILE = "rest-address";
  private static final String HOST = "127.0.0.1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
  private static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
  private static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
  private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
  /** Flink 1.19's default env.java.opts.all: the module access its daemons need on Java 17. */
  static final List<String> JAVA_17_OPENS = List.of(
      "-XX:+IgnoreUnrecognizedVMOptions",
      "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
      "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
      "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.text=ALL-UNNAMED",
      "--add-opens=java.base/java.time=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  /** Where the cluster lives; every other setting has a default. */
  public static Spec in(Path dir) {
    return new Spec(dir.toAbsolutePath());
  }

  /** An immutable cluster configuration; {@link #start()} starts it. */
  public static final class Spec {
    private final Path dir;
    private Path libDir;
    private List<Path> extraClasspath = List.of();
    private int taskManagers = 1;
    private int slotsPerTaskManager = 2;
    private int restartAttempts = 0;
    private Duration restartDelay = Duration.ofSeconds(2);
    private Duration heartbeatInterval = Duration.ofSeconds(10);
    private Duration heartbeatTimeout = Duration.ofSeconds(50);
    private Duration startTimeout = Duration.ofMinutes(3);
    private Map<String, String> conf = new LinkedHashMap<>();
    private boolean stopOnExit = true;

    private Spec(Path dir) {
      this.dir = dir;
      this.libDir = dir.resolve("lib");
    }

    private Spec copy() {
      Spec c = new Spec(dir);
      c.libDir = libDir;
      c.extraClasspath = extraClasspath;
      c.taskManagers = taskManagers;
      c.slotsPerTaskManager = slotsPerTaskManager;
      c.restartAttempts = restartAttempts;
      c.restartDelay = restartDelay;
      c.heartbeatInterval = heartbeatInterval;
      c.heartbeatTimeout = heartbeatTimeout;
      c.startTimeout = startTimeout;
      c.conf = new LinkedHashMap<>(conf);
      c.stopOnExit = stopOnExit;
      return c;
    }

    /** The folder of the cluster's jars (see {@link FlinkClusterClasspath}); default {@code <dir>/lib}. */
    public Spec withLibDir(Path lib) {
      checkNotNull(lib, "libDir must not be null");
      Spec c = copy();
      c.libDir = lib.toAbsolutePath();
      return c;
    }

    /** Jars put on every daemon's class path after the Flink jars (e.g. large native libraries). */
    public Spec withExtraClasspath(List<Path> jars) {
      checkNotNull(jars, "extraClasspath must not be null");
      Spec c = copy();
      c.extraClasspath = jars.stream().map(Path::toAbsolutePath).collect(Collectors.toUnmodifiableList());
      return c;
    }

    public Spec withTaskManagers(int n) {
      checkArgument(n >= 1 && n <= 8, "taskManagers must be 1 to 8, but was %s", n);
      Spec c = copy();
      c.taskManagers = n;
      return c;
    }

    public Spec withSlotsPerTaskManager(int n) {
      checkArgument(n >= 1, "slotsPerTaskManager must be >= 1, but was %s", n);
      Spec c = copy();
      c.slotsPerTaskManager = n;
      return c;
    }

    /** A fixed-delay restart strategy: {@code attempts} restarts, {@code delay} apart (0 = none). */
    public Spec withRestarts(int attempts, Duration delay) {
      checkArgument(attempts >= 0, "restart attempts must be >= 0, but was %s", attempts);
      checkArgument(!delay.isNegative(), "restart delay must be >= 0, but was %s", delay);
      Spec c = copy();
      c.restartAttempts = attempts;
      c.restartDelay = delay;
      return c;
    }

    /** How often daemons ping each other and after how long a silent one is declared lost. */
    public Spec withHeartbeat(Duration interval, Duration timeout) {
      checkArgument(!interval.isNegative() && !interval.isZero(), "heartbeat interval must be > 0, but was %s", interval);
      checkArgument(timeout.compareTo(interval) > 0, "heartbeat timeout must exceed the interval %s, but was %s",
          interval, timeout);
      Spec c = copy();
      c.heartbeatInterval = interval;
      c.heartbeatTimeout = timeout;
      return c;
    }

    /** How long {@link #start()} waits for every TaskManager to register. */
    public Spec withStartTimeout(Duration timeout) {
      checkArgument(!timeout.isNegative() && !timeout.isZero(), "start timeout must be > 0, but was %s", timeout);
      Spec c = copy();
      c.startTimeout = timeout;
      return c;
    }

    /** Any other flink-conf.yaml entry; it overrides the launcher's own value for the key. */
    public Spec withConf(String key, String value) {
      checkArgument(key != null && !key.isBlank(), "conf key must not be empty");
      checkNotNull(value, "conf value of %s must not be null", key);
      Spec c = copy();
      c.conf.put(key, value);
      return c;
    }

    /**
     * Whether the daemons are stopped when this JVM exits (default true, so that a test JVM that dies
     * leaves no cluster behind); {@code make flink-up} turns it off: its cluster outlives the launcher.
     */
    public Spec withStopOnExit(boolean stop) {
      Spec c = copy();
      c.stopOnExit = stop;
      return c;
    }

    /**
     * Writes the configuration, starts the JobManager and the TaskManagers, and returns once the REST
     * API reports every TaskManager registered. On failure it stops what it started and names the log.
     */
    public LocalFlinkCluster start() throws IOException, InterruptedException {
      checkArgument(Files.isDirectory(libDir), "Flink lib folder %s does not exist (FlinkClusterClasspath.copy)", libDir);
      Path state = dir.resolve(STATE_FILE);
      if (Files.exists(state)) {
        Optional<JsonNode> old = readState(dir);
        if (old.isPresent() && anyAlive(old.get())) {
          throw new IllegalStateException("a cluster from " + state + " is still running (REST "
              + old.get().path("restAddress").asText() + "); stop it first (make flink-down)");
        }
      }
      LocalFlinkCluster cluster = new LocalFlinkCluster(this);
      if (stopOnExit) {
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
      }
      try {
        cluster.launch();
      } catch (IOException | InterruptedException | RuntimeException e) {
        cluster.close();
        throw e;
      }
      return cluster;
    }
  }

  private final Spec spec;
  private final Path confDir;
  private final Path logDir;
  private final Path tmpDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private int restPort;
  private Process jobManager;
  private final List<Process> taskManagers = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::stopDaemons, "stop-local-flink-cluster");

  private LocalFlinkCluster(Spec spec) {
    this.spec = spec;
    this.confDir = spec.dir.resolve("conf");
    this.logDir = spec.dir.resolve("log");
    this.tmpDir = spec.dir.resolve("tmp");
  }

  /** {@code 127.0.0.1:<rest port>}: Beam's {@code --flinkMaster}. */
  public String restAddress() {
    return HOST + ":" + restPort;
  }

  public int restPort() {
    return restPort;
  }

  public Path logDir() {
    return logDir;
  }

  public long jobManagerPid() {
    return jobManager.pid();
  }

  public List<Long> taskManagerPids() {
    return taskManagers.stream().map(Process::pid).collect(Collectors.toList());
  }

  /** SIGKILLs TaskManager {@code index}, as a crashed machine would; returns its pid. */
  public long killTaskManager(int index) throws InterruptedException {
    Process tm = taskManagers.get(index);
    tm.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no deregistration
    tm.waitFor(30, TimeUnit.SECONDS);
    return tm.pid();
  }

  /** {@code GET <path>} on the REST API, as JSON. */
  public JsonNode rest(String path) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + restAddress() + path))
        .timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      throw new IOException("GET " + path + " answered " + resp.statusCode() + ": " + resp.body());
    }
    return JSON.readTree(resp.body());
  }

  /** The jobs of {@code /jobs/overview}: each with jid, name, state, start-time, duration. */
  public List<JsonNode> jobs() throws IOException, InterruptedException {
    List<JsonNode> jobs = new ArrayList<>();
    rest("/jobs/overview").path("jobs").forEach(jobs::add);
    return jobs;
  }

  private void launch() throws IOException, InterruptedException {
    Files.createDirectories(confDir);
    Files.createDirectories(logDir);
    Files.createDirectories(tmpDir);
    restPort = freePort();
    int rpcPort = freePort();
    int blobPort = freePort();
    writeConf(rpcPort, blobPort);
    writeLog4j();

    jobManager = startDaemon("jobmanager", JOB_MANAGER_MAIN, "GET_JM_RESOURCE_PARAMS", List.of());
    for (int i = 0; i < spec.taskManagers; i++) {
      taskManagers.add(startDaemon("taskmanager-" + i, TASK_MANAGER_MAIN, "GET_TM_RESOURCE_PARAMS",
          List.of("-D", "taskmanager.rpc.port=" + freePort(), "-D", "taskmanager.resource-id=tm-" + i)));
    }
    writeState();
    awaitTaskManagers();
  }

  private void writeConf(int rpcPort, int blobPort) throws IOException {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("jobmanager.rpc.address", HOST);
    c.put("jobmanager.bind-host", HOST);
    c.put("jobmanager.rpc.port", String.valueOf(rpcPort));
    c.put("rest.address", HOST);
    c.put("rest.bind-address", HOST);
    c.put("rest.port", String.valueOf(restPort));
    c.put("blob.server.port", String.valueOf(blobPort));
    c.put("taskmanager.host", HOST);
    c.put("taskmanager.bind-host", HOST);
    c.put("taskmanager.data.port", "0");
    c.put("taskmanager.numberOfTaskSlots", String.valueOf(spec.slotsPerTaskManager));
    c.put("jobmanager.memory.process.size", "1024m");
    c.put("taskmanager.memory.process.size", "2048m");
    // Beam's batch operators need little managed memory; the model and records need heap.
    c.put("taskmanager.memory.managed.fraction", "0.2");
    // A Beam batch job is ~100 pipelined operators: the default 10% network memory runs out of
    // buffers ("Insufficient number of network buffers") and the job only finishes after restarts.
    c.put("taskmanager.memory.network.fraction", "0.25");
    c.put("taskmanager.memory.network.min", "256mb");
    c.put("taskmanager.memory.network.max", "512mb");
    c.put("parallelism.default", "2");
    // Spread subtasks over the TaskManagers: losing any one of them then hits a running job.
    c.put("cluster.evenly-spread-out-slots", "true");
    c.put("io.tmp.dirs", tmpDir.toString());
    // TensorFlow's native library can be loaded once per JVM: a second job's class loader loading it
    // again aborts the TaskManager (libprotobuf FATAL). The cluster's lib has TF; load it from there.
    c.put("classloader.parent-first-patterns.additional", "org.tensorflow.;org.bytedeco.;com.google.protobuf.");
    c.put("heartbeat.interval", String.valueOf(spec.heartbeatInterval.toMillis()));
    c.put("heartbeat.timeout", String.valueOf(spec.heartbeatTimeout.toMillis()));
    if (spec.restartAttempts > 0) {
      c.put("restart-strategy.type", "fixed-delay");
      c.put("restart-strategy.fixed-delay.attempts", String.valueOf(spec.restartAttempts));
      c.put("restart-strategy.fixed-delay.delay", spec.restartDelay.toMillis() + " ms");
    } else {
      c.put("restart-strategy.type", "none");
    }
    c.putAll(spec.conf);
    StringBuilder yaml = new StringBuilder("# Written by LocalFlinkCluster; rewritten at every start.\n");
    c.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
    Files.writeString(confDir.resolve("flink-conf.yaml"), yaml.toString(), StandardCharsets.UTF_8);
  }

  private void writeLog4j() throws IOException {
    try (InputStream in = LocalFlinkCluster.class.getResourceAsStream("log4j-cluster.properties")) {
      checkNotNull(in, "log4j-cluster.properties is missing from the class path");
      Files.write(confDir.resolve("log4j.properties"), in.readAllBytes());
    }
  }

  private String classpath() {
    List<String> cp = new ArrayList<>();
    cp.add(spec.libDir.resolve("*").toString());
    spec.extraClasspath.forEach(p -> cp.add(p.toString()));
    return String.join(File.pathSeparator, cp);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private List<String> logFlags(String name) {
    String log4j = "file:" + confDir.resolve("log4j.properties");
    return List.of("-Dlog.file=" + logDir.resolve(name + ".log"),
        "-Dlog4j.configuration=" + log4j, "-Dlog4j.configurationFile=" + log4j);
  }

  /** Runs BashJavaUtils: line 1 of its result = JVM memory flags, line 2 = "-D k=v" dynamic properties. */
  private List<List<String>> resourceParams(String command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(java()));
    cmd.addAll(logFlags("bash-java-utils"));
    cmd.addAll(List.of("-cp", classpath(), BASH_JAVA_UTILS, command, "--configDir", confDir.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("BashJavaUtils " + command + " failed: " + out);
    }
    List<List<String>> result = Arrays.stream(out.split("\n"))
        .filter(l -> l.startsWith(RESULT_PREFIX))
        .map(l -> Arrays.stream(l.substring(RESULT_PREFIX.length()).trim().split("\\s+"))
            .filter(s -> !s.isEmpty()).collect(Collectors.toList()))
        .collect(Collectors.toList());
    if (result.size() < 2) {
      throw new IllegalStateException("BashJavaUtils " + command + " printed no JVM and dynamic parameters: " + out);
    }
    return result;
  }

  private Process startDaemon(String name, String mainClass, String paramsCommand, List<String> extraArgs)
      throws IOException, InterruptedException {
    List<List<String>> params = resourceParams(paramsCommand);
    List<String> cmd = new ArrayList<>(List.of(java()));
    cmd.addAll(params.get(0));
    cmd.addAll(JAVA_17_OPENS);
    cmd.addAll(logFlags(name));
    cmd.addAll(List.of("-classpath", classpath(), mainClass, "--configDir", confDir.toString()));
    cmd.addAll(params.get(1));
    cmd.addAll(extraArgs);
    File out = logDir.resolve(name + ".out").toFile();
    Files.writeString(logDir.resolve(name + ".cmd"), String.join(" ", cmd) + "\n", StandardCharsets.UTF_8);
    return new ProcessBuilder(cmd)
        .directory(spec.dir.toFile())
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out))
        .redirectError(ProcessBuilder.Redirect.appendTo(out))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
  }

  private void awaitTaskManagers() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + spec.startTimeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      checkAlive();
      try {
        JsonNode o = rest("/overview");
        last = o.toString();
        if (o.path("taskmanagers").asInt() >= spec.taskManagers) {
          return;
        }
      } catch (IOException e) {
        last = e.toString(); // REST not up yet
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("Flink cluster in " + spec.dir + " did not register " + spec.taskManagers
        + " TaskManager(s) within " + spec.startTimeout + "; last /overview: " + last + "; see " + logDir);
  }

  private void checkAlive() {
    if (!jobManager.isAlive()) {
      throw new IllegalStateException("the JobManager exited with " + jobManager.exitValue() + "; see "
          + logDir.resolve("jobmanager.log") + " and jobmanager.out");
    }
    for (int i = 0; i < taskManagers.size(); i++) {
      if (!taskManagers.get(i).isAlive()) {
        throw new IllegalStateException("TaskManager " + i + " exited with " + taskManagers.get(i).exitValue()
            + "; see " + logDir.resolve("taskmanager-" + i + ".log"));
      }
    }
  }

  private void writeState() throws IOException {
    ObjectNode s = JSON.createObjectNode();
    s.put("restAddress", restAddress());
    s.put("restPort", restPort);
    s.put("jobManagerPid", jobManager.pid());
    taskManagers.forEach(tm -> s.withArray("taskManagerPids").add(tm.pid()));
    s.put("logDir", logDir.toString());
    s.put("tmpDir", tmpDir.toString());
    Files.writeString(spec.dir.resolve(STATE_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
    Files.writeString(spec.dir.resolve(ADDRESS_FILE), restAddress() + "\n");
  }

  /** Stops every daemon (SIGTERM, then SIGKILL after 30 s), removes tmp/ and the state files; keeps logs. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // the JVM is shutting down already, or the hook was never added
    }
    stopDaemons();
  }

  private void stopDaemons() {
    List<ProcessHandle> all = new ArrayList<>();
    taskManagers.forEach(p -> all.add(p.toHandle()));
    if (jobManager != null) {
      all.add(jobManager.toHandle());
    }
    terminate(all);
    cleanUp(spec.dir, tmpDir);
  }

  /** Stops the cluster whose state file is in {@code dir}; false when there was none. */
  public static boolean stop(Path dir) {
    Optional<JsonNode> state = readState(dir);
    if (state.isEmpty()) {
      return false;
    }
    List<ProcessHandle> all = new ArrayList<>();
    state.get().path("taskManagerPids").forEach(pid -> ProcessHandle.of(pid.asLong()).ifPresent(all::add));
    ProcessHandle.of(state.get().path("jobManagerPid").asLong()).ifPresent(all::add);
    terminate(all.stream().filter(LocalFlinkCluster::isFlinkDaemon).collect(Collectors.toList()));
    cleanUp(dir.toAbsolutePath(), Path.of(state.get().path("tmpDir").asText(dir.resolve("tmp").toString())));
    return true;
  }

  /** The state file of a cluster started in {@code dir}, if any. */
  public static Optional<JsonNode> readState(Path dir) {
    Path f = dir.resolve(STATE_FILE);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readTree(f.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + f, e);
    }
  }

  /** Whether any daemon of the state file still runs (a pid reused by another program does not count). */
  public static boolean anyAlive(JsonNode state) {
    List<Long> pids = new ArrayList<>();
    pids.add(state.path("jobManagerPid").asLong());
    state.path("taskManagerPids").forEach(p -> pids.add(p.asLong()));
    return pids.stream().map(ProcessHandle::of).flatMap(Optional::stream)
        .anyMatch(h -> h.isAlive() && isFlinkDaemon(h));
  }

  private static boolean isFlinkDaemon(ProcessHandle h) {
    return h.info().arguments()
        .map(args -> Arrays.asList(args).contains(JOB_MANAGER_MAIN) || Arrays.asList(args).contains(TASK_MANAGER_MAIN))
        .orElse(true); // arguments are not always visible; the pid came from our own state file
  }

  private static void terminate(List<ProcessHandle> processes) {
    processes.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ProcessHandle p : processes) {
      while (p.isAlive() && System.nanoTime() < deadline) {
        try {
          p.onExit().get(500, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          // still running: keep waiting until the deadline
        }
      }
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  private static void cleanUp(Path dir, Path tmp) {
    // A killed TaskManager leaves tm_* folders and its rpc jar in io.tmp.dirs.
    deleteRecursively(tmp);
    try {
      Files.deleteIfExists(dir.resolve(STATE_FILE));
      Files.deleteIfExists(dir.resolve(ADDRESS_FILE));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
