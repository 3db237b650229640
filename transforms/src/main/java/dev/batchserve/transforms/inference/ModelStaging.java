package dev.batchserve.transforms.inference;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MatchResult.Metadata;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Makes a model directory given by URI available on the local disk of this worker.
 *
 * <p>A local path (or {@code file:} URI) is used in place. Any other Beam {@link FileSystems} URI
 * ({@code gs://}, {@code s3://}, ...) is copied once per JVM into a local cache directory; later calls
 * for the same URI return the same copy. The copy is made under a temporary name and moved into place,
 * so a worker that dies mid-copy never leaves a half model that a later call would trust (and the
 * manifest's checksums are verified at load in any case).
 *
 * <pre>{@code
 * Path dir = ModelStaging.localize("gs://bucket/models/fraud/3");
 * }</pre>
 */
public final class ModelStaging {
  private static final Map<String, Path> LOCALIZED = new ConcurrentHashMap<>();

  private ModelStaging() {}

  /** The local directory holding the model at {@code uri}. */
  public static Path localize(String uri) {
    if (isLocal(uri)) {
      Path p = uri.startsWith("file:") ? Paths.get(URI.create(uri)) : Paths.get(uri);
      if (!Files.isDirectory(p)) {
        throw new IllegalArgumentException("model directory does not exist: " + p.toAbsolutePath());
      }
      return p.toAbsolutePath().normalize();
    }
    return LOCALIZED.computeIfAbsent(uri, ModelStaging::copyToLocal);
  }

  static boolean isLocal(String uri) {
    int colon = uri.indexOf(':');
    int slash = uri.indexOf('/');
    return colon < 0 || (slash >= 0 && slash < colon) || uri.startsWith("file:");
  }

  static Path copyToLocal(String uri) {
    // Beam's local file system spells resources as plain paths, not file: URIs.
    String spelled = uri.startsWith("file:") ? Paths.get(URI.create(uri)).toString() : uri;
    String base = spelled.endsWith("/") ? spelled.substring(0, spelled.length() - 1) : spelled;
    Path cacheRoot = Paths.get(System.getProperty("java.io.tmpdir"), "batchserve-models");
    Path target = cacheRoot.resolve(sha256(base));
    if (Files.isDirectory(target)) {
      return target;
    }
    try {
      Files.createDirectories(cacheRoot);
      Path staging = Files.createTempDirectory(cacheRoot, "staging-");
      List<MatchResult> matches = FileSystems.match(List.of(base + "/**"));
      ResourceId baseId = FileSystems.matchNewResource(base, true);
      int copied = 0;
      for (Metadata m : matches.get(0).metadata()) {
        String rel = relativePath(baseId, m.resourceId());
        Path dest = staging.resolve(rel).normalize();
        if (!dest.startsWith(staging)) {
          throw new IOException("refusing model file outside the model directory: " + m.resourceId());
        }
        Files.createDirectories(dest.getParent());
        try (ReadableByteChannel ch = FileSystems.open(m.resourceId());
            InputStream in = Channels.newInputStream(ch)) {
          Files.copy(in, dest, StandardCopyOption.REPLACE_EXISTING);
        }
        copied++;
      }
      if (copied == 0) {
        throw new IOException("no files under model URI " + uri);
      }
      try {
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        // Another JVM on this machine finished the same copy first: use its copy.
        if (!Files.isDirectory(target)) {
          throw raced;
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy model " + uri + " to local disk", e);
    }
  }

  /** The path of {@code file} below {@code dir}, both as the file system spells them. */
  private static String relativePath(ResourceId dir, ResourceId file) throws IOException {
    String prefix = dir.toString().endsWith("/") ? dir.toString() : dir + "/";
    String full = file.toString();
    if (!full.startsWith(prefix)) {
      throw new IOException("file " + full + " is not under the model directory " + prefix);
    }
    return full.substring(prefix.length());
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
