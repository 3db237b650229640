package dev.batchserve.transforms.sink;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The file-system steps of the file sink's publish protocol, through Beam's {@link FileSystems} (so
 * local disks and object stores alike): listing, reading a small file, writing, atomic replace by
 * rename, deleting trees and hashing.
 */
final class SinkFiles {
  private SinkFiles() {}

  /** Writes {@code name} in {@code dir} through a temporary file and an atomic rename. */
  static void replace(ResourceId dir, String name, String text) throws IOException {
    ResourceId tmp = dir.resolve(name + ".tmp-" + UUID.randomUUID(), StandardResolveOptions.RESOLVE_FILE);
    write(tmp, text.getBytes(StandardCharsets.UTF_8));
    try {
      FileSystems.rename(List.of(tmp), List.of(dir.resolve(name, StandardResolveOptions.RESOLVE_FILE)));
    } catch (IOException | RuntimeException e) {
      delete(List.of(tmp));
      throw e;
    }
  }

  /** A small file's text, or null when it does not exist. */
  static @Nullable String readSmall(String uri) {
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

  static List<MatchResult.Metadata> match(String glob) throws IOException {
    MatchResult r = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
    return r.status() == MatchResult.Status.OK ? r.metadata() : List.of();
  }

  static void delete(List<ResourceId> ids) throws IOException {
    if (!ids.isEmpty()) {
      FileSystems.delete(ids, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
    }
  }

  /** Deletes every file under {@code dir}; on a local disk also the emptied directories. */
  /**
   * Removes {@code written} again and fails when the driver gave the attempt up ({@code _ABORTED} in
   * {@code attemptDir}, see {@code AttemptPublish.discardAttempt}) while they were written; {@code what}
   * names them in the message ("shard 3", "dead letters").
   */
  static void removeIfAborted(String attemptDir, List<ResourceId> written, String what) throws IOException {
    if (exists(attemptDir + "/" + RunDirectory.ABORTED)) {
      delete(written);
      throw new IllegalStateException("attempt " + attemptDir + " was aborted (" + RunDirectory.ABORTED
          + " exists): its run failed, " + what + " removed");
    }
  }

  static void removeTree(ResourceId dir) throws IOException {
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

  static void write(ResourceId id, byte[] bytes) throws IOException {
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(id, "application/octet-stream"))) {
      out.write(bytes);
    }
  }

  static String sha256(ResourceId id, long[] size) throws IOException {
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
