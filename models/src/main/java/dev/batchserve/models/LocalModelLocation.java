package dev.batchserve.models;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The {@link ModelLocation} for local directories: plain paths ({@code /models/churn/3},
 * {@code models/churn}) and {@code file:} URIs ({@code file:///models/churn/3}). Nothing is copied.
 *
 * <pre>{@code
 * Path dir = new LocalModelLocation().localize("file:///models/churn/3");
 * }</pre>
 */
public final class LocalModelLocation implements ModelLocation {

  @Override
  public boolean handles(String uri) {
    String scheme = scheme(uri);
    return scheme == null || scheme.equalsIgnoreCase("file");
  }

  @Override
  public Path localize(String uri) {
    Path dir;
    try {
      dir = scheme(uri) == null ? Paths.get(uri) : Paths.get(URI.create(uri));
    } catch (IllegalArgumentException e) { // includes InvalidPathException
      throw new ModelLoadException("not a local model path: " + uri + " (" + e.getMessage() + ")", e);
    }
    dir = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw new ModelLoadException("model directory " + dir + " does not exist");
    }
    return dir;
  }

  /**
   * The URI scheme, or {@code null} for a plain path. A one-letter "scheme" is a Windows drive
   * ({@code C:\models}), not a scheme.
   */
  static String scheme(String uri) {
    int colon = uri.indexOf(':');
    if (colon <= 1) {
      return null;
    }
    String scheme = uri.substring(0, colon);
    return scheme.matches("[A-Za-z][A-Za-z0-9+.-]*") ? scheme : null;
  }
}
