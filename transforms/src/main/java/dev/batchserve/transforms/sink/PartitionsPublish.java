package dev.batchserve.transforms.sink;

import static dev.batchserve.transforms.sink.RunDirectory.LATEST;
import static dev.batchserve.transforms.sink.RunDirectory.MANIFEST;
import static dev.batchserve.transforms.sink.RunDirectory.SUCCESS;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Publishes a run processed in partitions as one run ({@link FileSink#publishPartitions}): the
 * partitions' shards move into one attempt, made visible by one manifest and the usual pointers.
 */
final class PartitionsPublish {
  /** Logs as the sink did before this class was split out of it. */
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileSink.class);

  private PartitionsPublish() {}

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
  static String publishPartitions(String root, RunInfo run, List<String> partitionRoots) throws IOException {
    return publishPartitions(root, run, partitionRoots, false);
  }

  /**
   * {@link #publishPartitions(String, RunInfo, List)}, moving {@code _LATEST} back to this run even when
   * it is older than the run {@code _LATEST} names when {@code forceLatest} (see {@link FileSink#withForceLatest}).
   */
  static String publishPartitions(String root, RunInfo run, List<String> partitionRoots, boolean forceLatest)
      throws IOException {
    List<String> parts = new ArrayList<>();
    for (int p = 0; p < partitionRoots.size(); p++) {
      String part = RunDirectory.publishedDirectory(partitionRoots.get(p), run);
      if (part == null) {
        throw new IllegalStateException("partition " + p + " of run " + run.runId() + " is not complete: no "
            + SUCCESS + " in a published attempt under " + RunDirectory.runDirectory(partitionRoots.get(p), run));
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
    String attemptDir = RunDirectory.attemptDirectory(root, run, attemptId);
    if (attemptDir.equals(RunDirectory.publishedDirectory(root, run))) {
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
        m = RunManifest.JSON.readTree(in);
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
    ObjectNode manifest = RunManifest.manifestHeader(run, records, models);
    RunManifest.putPerModel(manifest, perModel);
    manifest.put("dead_letters", dead);
    manifest.put("partitions", partitionRoots.size());
    ObjectNode files = manifest.putObject("files");
    for (Map.Entry<String, Map<ResourceId, String>> e : byDir.entrySet()) {
      files.set(e.getKey(), AttemptPublish.moveIntoPlace(runId, e.getKey(), e.getValue()));
    }
    String servedInstead = AttemptPublish.complete(root, run, runId, manifest, forceLatest);
    if (servedInstead != null) {
      LOG.warn(Backfill.message(run.runId(), servedInstead, "files under " + root + ": " + LATEST + " unchanged"));
    }
    return attemptDir;
  }
}
