package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How a missing (or kept invalid) value is replaced.
 *
 * <pre>{@code
 * ImputeStrategy s = spec.feature("age").imputation().strategy();
 * }</pre>
 */
public enum ImputeStrategy {
  @JsonProperty("mean") MEAN,
  @JsonProperty("median") MEDIAN,
  @JsonProperty("mode") MODE,
  @JsonProperty("constant") CONSTANT
}
