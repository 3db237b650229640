package dev.batchserve.transforms.features;

import java.util.ArrayList;
import java.util.List;
import org.checkerframework.checker.nullness.qual.Nullable;

/** {@code dateparts}: the given calendar parts (UTC) of a timestamp, one column each. */
final class DatePartsStep extends Step {
  private static final long serialVersionUID = 1L;

  @Nullable List<DatePart> parts;

  DatePartsStep() {}

  DatePartsStep(List<DatePart> parts) {
    this.parts = new ArrayList<>(parts);
  }

  @Override
  public StepKind kind() {
    return StepKind.DATEPARTS;
  }

  @Override
  List<DatePart> dateParts() {
    return parts == null ? List.of() : parts;
  }

  @Override
  void check(String k, Feature f, boolean fitted) {
    if (f.type != FeatureType.TIMESTAMP) {
      throw new IllegalArgumentException(k + "needs a timestamp feature, not " + f.type.json());
    }
    if (parts == null || parts.isEmpty()) {
      throw new IllegalArgumentException(k + "needs at least one date part");
    }
  }

  @Override
  boolean addNames(Feature f, String base, List<String> names) {
    for (DatePart part : parts) {
      names.add(nameOr(f.name) + "_" + part.json());
    }
    return true;
  }

  @Override
  int encode(Feature f, double v, @Nullable String cat, double @Nullable [] list, float[] out, int pos) {
    java.time.ZonedDateTime t = java.time.Instant.ofEpochMilli((long) v).atZone(java.time.ZoneOffset.UTC);
    for (DatePart part : parts) {
      out[pos++] = part.valueAt(t);
    }
    return pos;
  }

  @Override
  List<?> parameters() {
    return values(parts);
  }
}
