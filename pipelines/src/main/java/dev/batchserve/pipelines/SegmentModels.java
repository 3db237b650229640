package dev.batchserve.pipelines;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.inference.ScoreBySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The job's per-segment models: {@code --segmentModels} with {@code --segmentColumn} or
 * {@code --segmentKeySeparator}, read into the {@link ScoreBySegment} that
 * {@code KeyedPrediction.withSegmentModels} applies; {@code --model} is the default model.
 *
 * <pre>
 * --model=/models/churn/7 --segmentColumn=region --segmentModels=eu=/models/churn-eu/3,us=/models/churn-us/5
 * </pre>
 */
final class SegmentModels {
  private SegmentModels() {}

  /**
   * The segment models the options ask for, or null when {@code --segmentModels} is empty.
   *
   * @throws IllegalArgumentException naming the option, for a malformed list or a missing or double rule
   */
  static @Nullable ScoreBySegment<String> of(BatchScoringOptions o) {
    String column = o.getSegmentColumn().trim();
    String separator = o.getSegmentKeySeparator();
    if (o.getSegmentModels().isEmpty()) {
      checkArgument(column.isEmpty() && separator.isEmpty(),
          "--segmentColumn and --segmentKeySeparator need --segmentModels=<segment>=<model dir>,...");
      return null;
    }
    checkArgument(column.isEmpty() != separator.isEmpty(),
        "--segmentModels needs exactly one of --segmentColumn=<column> (the segment is a record column) and"
            + " --segmentKeySeparator=<text> (the segment is the key before it), but got %s",
        column.isEmpty() ? "neither" : "both");
    ScoreBySegment<String> s = column.isEmpty()
        ? ScoreBySegment.byKeyPrefix(separator) : ScoreBySegment.byColumn(column);
    return s.withModels(o.getSegmentModels());
  }

  /**
   * {@code eu=/models/churn-eu/3,us=gs://bucket/churn-us/5}: segment to model URI, in the given
   * order. A segment is the text before the first {@code =} of its entry. How the command line's
   * {@code --segmentModels} is read ({@link MapText}).
   */
  static Map<String, String> parse(String list) {
    checkArgument(list != null, "--segmentModels must be <segment>=<model dir>,..., but was null");
    Map<String, String> models = new LinkedHashMap<>();
    for (String entry : list.split(",", -1)) {
      int eq = entry.indexOf('=');
      String segment = eq < 0 ? "" : entry.substring(0, eq).trim();
      String uri = eq < 0 ? "" : entry.substring(eq + 1).trim();
      checkArgument(!segment.isEmpty() && !uri.isEmpty(),
          "--segmentModels must be <segment>=<model dir>,..., e.g. eu=/models/churn-eu/3,us=/models/churn-us/5,"
              + " but the entry '%s' of '%s' is not", entry, list);
      checkArgument(!models.containsKey(segment), "--segmentModels names the segment '%s' twice: '%s'", segment, list);
      models.put(segment, uri);
    }
    return models;
  }
}
