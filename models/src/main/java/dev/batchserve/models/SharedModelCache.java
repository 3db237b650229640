package dev.batchserve.models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded copy of each model per JVM, shared by all threads (all DoFn instances of a worker) and
 * reference counted: the first {@link #acquire} loads, concurrent acquires of the same model wait
 * for that one load, and the last {@link ModelHandle#close()} closes the model. Entries are keyed by
 * the canonical model directory and the manifest version, so a new version in the same directory
 * is a different model; a model given in code ({@link CodeModel}) is keyed by its name and
 * version.
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
    return acquire(new Key(canonical.toString(), manifest.getVersion(), options), manifest,
        () -> Models.load(canonical, manifest, options), canonical.toString());
  }

  /**
   * Returns a handle to a model given in code, running its {@link ModelLoader} if no handle to a
   * code model of the same name and version is open. Serialized copies of one {@link CodeModel}
   * (one per DoFn instance) therefore share one loaded model; the last {@link ModelHandle#close()}
   * closes it. {@link ModelHandle#manifest()} is {@link CodeModel#manifest()}.
   *
   * <pre>{@code
   * CodeModel rules = CodeModel.of("fraud-rules", "2", () -> new FraudRules(0.7f));
   * try (ModelHandle handle = SharedModelCache.acquire(rules)) {
   *   float[][] out = handle.model().predict(batch);
   * }
   * }</pre>
   *
   * @throws ModelLoadException naming the model if its loader throws or returns {@code null}
   */
  public static ModelHandle acquire(CodeModel model) {
    Objects.requireNonNull(model, "model");
    // "code:" keeps a code model's name apart from any directory path.
    return acquire(new Key("code:" + model.getName(), model.getVersion(), ModelOptions.defaults()),
        model.manifest(), model::load, "code (" + model.getLoader().getClass().getName() + ")");
  }

  private static ModelHandle acquire(
      Key key, ModelManifest manifest, Supplier<Model> load, String source) {
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
          entry.model = load.get();
          entry.manifest = manifest;
          entry.loadTimeMillis = (System.nanoTime() - start) / 1_000_000;
          LOADS.incrementAndGet();
          LOG.info("loaded model {} version {} from {} in {} ms, running with {}", manifest.getName(),
              manifest.getVersion(), source, entry.loadTimeMillis, entry.model.runtimeSettings());
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
    /** The canonical model directory, or {@code code:} and a code model's name. */
    final String source;
    final String version;
    final ModelOptions options;

    Key(String source, String version, ModelOptions options) {
      this.source = source;
      this.version = version;
      this.options = options;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key)) {
        return false;
      }
      Key k = (Key) o;
      return source.equals(k.source) && Objects.equals(version, k.version) && options.equals(k.options);
    }

    @Override
    public int hashCode() {
      return Objects.hash(source, version, options);
    }

    @Override
    public String toString() {
      return source + "@" + version;
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
