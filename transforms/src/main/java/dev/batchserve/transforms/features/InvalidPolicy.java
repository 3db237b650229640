package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What to do with a record whose value for a feature is invalid; the feature's {@code "onInvalid"}
 * in the spec JSON.
 *
 * <pre>{@code
 * FeatureSpec.builder().categorical("country").oneHot(2).onInvalid(InvalidPolicy.KEEP);
 * }</pre>
 */
public enum InvalidPolicy {
  /** The record becomes a dead letter. */
  @JsonProperty("error") ERROR,
  /** The record is dropped and reported on the skipped output. */
  @JsonProperty("skip") SKIP,
  /** Unknown categories go to OOV buckets; other invalid values are imputed. */
  @JsonProperty("keep") KEEP
}
