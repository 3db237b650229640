package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.Prediction;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The pass-through columns a sink writes ({@link Prediction#getPassThrough()}), in the order they were
 * configured, each as a nullable text value. The sinks that have a schema need the names when the
 * pipeline is built, so they are told them ({@code withPassThroughColumns}); each value is looked up
 * by its name in the prediction's map, null when the prediction has none (a cold-start key) or the
 * value is null.
 *
 * <p>Where they go: files (Parquet) and BigQuery, which have nested records, get them as the record
 * {@link #FIELD} ({@code pass_through.row_id}), like the JSON lines' nested object; JDBC tables are flat
 * and get one column {@code pass_through_<name>} each ({@link #flatName}). Neither can clash with
 * the prediction's own fields ({@code label} is both a prediction field and a common input column).
 *
 * <p>Public for the store connectors in their own artifacts (the JDBC sink of {@code batchserve-io-jdbc},
 * the BigQuery sink of {@code batchserve-io-gcp}), which configure their pass-through columns through it; a job never calls it.
 */
public final class PassThroughColumns implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The nested record's name (as the JSON lines' object). */
  public static final String FIELD = "pass_through";
  /** The prefix of a flat column ({@link #flatName}). */
  static final String FLAT_PREFIX = FIELD + "_";

  /** A name that Avro/Parquet and BigQuery both accept as a field name. */
  private static final Pattern NESTED_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  public static final PassThroughColumns NONE = new PassThroughColumns(List.of());

  private final List<String> names;

  private PassThroughColumns(List<String> names) {
    this.names = List.copyOf(names);
  }

  /** The names as given, checked to be set and distinct (store-specific rules are checked by each sink). */
  public static PassThroughColumns of(List<String> names) {
    Objects.requireNonNull(names, "passThroughColumns");
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      checkArgument(n != null && !n.isBlank(), "pass-through column names must be set, but were %s", names);
      checkArgument(seen.add(n), "pass-through column '%s' is named twice in %s", n, names);
    }
    return new PassThroughColumns(names);
  }

  public List<String> names() {
    return names;
  }

  public boolean isEmpty() {
    return names.isEmpty();
  }

  /**
   * Refuses a name that is not a field name of a nested record in {@code store} ({@code Parquet},
   * {@code BigQuery}): letters, digits and {@code _}, not starting with a digit, at most 128 characters.
   */
  public PassThroughColumns checkNestedNames(String store) {
    for (String n : names) {
      checkArgument(NESTED_NAME.matcher(n).matches(),
          "pass-through column '%s' cannot be a %s field name (it must match %s): drop it from"
              + " --passThroughColumns (withPassThroughColumns) or rename the input column",
          n, store, NESTED_NAME.pattern());
    }
    return this;
  }

  /** {@code pass_through_<name>}: a flat column's name. */
  public static String flatName(String name) {
    return FLAT_PREFIX + name;
  }

  /** The values in column order, null where the prediction has none. */
  public List<@Nullable String> values(Prediction p) {
    Map<String, @Nullable String> m = p.getPassThrough();
    List<@Nullable String> out = new ArrayList<>(names.size());
    for (String n : names) {
      out.add(m.get(n));
    }
    return out;
  }

  /** The nested record's Beam schema: one nullable string per column. */
  Schema nestedSchema() {
    Schema.Builder b = Schema.builder();
    for (String n : names) {
      b.addNullableField(n, FieldType.STRING);
    }
    return b.build();
  }

  /** {@link Prediction#SCHEMA}, plus the record {@link #FIELD} last when there are columns. */
  Schema rowSchema() {
    if (names.isEmpty()) {
      return Prediction.SCHEMA;
    }
    return Schema.builder().addFields(Prediction.SCHEMA.getFields())
        .addRowField(FIELD, nestedSchema()).build();
  }

  /** The keyed row in {@link #rowSchema()} layout. */
  Row toRow(String key, Prediction p, Schema rowSchema) {
    Row row = p.toRow(key);
    if (names.isEmpty()) {
      return row;
    }
    List<@Nullable Object> values = new ArrayList<>(row.getValues());
    values.add(Row.withSchema(Objects.requireNonNull(rowSchema.getField(FIELD).getType().getRowSchema()))
        .attachValues(new ArrayList<Object>(values(p))));
    return Row.withSchema(rowSchema).attachValues(values);
  }
}
