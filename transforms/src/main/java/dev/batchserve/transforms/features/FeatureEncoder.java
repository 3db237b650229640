package dev.batchserve.transforms.features;

import dev.batchserve.transforms.features.FeatureValues.Cell;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Turns one raw record into a model input vector with a fitted spec's features and crosses:
 * reads and validates each value ({@link FeatureValues}), applies the invalid-value policy and
 * imputation, and lets each {@link Step} write its columns. {@link FeatureSpec#transform} is the
 * public entry; training and serving both go through it.
 *
 * <pre>{@code
 * FeatureOutcome out = new FeatureEncoder(features, crosses, layout.size()).encode(row, null);
 * }</pre>
 */
final class FeatureEncoder {
  /** Receives each feature's value as read (a run's profile counts them). */
  interface CellSink {
    void add(Feature f, Cell c);
  }

  private final List<Feature> features;
  private final List<Cross> crosses;
  private final int size;
  /** Columns per feature, so a kept value that fails encoding can be cleared and re-imputed. */
  private final int[] widths;

  FeatureEncoder(List<Feature> features, List<Cross> crosses, int size) {
    this.features = features;
    this.crosses = crosses;
    this.size = size;
    this.widths = new int[features.size()];
    for (int i = 0; i < features.size(); i++) {
      widths[i] = features.get(i).layout().size();
    }
  }

  /**
   * Validates, imputes and encodes one record, also passing every feature's value as read to
   * {@code profile} (when not null): features after a rejected one are still read for the profile,
   * so that each record counts once per feature whatever its outcome.
   */
  FeatureOutcome encode(Map<String, ?> raw, @Nullable CellSink profile) {
    float[] out = new float[size];
    List<String> missing = new ArrayList<>(0);
    Map<String, String> categories = crosses.isEmpty() ? null : new HashMap<>();
    String[] error = new String[1];
    int pos = 0;
    for (int fi = 0; fi < features.size(); fi++) {
      Feature f = features.get(fi);
      boolean present = raw.containsKey(f.name);
      Cell c = FeatureValues.read(f, present, raw.get(f.name), true);
      if (profile != null) {
        profile.add(f, c);
      }
      if (c.missing || FeatureValues.MISSING_REQUIRED.equals(c.reason)) {
        missing.add(f.name);
      }
      boolean imputed = false;
      if (c.reason != null) {
        boolean keep = f.onInvalid == InvalidPolicy.KEEP && !FeatureValues.MISSING_REQUIRED.equals(c.reason);
        if (keep && FeatureValues.UNKNOWN_CATEGORY.equals(c.reason)) {
          c.reason = null; // encoded into an OOV bucket (or all zeros without OOV buckets)
        } else if (keep && f.impute != null) {
          c = imputedCell(f);
          imputed = true;
        } else {
          profileRest(raw, fi + 1, profile);
          return reject(f, c.reason, c.message, missing);
        }
      } else if (c.missing) {
        c = imputedCell(f);
        imputed = true;
      }
      int end = encode(f, c, out, pos, error);
      if (end < 0 && f.onInvalid == InvalidPolicy.KEEP && !imputed && f.impute != null) {
        Arrays.fill(out, pos, pos + widths[fi], 0f);
        c = imputedCell(f);
        imputed = true;
        end = encode(f, c, out, pos, error);
      }
      if (end < 0) {
        profileRest(raw, fi + 1, profile);
        return reject(f, FeatureValues.OUT_OF_RANGE, error[0], missing);
      }
      if (f.impute != null && f.impute.indicator) {
        out[end++] = imputed ? 1f : 0f;
      }
      pos = end;
      if (categories != null) {
        categories.put(f.name, c.cat);
      }
    }
    for (Cross cross : crosses) {
      StringBuilder key = new StringBuilder();
      for (int i = 0; i < cross.features.size(); i++) {
        if (i > 0) {
          key.append('\u0001');
        }
        key.append(categories.get(cross.features.get(i)));
      }
      out[pos + StableHash.bucket(key.toString(), cross.buckets)] = 1f;
      pos += cross.buckets;
    }
    return FeatureOutcome.valid(out, missing);
  }

  /** Reads features {@code from..} of a rejected record into {@code profile} only. */
  private void profileRest(Map<String, ?> raw, int from, @Nullable CellSink profile) {
    if (profile == null) {
      return;
    }
    for (int i = from; i < features.size(); i++) {
      Feature f = features.get(i);
      boolean present = raw.containsKey(f.name);
      profile.add(f, FeatureValues.read(f, present, present ? raw.get(f.name) : null, true));
    }
  }

  private static FeatureOutcome reject(Feature f, String reason, String message, List<String> missing) {
    FeatureOutcome.Kind kind =
        f.onInvalid == InvalidPolicy.SKIP ? FeatureOutcome.Kind.SKIPPED : FeatureOutcome.Kind.INVALID;
    return FeatureOutcome.rejected(kind, f.name, reason, message, missing);
  }

  private static Cell imputedCell(Feature f) {
    return FeatureValues.ofStored(f, f.impute.value);
  }

  /** Writes the feature's columns at {@code pos}; returns the end position, or -1 with error[0]. */
  private static int encode(Feature f, Cell c, float[] out, int pos, String[] error) {
    double v = c.num;
    for (Step s : f.transforms) {
      if (s.rewritesValue()) {
        double next = s.rewrite(v);
        if (Double.isNaN(next)) {
          error[0] = s.outOfDomain(f.name, v);
          return -1;
        }
        v = next;
      } else {
        pos = s.encode(f, v, c.cat, c.list, out, pos);
      }
    }
    return pos;
  }
}
