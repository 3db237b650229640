package dev.batchserve.models;

/**
 * A counted reference to a model held by {@link SharedModelCache}. Closing the handle releases the
 * reference; the last release closes the model. Closing twice is harmless.
 *
 * <pre>{@code
 * try (ModelHandle handle = SharedModelCache.acquire(dir)) {
 *   float[][] out = handle.model().predict(batch);
 * }
 * }</pre>
 */
public final class ModelHandle implements AutoCloseable {
  private final SharedModelCache.Entry entry;
  private boolean released;

  ModelHandle(SharedModelCache.Entry entry) {
    this.entry = entry;
  }

  /** The shared model; do not close it directly. */
  public Model model() {
    checkNotReleased();
    return entry.model;
  }

  /**
   * The manifest the model was loaded with; for a {@link CodeModel}, its
   * {@link CodeModel#manifest()}.
   */
  public ModelManifest manifest() {
    return entry.manifest;
  }

  /** How long the (single) load of this model took, in milliseconds. */
  public long loadTimeMillis() {
    return entry.loadTimeMillis;
  }

  private synchronized void checkNotReleased() {
    if (released) {
      throw new IllegalStateException("model handle for " + entry.key + " was already closed");
    }
  }

  /** Releases this reference; the model closes when no handle is left. */
  @Override
  public void close() {
    synchronized (this) {
      if (released) {
        return;
      }
      released = true;
    }
    SharedModelCache.release(entry);
  }
}
