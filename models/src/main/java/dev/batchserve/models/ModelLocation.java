package dev.batchserve.models;

import java.nio.file.Path;

/**
 * Turns a model URI into a local directory that {@link Models#load} can read: the local file
 * system's directory itself, or a local copy of a remote one (the Beam {@code FileSystems}
 * implementation for {@code gs://}, {@code s3://} lives in {@code batchserve-transforms}).
 * Implementations are registered with {@link ModelFetcher#register} or through {@link
 * java.util.ServiceLoader} ({@code META-INF/services/dev.batchserve.models.ModelLocation}).
 *
 * <pre>{@code
 * public final class MemoryLocation implements ModelLocation {
 *   public boolean handles(String uri) { return uri.startsWith("mem://"); }
 *   public Path localize(String uri) { return dirs.get(uri); }
 * }
 * ModelFetcher.register(new MemoryLocation());
 * }</pre>
 */
public interface ModelLocation {

  /** Whether this location understands {@code uri} (usually: its scheme). */
  boolean handles(String uri);

  /**
   * A local directory holding the model files and {@code model-manifest.json}. Remote
   * implementations copy the files (and should reuse an earlier copy of the same version); the
   * files are verified against the manifest by {@link Models#load} afterwards, so a partial or
   * altered copy is caught there.
   *
   * @throws ModelLoadException if the model cannot be found or copied
   */
  Path localize(String uri);
}
