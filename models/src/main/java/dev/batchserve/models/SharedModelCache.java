package dev.batchserve.models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded copy of each model per JVM, shared by all threads (all DoFn instances of a worker) and
 * reference counted: the first {@link #acquire} loads, concurrent acquires of the same model wait
 * for that one load, and the last {@link ModelHandle#close()} closes the model. Entries are keyed by
 * the canonical model directory and the manifest version, so a new version in the same directory
 * is a different model.
 *
 * <pre>{@code
 * // @Setup
 * handle = SharedModelCache.acquire(modelDir);
 * // @ProcessElement
 * float[][] out = handle.model().predict(batch);
 * // @Teardown
 * handle.close();
 * }</pre>
 */
public final class SharedModelCache {
  private static final Logger LOG = LoggerFactory.getLogger(SharedModelCache.class);

  private static final Map<Key, Entry> ENTRIES = new HashMap<>();
  private static final AtomicLong LOADS = new AtomicLong();

  private SharedModelCache() {}

  /** Acquires the model with engine defaults; see {@link #acquire(Path, ModelOptions)}. */
  public static ModelHandle acquire(Path modelDir) {
    return acquire(modelDir, ModelOptions.defaults());
  }

  /**
   * Returns a handle to the shared model, loading it (with {@link Models#load}) if no handle to it
   * is open. If the load fails every waiting caller gets the failure and the next acquire retries.
   */
  public static ModelHandle acquire(Path modelDir, ModelOptions options) {
    Path canonical;
    try {
      canonical = modelDir.toRealPath();
    } catch (IOException e) {
      throw new ModelLoadException("model directory " + modelDir + " does not exist", e);
    }
    ModelManifest manifest = ModelManifest.read(canonical);
    Key key = new Key(canonical, manifest.getVersion(), options);
    Entry entry;
    synchronized (ENTRIES) {
      entry = ENTRIES.computeIfAbsent(key, Entry::new);
      entry.references++;
    }
    // Loading happens under the entry's own lock, so different models load in parallel while
    // concurrent acquires of one model wait for its single load.
    synchronized (entry) {
      if (entry.model == null) {
        try {
          long start = System.nanoTime();
          entry.model = Models.load(canonical, manifest, options);
          entry.manifest = manifest;
          entry.loadTimeMillis = (System.nanoTime() - start) / 1_000_000;
          LOADS.incrementAndGet();
          LOG.info("loaded model {} version {} from {} in {} ms", manifest.getName(),
              manifest.getVersion(), canonical, entry.loadTimeMillis);
        } catch (RuntimeException | Error e) {
          release(entry);
          throw e;
        }
      }
    }
    return new ModelHandle(entry);
  }

  static void release(Entry entry) {
    Model toClose = null;
    synchronized (ENTRIES) {
      entry.references--;
      if (entry.references == 0) {
        ENTRIES.remove(entry.key, entry);
        toClose = entry.model;
      }
    }
    if (toClose != null) {
      // Outside the map lock: closing waits for in-flight predictions.
      synchronized (entry) {
        toClose.close();
        entry.model = null;
      }
      LOG.info("closed model {}", entry.key);
    }
  }

  /** How many model loads this JVM performed through the cache (for tests and metrics). */
  public static long loadCount() {
    return LOADS.get();
  }

  /** How many models are currently held open by the cache. */
  public static int openModels() {
    synchronized (ENTRIES) {
      return (int) ENTRIES.values().stream().filter(e -> e.model != null).count();
    }
  }

  static final class Key {
    final Path dir;
    final String version;
    final ModelOptions options;

    Key(Path dir, String version, ModelOptions options) {
      this.dir = dir;
      this.version = version;
      this.options = options;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key)) {
        return false;
      }
      Key k = (Key) o;
      return dir.equals(k.dir) && Objects.equals(version, k.version) && options.equals(k.options);
    }

    @Override
    public int hashCode() {
      return Objects.hash(dir, version, options);
    }

    @Override
    public String toString() {
      return dir + "@" + version;
    }
  }

  static final class Entry {
    final Key key;
    int references; // guarded by ENTRIES
    volatile Model model; // written under this entry's lock
    volatile ModelManifest manifest;
    volatile long loadTimeMillis;

    Entry(Key key) {
      this.key = key;
    }
  }
}
