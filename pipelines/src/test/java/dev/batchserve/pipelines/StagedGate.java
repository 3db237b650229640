package dev.batchserve.pipelines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * A publish gate for the tests: waits until the new attempt of the run has staged all its shards, then
 * kills the JVM ({@code Runtime.halt}: no finally, no shutdown hook, like {@code kill -9}) or fails the
 * pipeline. Either way the crash falls between staging and publishing.
 */
final class StagedGate extends DoFn<Integer, Integer> {
  private static final long serialVersionUID = 1L;
  /** The exit status of a JVM killed by the gate after staging. */
  static final int HALTED_AFTER_STAGING = 3;
  /** The exit status when the shards were not staged in time. */
  static final int NOT_STAGED = 4;

  private final String runDirectory;
  private final int shardFiles;
  private final boolean halt;

  private StagedGate(String runDirectory, int shardFiles, boolean halt) {
    this.runDirectory = runDirectory;
    this.shardFiles = shardFiles;
    this.halt = halt;
  }

  /** The gate as the collection the sink must wait for. */
  static List<PCollection<?>> in(Pipeline p, String runDirectory, int shardFiles, boolean halt) {
    return List.of(p.apply("GateTrigger", Create.of(1))
        .apply("StagedGate", ParDo.of(new StagedGate(runDirectory, shardFiles, halt))));
  }

  /** Staged shard files ({@code attempt=*}/_staging/<format>/part-*) under the run's directory. */
  static long staged(Path runDirectory) throws IOException {
    if (!Files.isDirectory(runDirectory)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(runDirectory)) {
      return walk.filter(Files::isRegularFile)
          .filter(f -> f.getFileName().toString().startsWith("part-"))
          .filter(f -> f.getParent().getParent().getFileName().toString().equals("_staging"))
          .filter(f -> !f.getParent().getFileName().toString().equals("dead_letters"))
          .count();
    }
  }

  @ProcessElement
  public void process(@Element Integer in, OutputReceiver<Integer> out) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (staged(Path.of(runDirectory)) < shardFiles) {
      if (System.nanoTime() > deadline) {
        if (halt) {
          Runtime.getRuntime().halt(NOT_STAGED);
        }
        throw new IllegalStateException("the shards were not staged in 2 minutes under " + runDirectory);
      }
      Thread.sleep(20);
    }
    if (halt) {
      System.out.println("StagedGate: every shard is staged, killing the JVM before the publish");
      System.out.flush();
      Runtime.getRuntime().halt(HALTED_AFTER_STAGING);
    }
    throw new IllegalStateException("a publish gate failed after the shards were staged (test)");
  }

  /** A run of the job killed after staging: {@code StagedGate <job options...>}. */
  public static void main(String[] args) {
    BatchScoringOptions o = org.apache.beam.sdk.options.PipelineOptionsFactory.fromArgs(args)
        .withValidation().as(BatchScoringOptions.class);
    String runDir = dev.batchserve.transforms.sink.FileSink.runDirectory(o.getOutput(), BatchScoringPipeline.runInfo(o));
    BatchScoringPipeline.run(o, p -> in(p, runDir, 2 * o.getNumShards(), true));
    System.exit(1); // published: the gate did not stop it
  }
}
