package dev.batchserve.models;

import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A model given in code instead of a model directory: a name and a version, which identify it, and
 * a {@link ModelLoader} that builds it. It needs no {@code model-manifest.json}, no file hashes, no
 * {@link ModelBackend} and no {@code META-INF/services} entry.
 *
 * <p>The name and version are the model's identity: {@link SharedModelCache#acquire(CodeModel)}
 * keys its per-JVM, reference-counted entry by them (so every serialized copy of one
 * {@code CodeModel} shares one loaded model, and the loader runs once per JVM while the model is in
 * use), and predictions are stamped with them. Two code models with the same name and version are
 * taken to be the same model: give a changed model a new version.
 *
 * <p>The model's {@link ModelSignature} takes the manifest's place for the shape: the last
 * dimension of its single input is the feature count, as for a model read from files.
 *
 * <pre>{@code
 * // Any Model implementation; it only has to be thread-safe.
 * final class FraudRules implements Model {
 *   private final float threshold;
 *   FraudRules(float threshold) { this.threshold = threshold; }
 *   public ModelSignature signature() {
 *     return new ModelSignature("rules",
 *         List.of(new TensorInfo("x", "float32", new long[] {-1, 2})),
 *         List.of(new TensorInfo("score", "float32", new long[] {-1, 1})));
 *   }
 *   public float[][] predict(float[][] batch) {
 *     float[][] out = new float[batch.length][];
 *     for (int i = 0; i < batch.length; i++) {
 *       out[i] = new float[] {batch[i][0] * batch[i][1] > threshold ? 1f : 0f};
 *     }
 *     return out;
 *   }
 *   public void close() {}
 * }
 *
 * CodeModel rules = CodeModel.of("fraud-rules", "2", () -> new FraudRules(0.7f));
 * PCollection<KV<String, Prediction>> scored = vectors
 *     .apply(BatchInfer.<String>withModel(rules).withRunInfo(run))
 *     .predictions();
 * }</pre>
 */
public final class CodeModel implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String name;
  private final String version;
  private final ModelLoader loader;
  private final OutputKind outputKind;
  private final LinkedHashMap<String, String> metadata;

  private CodeModel(
      String name, String version, ModelLoader loader, OutputKind outputKind,
      Map<String, String> metadata) {
    this.name = name;
    this.version = version;
    this.loader = loader;
    this.outputKind = outputKind;
    this.metadata = new LinkedHashMap<>(metadata);
  }

  /**
   * A code model whose outputs are {@link OutputKind#SCORE}s, with no metadata.
   *
   * @param name the model's name, stamped on predictions and part of the cache key
   * @param version the model's version, stamped on predictions and part of the cache key
   * @param loader builds the model on a worker; must be serializable (capture only serializable
   *     values)
   * @throws IllegalArgumentException if the name or version is blank, or the loader cannot be
   *     serialized
   */
  public static CodeModel of(String name, String version, ModelLoader loader) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(
          "a code model's name must be non-blank, but was " + quote(name));
    }
    if (version == null || version.isBlank()) {
      throw new IllegalArgumentException(
          "the version of code model '" + name + "' must be non-blank, but was " + quote(version));
    }
    Objects.requireNonNull(loader, "loader");
    checkSerializable(name, version, loader);
    return new CodeModel(name, version, loader, OutputKind.SCORE, Map.of());
  }

  /** What the output vector means (default {@link OutputKind#SCORE}), as in a manifest. */
  public CodeModel withOutputKind(OutputKind kind) {
    if (kind == null) {
      throw new IllegalArgumentException(
          "outputKind of code model '" + name + "' must be set, but was null");
    }
    return new CodeModel(name, version, loader, kind, metadata);
  }

  /**
   * Metadata as a manifest's: e.g. {@code "classes" -> "low,high"} names the classes of
   * {@link OutputKind#PROBABILITIES}, {@code "score" -> "probability"} marks a single score as a
   * probability. Replaces earlier metadata.
   */
  public CodeModel withMetadata(Map<String, String> metadata) {
    if (metadata == null) {
      throw new IllegalArgumentException(
          "metadata of code model '" + name + "' must be set, but was null");
    }
    return new CodeModel(name, version, loader, outputKind, metadata);
  }

  /** The model's name. */
  public String getName() {
    return name;
  }

  /** The model's version. */
  public String getVersion() {
    return version;
  }

  /** What the output vector means. */
  public OutputKind getOutputKind() {
    return outputKind;
  }

  /** The metadata, unmodifiable. */
  public Map<String, String> getMetadata() {
    return Collections.unmodifiableMap(metadata);
  }

  /** The loader. */
  public ModelLoader getLoader() {
    return loader;
  }

  /**
   * The model described as a manifest, so that code reading {@link ModelHandle#manifest()} works
   * alike for both kinds of model: name, version, output kind and metadata; no format, no input
   * feature names and no files.
   */
  public ModelManifest manifest() {
    return ModelManifest.builder()
        .name(name)
        .version(version)
        .outputKind(outputKind)
        .metadata(metadata)
        .build();
  }

  /**
   * Runs the loader.
   *
   * @throws ModelLoadException naming this model if the loader throws or returns {@code null}
   */
  Model load() {
    Model model;
    try {
      model = loader.load();
    } catch (Exception e) {
      throw new ModelLoadException("the loader of " + this + " failed: " + e, e);
    }
    if (model == null) {
      throw new ModelLoadException("the loader of " + this + " returned null instead of a Model");
    }
    return model;
  }

  @Override
  public String toString() {
    return "code model " + name + ":" + version;
  }

  // Fails here, where the loader is written, rather than later when the pipeline is serialized.
  private static void checkSerializable(String name, String version, ModelLoader loader) {
    try (ObjectOutputStream out = new ObjectOutputStream(OutputStream.nullOutputStream())) {
      out.writeObject(loader);
    } catch (NotSerializableException e) {
      throw new IllegalArgumentException(
          "the loader of code model " + name + ":" + version
              + " is not serializable: it captures a " + e.getMessage()
              + "; capture only serializable values and create the rest inside load()", e);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "the loader of code model " + name + ":" + version + " cannot be serialized: " + e, e);
    }
  }

  private static String quote(String s) {
    return s == null ? "null" : "'" + s + "'";
  }
}
