package dev.batchserve.transforms.features;

/**
 * The kind of one transform step, as written in the JSON {@code "kind"} field. Each kind has its own
 * {@link Step} class; {@link Step#kind()} names it.
 *
 * <pre>{@code
 * boolean scaled = spec.feature("amount").transforms().get(0).kind() == StepKind.ZSCORE;
 * }</pre>
 */
public enum StepKind {
  PASSTHROUGH,
  ZSCORE,
  MINMAX,
  LOG1P,
  CLIP,
  BUCKETIZE,
  ONEHOT,
  HASH,
  DATEPARTS;

  /** The JSON name ({@code "zscore"}), also the step's Jackson type name. */
  String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
