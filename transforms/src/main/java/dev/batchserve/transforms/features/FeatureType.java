package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Declared type of an input feature; values arriving as text (CSV) are parsed to it. Written as the
 * feature's {@code "type"} in the spec JSON.
 *
 * <pre>{@code
 * FeatureSpec.builder().feature("clicks", FeatureType.LONG).passthrough();
 * }</pre>
 */
public enum FeatureType {
  @JsonProperty("double") DOUBLE,
  @JsonProperty("long") LONG,
  @JsonProperty("string") STRING,
  @JsonProperty("boolean") BOOLEAN,
  @JsonProperty("timestamp") TIMESTAMP,
  @JsonProperty("list") LIST;

  String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  boolean isNumeric() {
    return this == DOUBLE || this == LONG || this == BOOLEAN || this == TIMESTAMP;
  }

  boolean isCategorical() {
    return this == STRING || this == LONG || this == BOOLEAN;
  }
}
