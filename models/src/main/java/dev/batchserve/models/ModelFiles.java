package dev.batchserve.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The model directory's side of a {@link ModelManifest}: hashing its files and checking them against
 * the manifest's list, never reading outside the directory.
 */
final class ModelFiles {
  private ModelFiles() {}

  /** See {@link ModelManifest#verify}. */
  static void verify(List<FileEntry> files, Path modelDir) {
    Set<String> listed = new TreeSet<>();
    for (FileEntry entry : files) {
      String rel = entry.getPath();
      Path file = resolveInside(modelDir, rel);
      if (!listed.add(rel)) {
        throw new ModelIntegrityException("model file " + rel + ": listed twice in the manifest");
      }
      if (!Files.isRegularFile(file)) {
        throw new ModelIntegrityException("model file " + rel + ": missing from " + modelDir);
      }
      long size;
      try {
        size = Files.size(file);
      } catch (IOException e) {
        throw new ModelIntegrityException("model file " + rel + ": cannot read size", e);
      }
      // The size check is cheap and catches truncated copies before hashing large files.
      if (size != entry.getSize()) {
        throw new ModelIntegrityException(
            "model file " + rel + ": size mismatch, expected " + entry.getSize() + ", found " + size);
      }
      String sha = sha256(file);
      if (!sha.equalsIgnoreCase(entry.getSha256())) {
        throw new ModelIntegrityException(
            "model file " + rel + ": sha256 mismatch, expected " + entry.getSha256() + ", found "
                + sha);
      }
    }
    for (String present : listRelative(modelDir)) {
      if (!listed.contains(present)) {
        throw new ModelIntegrityException(
            "model file " + present + ": present in " + modelDir + " but not listed in the manifest");
      }
    }
  }

  /** See {@link ModelManifest#hashFiles}. */
  static List<FileEntry> hashFiles(Path modelDir) {
    List<FileEntry> entries = new ArrayList<>();
    for (String rel : listRelative(modelDir)) {
      Path file = modelDir.resolve(rel);
      try {
        entries.add(new FileEntry(rel, sha256(file), Files.size(file)));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
    return entries;
  }

  static Path resolveInside(Path modelDir, String rel) {
    Path root = modelDir.toAbsolutePath().normalize();
    Path file = root.resolve(rel).normalize();
    // A manifest must never make us read outside its own directory.
    if (rel.isEmpty() || Path.of(rel).isAbsolute() || !file.startsWith(root)) {
      throw new ModelIntegrityException("model file " + rel + ": path escapes the model directory");
    }
    return file;
  }

  static List<String> listRelative(Path modelDir) {
    if (!Files.isDirectory(modelDir)) {
      throw new ModelIntegrityException("model directory " + modelDir + " does not exist");
    }
    try (Stream<Path> walk = Files.walk(modelDir)) {
      return walk.filter(Files::isRegularFile)
          .map(p -> modelDir.relativize(p).toString().replace('\\', '/'))
          .filter(rel -> !rel.equals(ModelManifest.FILE_NAME))
          .sorted()
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + modelDir, e);
    }
  }

  static String sha256(Path file) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required on every JVM", e);
    }
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
    } catch (NoSuchFileException e) {
      throw new ModelIntegrityException("model file " + file + ": missing", e);
    } catch (IOException e) {
      throw new ModelIntegrityException("model file " + file + ": cannot read", e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
