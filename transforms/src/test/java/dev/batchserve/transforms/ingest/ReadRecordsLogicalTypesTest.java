package dev.batchserve.transforms.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.FeatureSpecBuilder;
import dev.batchserve.transforms.features.FeatureTransform;
import dev.batchserve.transforms.features.FeatureVector;
import dev.batchserve.transforms.values.DeadLetter;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.schemas.Schema.TypeName;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 21: Parquet logical types arrive as exact Java values (a TIMESTAMP(MICROS) column was read
 * as epoch milliseconds, its date parts computed for the year ~33,000), feature values and date
 * parts are those of the instant, and a key built from a timestamp has one text whatever the
 * source encoding.
 */
public class ReadRecordsLogicalTypesTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  /** A leap day, late, with every sub-second digit set: each unit keeps its own. */
  private static final Instant T = Instant.parse("2024-02-29T23:59:58.123456789Z");
  private static final long T_MICROS = T.getEpochSecond() * 1_000_000L + T.getNano() / 1_000;
  private static final long T_MILLIS = T.toEpochMilli();

  private static Schema logical(org.apache.avro.LogicalType type, Schema.Type base) {
    return type.addToSchema(Schema.create(base));
  }

  private static Schema allLogicalTypes() {
    return SchemaBuilder.record("R").fields()
        .requiredString("id")
        .name("ts_millis").type(logical(LogicalTypes.timestampMillis(), Schema.Type.LONG)).noDefault()
        .name("ts_micros").type(logical(LogicalTypes.timestampMicros(), Schema.Type.LONG)).noDefault()
        .name("local_millis").type(logical(LogicalTypes.localTimestampMillis(), Schema.Type.LONG)).noDefault()
        .name("local_micros").type(logical(LogicalTypes.localTimestampMicros(), Schema.Type.LONG)).noDefault()
        .name("day").type(logical(LogicalTypes.date(), Schema.Type.INT)).noDefault()
        .name("tod_millis").type(logical(LogicalTypes.timeMillis(), Schema.Type.INT)).noDefault()
        .name("tod_micros").type(logical(LogicalTypes.timeMicros(), Schema.Type.LONG)).noDefault()
        .name("amount").type(logical(LogicalTypes.decimal(9, 2), Schema.Type.BYTES)).noDefault()
        .name("maybe_ts").type(SchemaBuilder.unionOf().nullType().and()
            .type(logical(LogicalTypes.timestampMicros(), Schema.Type.LONG)).endUnion()).withDefault(null)
        .endRecord();
  }

  private Path writeAllLogicalTypes(String name) throws Exception {
    Schema avro = allLogicalTypes();
    Path f = tmp.getRoot().toPath().resolve(name);
    try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration())).withSchema(avro).build()) {
      GenericRecord a = new GenericData.Record(avro);
      a.put("id", "p1");
      a.put("ts_millis", T_MILLIS);
      a.put("ts_micros", T_MICROS);
      a.put("local_millis", T_MILLIS);
      a.put("local_micros", T_MICROS);
      a.put("day", (int) LocalDate.of(2024, 2, 29).toEpochDay());
      a.put("tod_millis", 23 * 3_600_000 + 59 * 60_000 + 58_123);
      a.put("tod_micros", (23 * 3_600_000L + 59 * 60_000 + 58_123) * 1000 + 456);
      a.put("amount", ByteBuffer.wrap(new BigDecimal("-1234567.89").unscaledValue().toByteArray()));
      a.put("maybe_ts", null);
      w.write(a);
    }
    return f;
  }

  @Test
  public void eachParquetLogicalTypeArrivesAsItsExactJavaValue() throws Exception {
    Path f = writeAllLogicalTypes("all.parquet");
    ReadRecords.Result r = p.apply(ReadRecords.parquet(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    for (String ts : List.of("ts_millis", "ts_micros", "local_millis", "local_micros", "maybe_ts")) {
      assertThat(ts + ": " + s, s.getField(ts).getType().getTypeName(), is(TypeName.LOGICAL_TYPE));
      assertThat(ts, s.getField(ts).getType().getLogicalType().getIdentifier(),
          is(org.apache.beam.sdk.schemas.logicaltypes.NanosInstant.IDENTIFIER));
    }
    assertThat(s.getField("maybe_ts").getType().getNullable(), is(true));
    assertThat(s.getField("ts_micros").getType().getNullable(), is(false));
    assertThat(s.getField("amount").getType().getTypeName(), is(TypeName.DECIMAL));
    Instant millis = Instant.parse("2024-02-29T23:59:58.123Z");
    Instant micros = Instant.parse("2024-02-29T23:59:58.123456Z");
    PAssert.that(r.records()).containsInAnyOrder(KV.of("p1", Row.withSchema(s).addValues("p1",
        millis, micros, millis, micros, LocalDate.of(2024, 2, 29), LocalTime.parse("23:59:58.123"),
        LocalTime.parse("23:59:58.123456"), new BigDecimal("-1234567.89"), null).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  /** Nanosecond timestamps and times, and decimals stored as INT32/INT64, which the Avro view drops. */
  @Test
  public void nanosecondTimestampsAndIntegerDecimalsKeepEveryDigit() throws Exception {
    MessageType type = MessageTypeParser.parseMessageType("message m {\n"
        + "  required binary id (STRING);\n"
        + "  required int64 ts_nanos (TIMESTAMP(NANOS,true));\n"
        + "  optional int64 local_nanos (TIMESTAMP(NANOS,false));\n"
        + "  required int64 before_epoch (TIMESTAMP(MICROS,true));\n"
        + "  required int32 small (DECIMAL(9,2));\n"
        + "  required int64 big (DECIMAL(18,4));\n"
        + "  required int64 tod_nanos (TIME(NANOS,true));\n"
        + "}");
    Path f = tmp.getRoot().toPath().resolve("nanos.parquet");
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration()))
        .withType(type).build()) {
      long nanos = T.getEpochSecond() * 1_000_000_000L + T.getNano();
      w.write(new SimpleGroupFactory(type).newGroup().append("id", "n1").append("ts_nanos", nanos)
          .append("local_nanos", nanos).append("before_epoch", -1L).append("small", -12345)
          .append("big", 123456789012345678L).append("tod_nanos", 86_399_999_999_999L));
    }
    ReadRecords.Result r = p.apply(ReadRecords.parquet(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    PAssert.that(r.records()).containsInAnyOrder(KV.of("n1", Row.withSchema(s).addValues("n1", T, T,
        Instant.parse("1969-12-31T23:59:59.999999Z"), new BigDecimal("-123.45"),
        new BigDecimal("12345678901234.5678"), LocalTime.parse("23:59:59.999999999")).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  /** The issue's report: date parts of a TIMESTAMP(MICROS) column were those of the year ~33,000. */
  @Test
  public void datePartsAndNumbersAreThoseOfTheInstantWhateverTheUnit() throws Exception {
    Path f = writeAllLogicalTypes("all.parquet");
    FeatureSpecBuilder b = FeatureSpec.builder();
    for (String ts : List.of("ts_millis", "ts_micros", "local_millis", "local_micros", "day")) {
      b.timestamp(ts).dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK,
          DatePart.DAY_OF_MONTH, DatePart.MONTH);
    }
    // Date parts and a plain number need no statistics: fitted on the one row, as Java values.
    FeatureSpec spec = FeatureSpec.fit(b.numeric("amount").passthrough().build(), List.of(Map.of("ts_millis", T, "ts_micros", T,
        "local_millis", T, "local_micros", T, "day", LocalDate.of(2024, 2, 29), "amount", new BigDecimal("-1234567.89"))));
    ReadRecords.Result r = p.apply(ReadRecords.parquet(f.toString()).withKeyColumns("id"));
    FeatureTransform.Result<String> out = r.records().apply(FeatureTransform.of(spec));
    Map<String, Float> expected = new HashMap<>();
    for (String ts : List.of("ts_millis", "ts_micros", "local_millis", "local_micros")) {
      expected.put(ts + "_hour", 23f);
      expected.put(ts + "_day_of_week", 4f); // Thursday
      expected.put(ts + "_day_of_month", 29f);
      expected.put(ts + "_month", 2f);
    }
    expected.put("day_hour", 0f);
    expected.put("day_day_of_week", 4f);
    expected.put("day_day_of_month", 29f);
    expected.put("day_month", 2f);
    expected.put("amount", -1234567.89f);
    assertThat(spec.outputNames().toString(), spec.outputNames().size(), is(expected.size()));
    float[] vector = new float[spec.outputSize()];
    for (Map.Entry<String, Float> e : expected.entrySet()) {
      vector[spec.outputIndex(e.getKey())] = e.getValue();
    }
    assertThat(spec.outputNames().size(), is(expected.size()));
    PAssert.that(out.vectors()).containsInAnyOrder(KV.of("p1", FeatureVector.of(vector)));
    PAssert.that(out.deadLetters()).empty();
    PAssert.that(out.skipped()).empty();
    p.run().waitUntilFinish();
  }

  /** The fitted spec stored microsecond statistics; a fit sees epoch milliseconds whatever the unit. */
  @Test
  public void fittingSeesEpochMillisecondsOfAMicrosecondInstant() {
    FeatureSpec template = FeatureSpec.builder().timestamp("ts").build();
    List<Map<String, ?>> rows = new ArrayList<>();
    rows.add(Map.of("ts", Instant.parse("2024-02-29T23:59:58.123456Z")));
    rows.add(Map.of("ts", T_MILLIS));
    FeatureSpec fitted = FeatureSpec.fit(template, rows);
    assertThat(fitted.feature("ts").stats().min(), is((double) T_MILLIS));
    assertThat(fitted.feature("ts").stats().max(), is((double) T_MILLIS));
  }

  private Path file(String name, String content) throws Exception {
    Path f = tmp.getRoot().toPath().resolve(name);
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  /** A CSV timestamp in a feature's own format gives the date parts of the Parquet instant; other text is a dead letter. */
  @Test
  public void aCsvTimestampInTheFeaturesFormatGivesTheSameDatePartsAndBadTextIsADeadLetter() throws Exception {
    Path csv = file("events.csv", "id,ts\nc1,2024-02-29 23:59:58\nc2,2024-02-29T23:59:58Z\n");
    FeatureSpec spec = FeatureSpec.fit(FeatureSpec.builder().timestamp("ts").format("yyyy-MM-dd HH:mm:ss")
            .dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK).build(),
        List.of(Map.of("ts", "2024-02-29 23:59:58")));
    FeatureTransform.Result<String> out = p.apply(ReadRecords.csv(csv.toString()).withKeyColumns("id"))
        .records().apply(FeatureTransform.of(spec));
    PAssert.that(out.vectors()).containsInAnyOrder(KV.of("c1", FeatureVector.of(new float[] {23f, 4f})));
    PAssert.that(out.deadLetters()).satisfies(dead -> {
      DeadLetter d = dead.iterator().next();
      assertThat(d.getKey() + "|" + d.getField() + "|" + d.getReason(), is("c2|ts|unparsable"));
      assertThat(d.getDetail(), containsString("cannot parse ts as a timestamp in format 'yyyy-MM-dd HH:mm:ss':"
          + " '2024-02-29T23:59:58Z'"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /** The issue: {@code 978307260000000|...} from micros, {@code 2001-01-01T00:01:00.000Z|...} from millis. */
  @Test
  public void aTimestampKeyHasOneTextWhateverTheSourceEncoding() throws Exception {
    Instant t = Instant.parse("2001-01-01T00:01:00Z");
    Schema avro = SchemaBuilder.record("R").fields()
        .requiredString("user")
        .name("ts").type(logical(LogicalTypes.timestampMicros(), Schema.Type.LONG)).noDefault()
        .name("ts_millis").type(logical(LogicalTypes.timestampMillis(), Schema.Type.LONG)).noDefault()
        .endRecord();
    Path parquet = tmp.getRoot().toPath().resolve("keys.parquet");
    try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(parquet.toUri()), new Configuration()))
        .withSchema(avro).build()) {
      GenericRecord a = new GenericData.Record(avro);
      a.put("user", "u|1");
      a.put("ts", 978307260000000L);
      a.put("ts_millis", t.toEpochMilli());
      w.write(a);
    }
    Path iso = file("iso.csv", "user,ts\nu|1,2001-01-01T00:01:00.000Z\n");
    Path offset = file("offset.jsonl", "{\"user\": \"u|1\", \"ts\": \"2001-01-01T01:01:00+01:00\"}\n");
    Path custom = file("custom.csv", "user,ts\nu|1,01/01/2001 00:01:00\nu|2,2001-01-01\n");
    Path bigQueryText = file("bq.csv", "user,ts\nu|1,2001-01-01 00:01:00 UTC\n");

    List<PCollection<String>> keys = new ArrayList<>();
    keys.add(keys("Micros", p.apply("ReadMicros", ReadRecords.parquet(parquet.toString()).withKeyColumns("user", "ts"))));
    keys.add(keys("Millis", p.apply("ReadMillis",
        ReadRecords.parquet(parquet.toString()).withKeyColumns("user", "ts_millis"))));
    keys.add(keys("Iso", p.apply("ReadIso",
        ReadRecords.csv(iso.toString()).withKeyColumns("user", "ts").withKeyTimestamp("ts"))));
    keys.add(keys("Offset", p.apply("ReadOffset", ReadRecords.jsonLines(offset.toString())
        .withKeyColumns("user", "ts").withKeyTimestamp("ts"))));
    keys.add(keys("BigQueryText", p.apply("ReadBigQueryText",
        ReadRecords.csv(bigQueryText.toString()).withKeyColumns("user", "ts").withKeyTimestamp("ts"))));
    ReadRecords.Result customRead = p.apply("ReadCustom", ReadRecords.csv(custom.toString())
        .withKeyColumns("user", "ts").withKeyTimestamp("ts", "MM/dd/yyyy HH:mm:ss"));
    keys.add(keys("Custom", customRead));
    for (PCollection<String> k : keys) {
      PAssert.that(k).containsInAnyOrder("u\\|1|2001-01-01T00:01:00Z");
    }
    PAssert.that(customRead.deadLetters()).satisfies(dead -> {
      DeadLetter d = dead.iterator().next();
      assertThat(d.getReason(), is("unparsable_key"));
      assertThat(d.getDetail(), containsString("the key column 'ts' is not a timestamp in format"
          + " 'MM/dd/yyyy HH:mm:ss': '2001-01-01'"));
      assertThat(d.getRecord(), is("u|2,2001-01-01"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  private static PCollection<String> keys(String name, ReadRecords.Result r) {
    return r.records().apply(name + "Keys", MapElements.into(TypeDescriptors.strings()).via(KV::getKey));
  }

  /** What the launcher does: key columns the spec reads as timestamps key by their instant, in the feature's format. */
  @Test
  public void keyColumnsThatAreTimestampFeaturesOfTheSpecKeyByTheirInstant() throws Exception {
    Path csv = file("spec.csv", "user,ts,day\nu1,978307260000,02/01/2001\nu2,2001-01-01 00:01:00,02/01/2001\n");
    FeatureSpec spec = FeatureSpec.builder().timestamp("ts").timestamp("day").format("dd/MM/yyyy").build();
    ReadRecords.Result bySpec = p.apply("BySpec", ReadRecords.csv(csv.toString())
        .withKeyTimestampsOf(spec).withKeyColumns("user", "ts", "day"));
    PAssert.that(keys("BySpec", bySpec)).containsInAnyOrder(
        "u1|2001-01-01T00:01:00Z|2001-01-02T00:00:00Z", "u2|2001-01-01T00:01:00Z|2001-01-02T00:00:00Z");
    // An explicit declaration wins over the spec's; a timestamp feature that is not a key is left alone.
    ReadRecords.Result explicit = p.apply("Explicit", ReadRecords.csv(csv.toString()).withKeyColumns("user", "day")
        .withKeyTimestamp("day", "MM/dd/yyyy").withKeyTimestampsOf(spec));
    PAssert.that(keys("Explicit", explicit)).containsInAnyOrder(
        "u1|2001-02-01T00:00:00Z", "u2|2001-02-01T00:00:00Z");
    ReadRecords.Result plain = p.apply("Plain", ReadRecords.csv(csv.toString()).withKeyColumns("user", "ts"));
    PAssert.that(keys("Plain", plain)).containsInAnyOrder("u1|978307260000", "u2|2001-01-01 00:01:00");
    p.run().waitUntilFinish();
  }

  @Test
  public void aKeyTimestampMustBeAKeyColumnWithAValidFormat() throws Exception {
    Path iso = file("iso.csv", "user,ts\nu1,2001-01-01T00:01:00Z\n");
    IllegalArgumentException notKey = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.csv(iso.toString()).withKeyColumns("user").withKeyTimestamp("ts")));
    assertThat(notKey.getMessage(), is("withKeyTimestamp(\"ts\") names a column that is not a key column"
        + " (key columns: [user])"));
    IllegalArgumentException badFormat = assertThrows(IllegalArgumentException.class,
        () -> ReadRecords.csv(iso.toString()).withKeyTimestamp("ts", "yyyy-MM-dd {"));
    assertThat(badFormat.getMessage(), containsString("timestamp format 'yyyy-MM-dd {' is not a java.time"
        + " DateTimeFormatter pattern"));
    p.enableAbandonedNodeEnforcement(false);
  }

  /** Files of one pattern with one column in two units would be read with the first file's unit. */
  @Test
  public void aParquetFileWithAnotherTimestampUnitIsRefusedAtConstruction() throws Exception {
    for (String[] file : List.of(new String[] {"u-1.parquet", "millis"}, new String[] {"u-2.parquet", "micros"})) {
      Schema avro = SchemaBuilder.record("R").fields().requiredString("id")
          .name("ts").type(logical(file[1].equals("millis") ? LogicalTypes.timestampMillis()
              : LogicalTypes.timestampMicros(), Schema.Type.LONG)).noDefault()
          .endRecord();
      try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(HadoopOutputFile.fromPath(
          new org.apache.hadoop.fs.Path(tmp.getRoot().toPath().resolve(file[0]).toUri()), new Configuration()))
          .withSchema(avro).build()) {
        GenericRecord a = new GenericData.Record(avro);
        a.put("id", "x");
        a.put("ts", 1L);
        w.write(a);
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.parquet(tmp.getRoot() + "/u-*.parquet").withKeyColumns("id")));
    assertThat(e.getMessage(), containsString("u-2.parquet has column 'ts' as TIMESTAMP(MICROS,true), but "));
    assertThat(e.getMessage(), containsString("u-1.parquet has it as TIMESTAMP(MILLIS,true)"));
    p.enableAbandonedNodeEnforcement(false);
  }

  /** Legacy INT96 timestamps (Spark, Impala) are not read: refused at construction, naming the file. */
  @Test
  public void anInt96TimestampIsRefusedAtConstructionNamingTheFile() throws Exception {
    MessageType type = MessageTypeParser.parseMessageType(
        "message m { required binary id (STRING); required int96 ts; }");
    Path f = tmp.getRoot().toPath().resolve("int96.parquet");
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration()))
        .withType(type).build()) {
      w.write(new SimpleGroupFactory(type).newGroup().append("id", "i1")
          .append("ts", org.apache.parquet.io.api.Binary.fromConstantByteArray(new byte[12])));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.parquet(f.toString()).withKeyColumns("id")));
    assertThat(e.getMessage(), containsString("cannot read the Parquet footer of " + f + ": "));
    assertThat(e.getMessage(), containsString("column 'ts' is an INT96 timestamp (a legacy Spark/Impala encoding),"
        + " which is not read: write it as TIMESTAMP(MICROS)"));
    p.enableAbandonedNodeEnforcement(false);
  }
}
