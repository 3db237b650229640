package dev.batchserve.models;

/**
 * What a model's output vector means, as recorded in {@link ModelManifest#getOutputKind()}, so that
 * downstream code can format it without guessing.
 *
 * <pre>{@code
 * if (manifest.getOutputKind() == OutputKind.SCORE) { double p = out[0]; }
 * }</pre>
 */
public enum OutputKind {
  /** One score per row (e.g. a probability of the positive class or a regression value). */
  SCORE,
  /** One probability per class; the row sums to 1. */
  PROBABILITIES,
  /** A dense embedding vector. */
  EMBEDDING
}
