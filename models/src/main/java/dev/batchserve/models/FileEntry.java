package dev.batchserve.models;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * One file of a model directory as listed in its {@link ModelManifest}: the path relative to the
 * directory (always with {@code /} separators), its sha256 (lower-case hex) and its size in bytes.
 *
 * <pre>{@code
 * List<FileEntry> files = ModelManifest.hashFiles(exportDir);
 * }</pre>
 */
public final class FileEntry {
  private final String path;
  private final String sha256;
  private final long size;

  /** Creates an entry; {@code path} is relative to the model directory. */
  @JsonCreator
  public FileEntry(
      @JsonProperty("path") String path,
      @JsonProperty("sha256") String sha256,
      @JsonProperty("size") long size) {
    this.path = Objects.requireNonNull(path, "path");
    this.sha256 = Objects.requireNonNull(sha256, "sha256");
    this.size = size;
  }

  /** The path relative to the model directory, with {@code /} separators. */
  public String getPath() {
    return path;
  }

  /** The sha256 of the content, lower-case hex. */
  public String getSha256() {
    return sha256;
  }

  /** The size in bytes. */
  public long getSize() {
    return size;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof FileEntry)) {
      return false;
    }
    FileEntry other = (FileEntry) o;
    return size == other.size && path.equals(other.path) && sha256.equals(other.sha256);
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, sha256, size);
  }

  @Override
  public String toString() {
    return path + " (" + size + " bytes, sha256 " + sha256 + ")";
  }
}
