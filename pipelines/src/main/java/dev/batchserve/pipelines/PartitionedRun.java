package dev.batchserve.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.common.ReflectHelpers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job-level checkpointing ({@code --partitions=N}): the run's keys are split into N partitions by
 * key hash; each partition is processed by a pipeline of its own and committed on its own (published
 * as a complete run under {@code <run>/_partitions/part-<i>/}, with its own invariant, quality gate and
 * report); when every partition is present, their files are moved into the run and published together.
 *
 * <p>Re-running a crashed run id skips the partitions already committed, processes only the missing
 * ones, and publishes once all are present; until then, readers keep the previous run. Every partition
 * reads the whole input and keeps its share, so N partitions cost N reads of the input.
 */
final class PartitionedRun {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionedRun.class);

  private PartitionedRun() {}

  /** The share of the input that one partition's pipeline processes. */
  static ReadRecords.Result select(ReadRecords.Result read, int partition, int partitions) {
    return read.partition(partition, partitions);
  }

  /** Where partition {@code i}'s own run is published. */
  static String partitionRoot(String runDirectory, int partition) {
    return runDirectory + "/_partitions/" + String.format(Locale.ROOT, "part-%05d", partition);
  }

  static RunSummary run(BatchScoringOptions o) {
    RunInfo run = BatchScoringPipeline.runInfo(o);
    int n = o.getPartitions();
    String runDir = FileSink.runDirectory(o.getOutput(), run);
    List<String> roots = new ArrayList<>();
    long start = System.nanoTime();
    long read = 0;
    long unreadable = 0;
    long predictions = 0;
    long fallbacks = 0;
    long dead = 0;
    int skipped = 0;
    for (int p = 0; p < n; p++) {
      String root = partitionRoot(runDir, p);
      roots.add(root);
      if (committed(root, run)) {
        LOG.info("Run {}: partition {} of {} is already committed, skipping it", run.runId(), p, n);
        skipped++;
        continue;
      }
      BatchScoringOptions po = copy(o);
      po.setPartition(p);
      po.setOutput(root);
      LOG.info("Run {}: processing partition {} of {}", run.runId(), p, n);
      RunSummary s = BatchScoringPipeline.run(po);
      read += s.recordsRead;
      unreadable += s.unreadable;
      predictions += s.predictions;
      fallbacks += s.fallbacks;
      dead += s.deadLetters;
    }
    String published;
    try {
      published = FileSink.publishPartitions(o.getOutput(), run, roots);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish run " + run.runId(), e);
    }
    LOG.info("Run {}: published {} partitions ({} processed now, {} already committed) to {}",
        run.runId(), n, n - skipped, skipped, published);
    return new RunSummary(run.runId(), published, (System.nanoTime() - start) / 1e9, read, unreadable,
        predictions, fallbacks, dead);
  }

  /** A copy of the options (Beam's own JSON form of them), so one partition's settings stay its own. */
  static BatchScoringOptions copy(BatchScoringOptions o) {
    ObjectMapper json = new ObjectMapper().registerModules(ObjectMapper.findModules(ReflectHelpers.findClassLoader()));
    try {
      return json.readValue(json.writeValueAsString(o), PipelineOptions.class).as(BatchScoringOptions.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the pipeline options", e);
    }
  }

  /** Whether the partition's own run was published (an attempt of it with its {@code _SUCCESS} is current). */
  static boolean committed(String partitionRoot, RunInfo run) {
    return FileSink.publishedDirectory(partitionRoot, run) != null;
  }
}
