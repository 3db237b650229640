package dev.batchserve.transforms.sink;

import static dev.batchserve.transforms.sink.RunDirectory.LATEST;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionView;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The publish: counts each format's rows, moves the staged files into place, then writes the
 * manifest, {@code _SUCCESS}, {@code _CURRENT} and {@code _LATEST} ({@link AttemptPublish#complete}).
 */
final class FilesPublisher implements StagedPublish.Publisher {
  private static final long serialVersionUID = 1L;
  private final String root;
  private final RunInfo run;
  private final Map<FileFormat, PCollectionView<List<KV<String, Long>>>> written;
  private final @Nullable PCollectionView<List<KV<String, Long>>> deadFiles;
  private final PCollectionView<List<KV<String, Long>>> models;
  private final boolean forceLatest;
  private final org.apache.beam.sdk.schemas.Schema rowSchema;

  FilesPublisher(String root, RunInfo run, Map<FileFormat, PCollectionView<List<KV<String, Long>>>> written,
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
    ObjectNode manifest = RunManifest.manifestHeader(run, c.records(), perModel.keySet(), rowSchema);
    RunManifest.putPerModel(manifest, perModel);
    ObjectNode listing = manifest.putObject("files");
    for (Map.Entry<FileFormat, List<String>> e : files.entrySet()) {
      String sub = e.getKey().directory();
      listing.set(sub, AttemptPublish.moveIntoPlace(dir, sub, AttemptPublish.byOwnName(e.getValue())));
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
      listing.set("dead_letters", AttemptPublish.moveIntoPlace(dir, "dead_letters", AttemptPublish.byOwnName(names)));
    }
    SinkFiles.removeTree(dir.resolve("_staging", StandardResolveOptions.RESOLVE_DIRECTORY));
    String servedInstead = AttemptPublish.complete(root, run, dir, manifest, forceLatest);
    return servedInstead == null
        ? StagedPublish.Published.latest(attemptDir)
        : StagedPublish.Published.backfill(attemptDir, servedInstead, "files under " + root + ": " + LATEST + " unchanged");
  }
}
