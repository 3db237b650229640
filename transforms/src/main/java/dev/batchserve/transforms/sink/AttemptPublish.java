package dev.batchserve.transforms.sink;

import static dev.batchserve.transforms.sink.RunDirectory.ABORTED;
import static dev.batchserve.transforms.sink.RunDirectory.ATTEMPT_PREFIX;
import static dev.batchserve.transforms.sink.RunDirectory.CURRENT;
import static dev.batchserve.transforms.sink.RunDirectory.LATEST;
import static dev.batchserve.transforms.sink.RunDirectory.MANIFEST;
import static dev.batchserve.transforms.sink.RunDirectory.PUBLISHED;
import static dev.batchserve.transforms.sink.RunDirectory.SUCCESS;
import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkState;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The file sink's publish protocol on one attempt: files moved into place and listed with their
 * sha256, then the manifest, {@code _PUBLISHED.json}, {@code _SUCCESS}, {@code _CURRENT} and
 * {@code _LATEST} ({@link #complete}); and giving up attempts that will not be published.
 */
final class AttemptPublish {
  private AttemptPublish() {}

  /**
   * Gives up an attempt that will not be published (its run failed or was killed): marks it
   * {@code _ABORTED} (a shard writer still running there deletes what it writes, its publish step
   * refuses), then removes its staged and placed shards, dead letters, manifest and {@code _SUCCESS}.
   * Everything else stays, e.g. the job's {@code _REPORT.json} and {@code _QUALITY.json} saying why it failed.
   * An attempt that was published (its run's {@code _CURRENT} or {@code _LATEST} names it) is left as is.
   *
   * @return whether the attempt was discarded (false: it is published)
   */
  static boolean discardAttempt(String root, RunInfo run, String attemptId) throws IOException {
    String dir = RunDirectory.attemptDirectory(root, run, attemptId);
    if (RunDirectory.isServed(root, run, ATTEMPT_PREFIX + attemptId)) {
      return false;
    }
    SinkFiles.write(FileSystems.matchNewResource(dir + "/" + ABORTED, false), new byte[0]);
    removeOutputs(FileSystems.matchNewResource(dir, true));
    return true;
  }

  /**
   * Discards every attempt of the run that is not published (left by a failed or killed run), see
   * {@link #discardAttempt}; the job driver calls it under the run's lock before a new attempt starts.
   *
   * @return the attempt ids discarded
   */
  static List<String> discardUnpublishedAttempts(String root, RunInfo run) throws IOException {
    List<String> discarded = new ArrayList<>();
    for (Map.Entry<String, Boolean> a : RunDirectory.attempts(FileSystems.matchNewResource(RunDirectory.runDirectory(root, run), true)).entrySet()) {
      String id = a.getKey().substring(ATTEMPT_PREFIX.length());
      if (!a.getValue() && discardAttempt(root, run, id)) {
        discarded.add(id);
      }
    }
    return discarded;
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
    SinkFiles.write(attemptDir.resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE), RunManifest.JSON.writeValueAsBytes(manifest));
    if (SinkFiles.exists(attemptDir.resolve(ABORTED, StandardResolveOptions.RESOLVE_FILE).toString())) {
      throw new IllegalStateException("not publishing " + attemptDir + ": the job gave this attempt up ("
          + ABORTED + " exists), so the run failed; run it again");
    }
    // Apart from the manifest, which stays byte-identical across re-runs of the run.
    ObjectNode published = RunManifest.JSON.createObjectNode();
    published.put("run_id", run.runId());
    published.put("published_at", java.time.Instant.now().toString());
    SinkFiles.write(attemptDir.resolve(PUBLISHED, StandardResolveOptions.RESOLVE_FILE), RunManifest.JSON.writeValueAsBytes(published));
    SinkFiles.write(attemptDir.resolve(SUCCESS, StandardResolveOptions.RESOLVE_FILE), new byte[0]);
    ResourceId runDir = FileSystems.matchNewResource(RunDirectory.runDirectory(root, run), true);
    String current = SinkFiles.readSmall(runDir.resolve(CURRENT, StandardResolveOptions.RESOLVE_FILE).toString());
    String replaced = current == null ? null : current.trim();
    // The pointers move last, so readers switch from one complete attempt to the next.
    SinkFiles.replace(runDir, CURRENT, attemptName + "\n");
    String servedInstead = forceLatest ? null : newerLatestRun(root, run);
    if (servedInstead == null) {
      SinkFiles.replace(FileSystems.matchNewResource(root, true), LATEST, RunDirectory.runPath(run) + "/" + attemptName + "\n");
    }
    Set<String> keep = new TreeSet<>();
    keep.add(attemptName);
    if (replaced != null) {
      keep.add(replaced);
    }
    for (Map.Entry<String, Boolean> a : RunDirectory.attempts(runDir).entrySet()) {
      if (keep.contains(a.getKey()) || RunDirectory.isServed(root, run, a.getKey())) {
        continue;
      }
      ResourceId old = runDir.resolve(a.getKey(), StandardResolveOptions.RESOLVE_DIRECTORY);
      if (a.getValue()) {
        SinkFiles.removeTree(old); // superseded before the one just replaced: no reader can still be on it
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
  static @Nullable String newerLatestRun(String root, RunInfo run) {
    String latest = RunDirectory.latestDirectory(root);
    if (latest == null) {
      return null;
    }
    String servedRunId = RunDirectory.runIdOf(latest);
    String manifest = SinkFiles.readSmall(latest + "/" + MANIFEST);
    if (manifest == null) {
      return null;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode ts = RunManifest.JSON.readTree(manifest).get("prediction_timestamp");
      if (ts == null || !ts.isTextual()) {
        return null;
      }
      return Backfill.isOlder(run, servedRunId, java.time.Instant.parse(ts.asText())) ? servedRunId : null;
    } catch (IOException | java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  /** Removes what the sink wrote into an attempt (staging, shards, dead letters, manifest, success marker). */
  static void removeOutputs(ResourceId attemptDir) throws IOException {
    SinkFiles.removeTree(attemptDir.resolve("_staging", StandardResolveOptions.RESOLVE_DIRECTORY));
    for (FileFormat f : FileFormat.values()) {
      SinkFiles.removeTree(attemptDir.resolve(f.directory(), StandardResolveOptions.RESOLVE_DIRECTORY));
    }
    SinkFiles.removeTree(attemptDir.resolve("dead_letters", StandardResolveOptions.RESOLVE_DIRECTORY));
    SinkFiles.delete(List.of(attemptDir.resolve(SUCCESS, StandardResolveOptions.RESOLVE_FILE),
        attemptDir.resolve(PUBLISHED, StandardResolveOptions.RESOLVE_FILE),
        attemptDir.resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE)));
  }

  static Map<ResourceId, String> byOwnName(List<String> staged) {
    Map<ResourceId, String> m = new java.util.LinkedHashMap<>();
    for (String f : staged) {
      ResourceId src = FileSystems.matchNewResource(f, false);
      m.put(src, src.getFilename());
    }
    return m;
  }

  /**
   * Moves files into {@code <runDir>/<dir>/} under the given names, drops {@code part-*} files there
   * that are not among them (stale shards of an earlier attempt), and lists them with their sha256.
   * A source already moved by an earlier attempt is skipped.
   */
  static ArrayNode moveIntoPlace(ResourceId runDir, String dir, Map<ResourceId, String> sources)
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
    for (MatchResult.Metadata m : SinkFiles.match(target.resolve("part-*", StandardResolveOptions.RESOLVE_FILE).toString())) {
      if (!names.contains(m.resourceId().getFilename())) {
        stale.add(m.resourceId());
      }
    }
    SinkFiles.delete(stale);
    if (!from.isEmpty()) {
      FileSystems.rename(from, to, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    }
    ArrayNode listing = RunManifest.JSON.createArrayNode();
    for (String name : names) {
      ResourceId file = target.resolve(name, StandardResolveOptions.RESOLVE_FILE);
      ObjectNode entry = listing.addObject();
      entry.put("path", dir + "/" + name);
      long[] size = new long[1];
      entry.put("sha256", SinkFiles.sha256(file, size));
      entry.put("bytes", size[0]);
    }
    return listing;
  }
}
