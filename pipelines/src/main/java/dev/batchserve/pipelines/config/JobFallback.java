package dev.batchserve.pipelines.config;

import static dev.batchserve.pipelines.config.Problems.lower;

import dev.batchserve.transforms.keys.Fallback;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code fallback}: what a key without a model prediction gets, {@code abstain} or
 * {@code constant} with a {@code value}.
 *
 * <pre>
 * fallback: {policy: constant, value: 0.02}
 * </pre>
 */
public record JobFallback(@Nullable String policy, @Nullable Double value) {

  /** The fallback of a validated policy: {@link Fallback#abstain()} or {@link Fallback#constant}. */
  public Fallback toFallback() {
    return "constant".equals(lower(policy)) ? Fallback.constant(value.floatValue()) : Fallback.abstain();
  }

  void validate(Problems p) {
    String k = lower(policy);
    if (k == null) {
      p.add("fallback.policy is required: abstain or constant");
    } else if (k.equals("constant")) {
      if (value == null) {
        p.add("fallback.value is required for the constant policy");
      } else if (!Double.isFinite(value)) {
        p.add("fallback.value must be finite, but was " + value);
      }
    } else if (k.equals("abstain")) {
      if (value != null) {
        p.add("fallback.value is not used by the abstain policy, but was " + value);
      }
    } else {
      p.add("fallback.policy must be one of abstain, constant, but was '" + policy + "'");
    }
  }
}
