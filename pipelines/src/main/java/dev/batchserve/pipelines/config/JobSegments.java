package dev.batchserve.pipelines.config;

import static dev.batchserve.pipelines.config.Problems.isBlank;

import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A job file's {@code segments}: a model per segment, the segment being a record {@code column} or
 * the key's text before {@code keySeparator}; {@code models} maps each segment to its model directory
 * (as {@code --segmentColumn}/{@code --segmentKeySeparator} and {@code --segmentModels}).
 *
 * <pre>
 * segments: {column: region, models: {eu: models/churn-eu/3, us: models/churn-us/5}}
 * </pre>
 */
public record JobSegments(
    @Nullable String column, @Nullable String keySeparator, @Nullable Map<String, String> models) {

  void validate(Problems p) {
    if (isBlank(column) == (keySeparator == null || keySeparator.isEmpty())) {
      p.add("segments needs exactly one of column (the segment is a record column) and keySeparator (the segment"
          + " is the key before it)");
    }
    if (keySeparator != null && keySeparator.contains(",")) {
      p.add("segments.keySeparator must not contain ',', but was '" + keySeparator + "'");
    }
    if (models == null || models.isEmpty()) {
      p.add("segments.models must map at least one segment to its model directory, e.g. {eu: models/churn-eu/3}");
      return;
    }
    for (Map.Entry<String, String> m : models.entrySet()) {
      // --segmentModels is <segment>=<model>,...: neither may hold a ',' nor the segment a '='.
      if (isBlank(m.getKey()) || m.getKey().contains(",") || m.getKey().contains("=")) {
        p.add("segments.models: a segment must be non-empty without ',' or '=', but was '" + m.getKey() + "'");
      }
      if (isBlank(m.getValue()) || m.getValue().contains(",")) {
        p.add("segments.models." + m.getKey() + " must be a model directory without ',', but was '" + m.getValue() + "'");
      }
    }
  }
}
