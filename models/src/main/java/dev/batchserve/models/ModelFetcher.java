package dev.batchserve.models;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves model URIs to local directories through the registered {@link ModelLocation}s: those
 * registered with {@link #register} first (latest first), then those found by {@link
 * ServiceLoader}, then {@link LocalModelLocation} for plain paths and {@code file:} URIs.
 *
 * <pre>{@code
 * Path dir = ModelFetcher.localize("gs://bucket/models/churn/3"); // with batchserve-transforms
 * try (ModelHandle handle = SharedModelCache.acquire(dir)) { ... }
 * }</pre>
 */
public final class ModelFetcher {
  private static final Logger LOG = LoggerFactory.getLogger(ModelFetcher.class);

  private static final List<ModelLocation> REGISTERED = new CopyOnWriteArrayList<>();
  private static final List<ModelLocation> DISCOVERED = discover();
  private static final ModelLocation LOCAL = new LocalModelLocation();

  private ModelFetcher() {}

  private static List<ModelLocation> discover() {
    List<ModelLocation> found = new ArrayList<>();
    try {
      ServiceLoader.load(ModelLocation.class).forEach(found::add);
    } catch (ServiceConfigurationError e) {
      LOG.warn("ignoring a misconfigured ModelLocation service: {}", e.getMessage());
    }
    return List.copyOf(found);
  }

  /**
   * The local directory for {@code uri}.
   *
   * @throws ModelLoadException if no location handles the URI's scheme, or the location fails
   */
  public static Path localize(String uri) {
    if (uri == null || uri.isBlank()) {
      throw new ModelLoadException("model URI is empty");
    }
    return locationFor(uri).localize(uri);
  }

  /** The location that would handle {@code uri}. */
  public static ModelLocation locationFor(String uri) {
    for (ModelLocation location : locations()) {
      if (location.handles(uri)) {
        return location;
      }
    }
    throw new ModelLoadException("no ModelLocation handles " + uri + "; registered: "
        + locations().stream().map(l -> l.getClass().getSimpleName()).collect(Collectors.toList())
        + " (remote file systems need batchserve-transforms' Beam FileSystems location)");
  }

  /** Every location in the order they are asked. */
  public static List<ModelLocation> locations() {
    List<ModelLocation> all = new ArrayList<>(REGISTERED);
    all.addAll(DISCOVERED);
    all.add(LOCAL);
    return all;
  }

  /** Adds a location, asked before all others. */
  public static void register(ModelLocation location) {
    REGISTERED.add(0, location);
  }

  /** Removes a location added with {@link #register}. */
  public static void unregister(ModelLocation location) {
    REGISTERED.remove(location);
  }
}
