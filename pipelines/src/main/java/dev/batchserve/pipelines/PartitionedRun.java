package dev.batchserve.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.ingest.ReadRecords;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.util.common.ReflectHelpers;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job-level checkpointing ({@code --partitions=N}): the run's keys are split into N partitions by
 * key hash; each partition is processed by a pipeline of its own and committed on its own (published
 * as a complete run under {@code <run>/_partitions/part-<i>/}, with its own invariant, quality gate and
 * report); when every partition is present, their files are moved into the run and published together.
 *
 * <p>Re-running a crashed run id skips the partitions already committed, processes only the missing
 * ones, and publishes once all are present; until then, readers keep the previous run. A committed
 * partition counts only for the input it was computed from: each partition root holds the
 * {@link InputFingerprint} ({@value #FINGERPRINT}) of its input, written before its pipeline runs; a
 * re-run whose fingerprint differs (other input files, a rewritten file, another model or spec, other
 * key columns...) discards that partition, says so in the log, and processes it again. Every partition
 * reads the whole input and keeps its share, so N partitions cost N reads of the input.
 */
final class PartitionedRun {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionedRun.class);
  /** In each partition root: the fingerprint of the input the partition is (being) computed from. */
  static final String FINGERPRINT = "_INPUT_FINGERPRINT";

  private PartitionedRun() {}

  /** The share of the input that one partition's pipeline processes. */
  static ReadRecords.Result select(ReadRecords.Result read, int partition, int partitions) {
    return read.apply("Partition" + partition + "of" + partitions, KeepPartition.of(partition, partitions));
  }

  /** Where partition {@code i}'s own run is published. */
  static String partitionRoot(String runDirectory, int partition) {
    return runDirectory + "/_partitions/" + String.format(Locale.ROOT, "part-%05d", partition);
  }

  /**
   * Runs {@code run} partition by partition, each through {@code runPartition} (a single run of the
   * options it is given: the partition's own {@code --partition} and {@code --output}), then publishes
   * them together. The caller gives the single run, so that this class never calls back into the
   * pipeline that dispatches to it.
   */
  static RunSummary run(BatchScoringOptions o, RunInfo run, Function<BatchScoringOptions, RunSummary> runPartition) {
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
    int discarded = 0;
    InputFingerprint input = InputFingerprint.of(o);
    for (int p = 0; p < n; p++) {
      String root = partitionRoot(runDir, p);
      roots.add(root);
      if (committed(root, run)) {
        InputFingerprint was = InputFingerprint.parse(readIfExists(fingerprintFile(root)));
        if (was != null && was.sha256().equals(input.sha256())) {
          LOG.info("Run {}: partition {} of {} is already committed from this input, skipping it",
              run.runId(), p, n);
          skipped++;
          continue;
        }
        // What was hashed, then and now, once per run: a long input listing is not repeated per partition.
        String detail = discarded > 0 ? ""
            : "\nThen:\n" + (was == null ? "(no fingerprint)\n" : was.description()) + "Now:\n" + input.description();
        LOG.warn("Run {}: partition {} of {} was committed from another input (fingerprint {}, now {}):"
            + " discarding it and processing it again.{}", run.runId(), p, n,
            was == null ? "none" : was.sha256(), input.sha256(), detail);
        discard(root);
        discarded++;
      }
      // Written before the partition's pipeline runs, so its commit (_SUCCESS) is always preceded by the
      // fingerprint of the input it was computed from.
      write(fingerprintFile(root), input.toString());
      BatchScoringOptions po = copy(o);
      po.setPartition(p);
      po.setOutput(root);
      LOG.info("Run {}: processing partition {} of {}", run.runId(), p, n);
      RunSummary s = runPartition.apply(po);
      read += s.recordsRead;
      unreadable += s.unreadable;
      predictions += s.predictions;
      fallbacks += s.fallbacks;
      dead += s.deadLetters;
    }
    String published;
    try {
      published = FileSink.publishPartitions(o.getOutput(), run, roots, o.getForceLatest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish run " + run.runId(), e);
    }
    LOG.info("Run {}: published {} partitions ({} processed now, {} already committed, {} discarded as computed"
        + " from another input) to {}", run.runId(), n, n - skipped, skipped, discarded, published);
    String servedInstead = RunSummary.servedInstead(o.getOutput(), run);
    return new RunSummary(run.runId(), published, (System.nanoTime() - start) / 1e9, read, unreadable,
        predictions, fallbacks, dead, servedInstead, servedInstead == null ? List.of() : List.of("files"));
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

  /** Where partition {@code root} keeps the {@link InputFingerprint} of the input it is computed from. */
  static String fingerprintFile(String partitionRoot) {
    return partitionRoot + "/" + FINGERPRINT;
  }

  /** Deletes everything under a partition root (the fingerprint first), so it is processed from scratch. */
  static void discard(String partitionRoot) {
    try {
      FileSystems.delete(List.of(FileSystems.matchNewResource(fingerprintFile(partitionRoot), false)),
          MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
      MatchResult m = FileSystems.match(partitionRoot + "/**", EmptyMatchTreatment.ALLOW);
      List<ResourceId> files = new ArrayList<>();
      if (m.status() == MatchResult.Status.OK) {
        m.metadata().forEach(md -> files.add(md.resourceId()));
      }
      FileSystems.delete(files, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot discard partition " + partitionRoot
          + " (computed from another input); delete it by hand and re-run", e);
    }
  }

  private static @Nullable String readIfExists(String uri) {
    try {
      MatchResult m = FileSystems.match(uri, EmptyMatchTreatment.ALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        return null;
      }
      try (InputStream in = Channels.newInputStream(FileSystems.open(m.metadata().get(0).resourceId()))) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + uri, e);
    }
  }

  private static void write(String uri, String text) {
    try (OutputStream out = Channels.newOutputStream(
        FileSystems.create(FileSystems.matchNewResource(uri, false), "text/plain"))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + uri, e);
    }
  }

  /** Whether the partition's own run was published (an attempt of it with its {@code _SUCCESS} is current). */
  static boolean committed(String partitionRoot, RunInfo run) {
    return FileSink.publishedDirectory(partitionRoot, run) != null;
  }
}
