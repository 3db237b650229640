package dev.batchserve.pipelines.config;

import dev.batchserve.models.cli.Tools;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.pipelines.schedule.Schedule;
import dev.batchserve.transforms.values.RunInfo;
import java.io.PrintStream;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Runs a {@link JobConfig} file: reads and validates it (with {@code --set} overrides), waits for
 * the upstream marker when the schedule names one, then runs {@code BatchScoringPipeline} with the
 * job's values set on its options. Arguments it does not know ({@code --runner=...}, runner options,
 * any option of {@code BatchScoringPipeline}) are parsed as the pipeline's options, and an option
 * given on the command line replaces the job file's value of it: {@code --batchSize=512} wins over the
 * file's {@code batchSize: 256}, {@code --maxPsi=off} over its {@code maxPsi}, a bare boolean
 * {@code --forceLatest} over the file. {@code --set} changes the document itself (checked like the
 * file).
 *
 * <pre>
 * mvn -pl pipelines exec:java -Dexec.mainClass=dev.batchserve.pipelines.config.ConfigJob \
 *   -Dexec.args="--config=pipelines/src/main/resources/jobs/fraud-daily.yaml --runDate=2026-11-28 \
 *                --set fallback.policy=constant --set fallback.value=0.02 --batchSize=512 --maxPsi=off"
 * </pre>
 *
 * <p>{@code --help} lists the job's own options ({@link Tools}).
 */
public final class ConfigJob {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigJob.class);

  private ConfigJob() {}

  public static void main(String[] args) {
    Tools.exitOnFailure(new Cli(), args);
  }

  /**
   * The command: parses {@code args} ({@code --help} prints the usage), runs the job and prints its
   * summary to {@code out}; returns the exit code. A failing run throws, as {@link #run(String[])}.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(new Cli(), args, out, err);
  }

  /** The options of the job command ({@link Tools}); any other argument is the pipeline's. */
  @Command(name = "batchserve job", sortOptions = false,
      description = {"Runs a job file (YAML or JSON): BatchScoringPipeline with the job's arguments.",
          "Any other option (--runner=..., runner options, any option of `score`) goes to the pipeline after "
              + "the job's own and wins over the file's value."})
  static final class Cli implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE",
        description = "The job file (local, gs:// or classpath:).")
    private String config;

    @Option(names = "--runDate", paramLabel = "YYYY-MM-DD", description = "The run date (default: today, UTC).")
    private String runDate;

    @Option(names = "--runHour", defaultValue = "0", paramLabel = "H",
        description = "The run hour of an hourly job (default: ${DEFAULT-VALUE}).")
    private int runHour;

    @Option(names = "--set", paramLabel = "key.path=value",
        description = "Changes the job document itself (checked like the file); repeatable.")
    private List<String> sets = new ArrayList<>();

    @Unmatched private List<String> passThrough = new ArrayList<>();

    @Spec private CommandSpec spec;

    CommandLine commandLine() {
      if (config.isBlank()) {
        throw new IllegalArgumentException("--config=<job.yaml> is required (YAML or JSON; local, gs:// or classpath:)");
      }
      LocalDate date = runDate == null || runDate.isEmpty() ? LocalDate.now(ZoneOffset.UTC) : Schedule.parseRunDate(runDate);
      return new CommandLine(config, date, runHour, sets, passThrough);
    }

    @Override
    public Integer call() {
      CommandLine cl;
      try {
        cl = commandLine();
        // An unknown pipeline option is a usage error now, before the job file is read.
        PipelineOptionsFactory.register(BatchScoringOptions.class);
        BatchScoringPipeline.options(passThrough.toArray(new String[0]));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      spec.commandLine().getOut().println(run(cl).render());
      return 0;
    }
  }

  /** The parsed command line: config URI, run date and hour, overrides, pass-through arguments. */
  public static final class CommandLine {
    public final String config;
    public final LocalDate runDate;
    public final int runHour;
    public final List<String> overrides;
    public final List<String> passThrough;

    CommandLine(String config, LocalDate runDate, int runHour, List<String> overrides, List<String> passThrough) {
      this.config = config;
      this.runDate = runDate;
      this.runHour = runHour;
      this.overrides = overrides;
      this.passThrough = passThrough;
    }
  }

  /**
   * Parses {@code --config=}, {@code --runDate=}, {@code --runHour=}, {@code --set k=v} / {@code --set=k=v}
   * (each also as {@code --name value}); every other argument is passed through. A bad argument
   * throws {@link IllegalArgumentException} naming it.
   */
  public static CommandLine parse(String[] args) {
    Cli cli = new Cli();
    try {
      new picocli.CommandLine(cli).setExpandAtFiles(false).parseArgs(args);
    } catch (ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return cli.commandLine();
  }

  /**
   * Reads the job, runs the pipeline and returns its summary; the pipeline awaits the job's upstream
   * marker, if any, before it reads anything ({@code --waitForMarker}, from {@code schedule}).
   */
  public static RunSummary run(String[] args) {
    return run(parse(args));
  }

  private static RunSummary run(CommandLine cl) {
    PipelineOptionsFactory.register(BatchScoringOptions.class);
    // Registers gs:// and other file systems for the config, the marker and the job itself.
    PipelineOptions fsOptions = PipelineOptionsFactory.fromArgs(
        dev.batchserve.pipelines.OptionArgs.normalize(BatchScoringOptions.class, cl.passThrough.toArray(new String[0])))
        .create();
    FileSystems.setDefaultPipelineOptions(fsOptions);
    JobConfig job = JobConfig.read(cl.config, cl.overrides);
    RunInfo run = job.runInfo(cl.runDate, cl.runHour);
    BatchScoringOptions options = options(job, run, cl.passThrough);
    LOG.info("job {} run {}: BatchScoringPipeline with the job's values and {}", job.name(), run.runId(), cl.passThrough);
    return BatchScoringPipeline.run(options);
  }

  /**
   * The pipeline's options: the pass-through arguments parsed as {@link BatchScoringPipeline#options}
   * parses them, then the job's values set on them ({@link JobConfig#applyTo}) except those of the
   * options the pass-through arguments give ({@code --name=value} or a bare boolean {@code --name}),
   * so that the command line's value is the one value of that option.
   */
  public static BatchScoringOptions options(JobConfig job, @Nullable RunInfo run, List<String> passThrough) {
    Set<String> given = new HashSet<>();
    for (String a : passThrough) {
      String name = optionName(a);
      if (name != null) {
        given.add(name);
      }
    }
    BatchScoringOptions o = BatchScoringPipeline.options(passThrough.toArray(new String[0]));
    job.applyTo(o, run, given);
    return o;
  }

  /** {@code batchSize} of {@code --batchSize=512} and {@code forceLatest} of {@code --forceLatest}; null if no option. */
  private static @Nullable String optionName(String arg) {
    if (!arg.startsWith("--") || arg.length() == 2) {
      return null;
    }
    int eq = arg.indexOf('=');
    return eq < 0 ? arg.substring(2) : arg.substring(2, eq);
  }
}
