package dev.batchserve.transforms.ingest;

import java.util.Objects;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How one top-level Parquet column is read: {@code TIMESTAMP} of any unit, adjusted to UTC or not
 * (a local timestamp is read as UTC wall-clock time), as a {@link java.time.Instant} with all its
 * digits (Beam's {@code NanosInstant}); {@code DATE} as a {@link java.time.LocalDate}; {@code TIME}
 * as a {@link java.time.LocalTime}; {@code DECIMAL} as a {@link java.math.BigDecimal} of the
 * column's scale; anything else as Avro gives it.
 */
final class ParquetColumn implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  enum Kind { PLAIN, TIMESTAMP, DATE, TIME, DECIMAL }

  final Kind kind;
  /** Of a TIMESTAMP or TIME: nanoseconds per stored unit (1, 1000, 1000000). */
  final long nanosPerUnit;
  /** Of a DECIMAL. */
  final int scale;
  /** For messages: the Parquet logical type. */
  final String description;

  private ParquetColumn(Kind kind, long nanosPerUnit, int scale, String description) {
    this.kind = kind;
    this.nanosPerUnit = nanosPerUnit;
    this.scale = scale;
    this.description = description;
  }

  static final ParquetColumn PLAIN = new ParquetColumn(Kind.PLAIN, 0, 0, "its physical type");

  static ParquetColumn of(org.apache.parquet.schema.Type type) {
    if (!type.isPrimitive() || type.getLogicalTypeAnnotation() == null) {
      return PLAIN;
    }
    org.apache.parquet.schema.LogicalTypeAnnotation a = type.getLogicalTypeAnnotation();
    String description = a.toString();
    if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation) {
      return new ParquetColumn(Kind.TIMESTAMP, nanosPerUnit(
          ((org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation) a).getUnit()), 0,
          description);
    }
    if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation) {
      return new ParquetColumn(Kind.TIME, nanosPerUnit(
          ((org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation) a).getUnit()), 0,
          description);
    }
    if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DateLogicalTypeAnnotation) {
      return new ParquetColumn(Kind.DATE, 0, 0, description);
    }
    if (a instanceof org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation) {
      return new ParquetColumn(Kind.DECIMAL, 0,
          ((org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation) a).getScale(),
          description);
    }
    return PLAIN;
  }

  /** A column from its writer's Avro type (see {@code ParquetLayout.writerAvroSchema}); PLAIN without a logical type. */
  static ParquetColumn ofAvro(org.apache.avro.Schema type) {
    if (type.getType() == org.apache.avro.Schema.Type.UNION) {
      org.apache.avro.Schema single = null;
      for (org.apache.avro.Schema branch : type.getTypes()) {
        if (branch.getType() != org.apache.avro.Schema.Type.NULL) {
          if (single != null) {
            return PLAIN;
          }
          single = branch;
        }
      }
      return single == null ? PLAIN : ofAvro(single);
    }
    org.apache.avro.LogicalType logical = type.getLogicalType();
    if (logical == null) {
      return PLAIN;
    }
    String description = "Avro " + logical.getName();
    switch (logical.getName()) {
      case "timestamp-millis":
      case "local-timestamp-millis":
        return new ParquetColumn(Kind.TIMESTAMP, 1_000_000L, 0, description);
      case "timestamp-micros":
      case "local-timestamp-micros":
        return new ParquetColumn(Kind.TIMESTAMP, 1_000L, 0, description);
      case "timestamp-nanos":
      case "local-timestamp-nanos":
        return new ParquetColumn(Kind.TIMESTAMP, 1L, 0, description);
      case "date":
        return new ParquetColumn(Kind.DATE, 0, 0, description);
      case "time-millis":
        return new ParquetColumn(Kind.TIME, 1_000_000L, 0, description);
      case "time-micros":
        return new ParquetColumn(Kind.TIME, 1_000L, 0, description);
      case "decimal":
        return new ParquetColumn(Kind.DECIMAL, 0, ((org.apache.avro.LogicalTypes.Decimal) logical).getScale(),
            description);
      default:
        return PLAIN;
    }
  }

  private static long nanosPerUnit(org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit unit) {
    switch (unit) {
      case MILLIS:
        return 1_000_000L;
      case MICROS:
        return 1_000L;
      case NANOS:
        return 1L;
      default:
        throw new IllegalArgumentException("unknown Parquet time unit " + unit);
    }
  }

  FieldType fieldType() {
    switch (kind) {
      case TIMESTAMP:
        return FieldType.logicalType(new org.apache.beam.sdk.schemas.logicaltypes.NanosInstant());
      case DATE:
        return FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE);
      case TIME:
        return FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.TIME);
      case DECIMAL:
        return FieldType.DECIMAL;
      default:
        throw new IllegalStateException("a plain column keeps the type Avro gives it");
    }
  }

  /** The row value of a non-null stored value (raw, or already converted by the Avro data model). */
  Object convert(Object v, String field) {
    switch (kind) {
      case TIMESTAMP:
        if (v instanceof Long) {
          long units = (Long) v;
          long perSecond = 1_000_000_000L / nanosPerUnit;
          return java.time.Instant.ofEpochSecond(Math.floorDiv(units, perSecond),
              Math.floorMod(units, perSecond) * nanosPerUnit);
        }
        if (v instanceof java.time.Instant) {
          return v;
        }
        if (v instanceof java.time.LocalDateTime) {
          return ((java.time.LocalDateTime) v).toInstant(java.time.ZoneOffset.UTC);
        }
        break;
      case DATE:
        if (v instanceof Integer) {
          return java.time.LocalDate.ofEpochDay((Integer) v);
        }
        if (v instanceof java.time.LocalDate) {
          return v;
        }
        break;
      case TIME:
        if (v instanceof Integer || v instanceof Long) {
          return java.time.LocalTime.ofNanoOfDay(((Number) v).longValue() * nanosPerUnit);
        }
        if (v instanceof java.time.LocalTime) {
          return v;
        }
        break;
      case DECIMAL:
        if (v instanceof java.math.BigDecimal) {
          return v;
        }
        if (v instanceof Integer || v instanceof Long) {
          return java.math.BigDecimal.valueOf(((Number) v).longValue(), scale);
        }
        if (v instanceof java.nio.ByteBuffer) {
          java.nio.ByteBuffer buffer = ((java.nio.ByteBuffer) v).duplicate();
          byte[] bytes = new byte[buffer.remaining()];
          buffer.get(bytes);
          return new java.math.BigDecimal(new java.math.BigInteger(bytes), scale);
        }
        if (v instanceof org.apache.avro.generic.GenericFixed) {
          return new java.math.BigDecimal(new java.math.BigInteger(((org.apache.avro.generic.GenericFixed) v).bytes()),
              scale);
        }
        break;
      default:
        return v;
    }
    throw new IllegalStateException("Parquet column '" + field + "' (" + description + ") holds a "
        + v.getClass().getName() + ", which is not a stored " + kind + " value");
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ParquetColumn && ((ParquetColumn) o).kind == kind
        && ((ParquetColumn) o).nanosPerUnit == nanosPerUnit && ((ParquetColumn) o).scale == scale;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, nanosPerUnit, scale);
  }

  @Override
  public String toString() {
    return description;
  }
}
