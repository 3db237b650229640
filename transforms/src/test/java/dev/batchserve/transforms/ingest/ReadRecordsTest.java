package dev.batchserve.transforms.ingest;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import dev.batchserve.transforms.values.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ReadRecordsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final transient TemporaryFolder tmp = new TemporaryFolder();

  private Path csv(String content) throws Exception {
    Path f = tmp.newFile("in.csv").toPath();
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  @Test
  public void csvRowsAreKeyedAndBadLinesAreDeadLettersWithTheirReason() throws Exception {
    Path f = csv("id,region,amount\n"
        + "a1,eu,10.5\n"
        + "a2,\"us, east\",\n"
        + "a3,eu\n"
        + ",eu,3\n"
        + "a4,\"unterminated,1\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    assertThat(s.getFieldNames(), is(java.util.List.of("id", "region", "amount")));
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("a1", Row.withSchema(s).addValues("a1", "eu", "10.5").build()),
        KV.of("a2", Row.withSchema(s).addValues("a2", "us, east", null).build()));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> reasons = new TreeMap<>();
      for (DeadLetter d : dead) {
        reasons.put(d.getRecord(), d.getStep() + ":" + d.getReason());
      }
      assertThat(reasons, is(Map.of(
          "a3,eu", "read:wrong_column_count",
          ",eu,3", "read:missing_key",
          "a4,\"unterminated,1", "read:malformed_line")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void jsonLinesKeepTheNamedColumnsAsTextAndRejectBadLines() throws Exception {
    Path f = tmp.getRoot().toPath().resolve("in.jsonl");
    Files.writeString(f, String.join("\n",
        "{\"id\": \"j1\", \"amount\": 12.5, \"flag\": true, \"extra\": 1}",
        "{\"id\": \"j2\", \"tags\": [1, 2]}",
        "{\"id\": \"j3\", \"amount\": ",
        "[1, 2]",
        "{\"amount\": 1}",
        ""), StandardCharsets.UTF_8);
    ReadRecords.Result r = p.apply(ReadRecords.jsonLines(f.toString()).withKeyColumns("id")
        .withColumns(java.util.List.of("amount", "flag", "tags")));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    assertThat(s.getFieldNames(), is(java.util.List.of("id", "amount", "flag", "tags")));
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("j1", Row.withSchema(s).addValues("j1", "12.5", "true", null).build()),
        KV.of("j2", Row.withSchema(s).addValues("j2", null, null, "[1,2]").build()));
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> reasons = new TreeMap<>();
      for (DeadLetter d : dead) {
        reasons.put(d.getRecord(), d.getReason());
      }
      assertThat(reasons, is(Map.of(
          "{\"id\": \"j3\", \"amount\": ", "malformed_json",
          "[1, 2]", "not_an_object",
          "{\"amount\": 1}", "missing_key")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void compositeKeysJoinTheirColumns() throws Exception {
    Path f = csv("user,item,x\nu1,i9,1\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("user", "item"));
    PAssert.that(r.records()).satisfies(rows -> {
      assertThat(rows.iterator().next().getKey(), is("u1|i9"));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void wholeFileProblemsFailAtConstructionNamingTheCause() throws Exception {
    Path f = csv("id,amount\na,1\n");
    IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.csv(f.toString()).withKeyColumns("account_id")));
    assertThat(noKey.getMessage(), containsString("key column 'account_id' is not in"));
    IllegalArgumentException noFile = assertThrows(IllegalArgumentException.class,
        () -> p.apply("Missing", ReadRecords.csv(tmp.getRoot() + "/nothing-*.csv").withKeyColumns("id")));
    assertThat(noFile.getMessage(), containsString("no input file matches"));
    Path empty = tmp.newFile("empty.csv").toPath();
    IllegalArgumentException emptyFile = assertThrows(IllegalArgumentException.class,
        () -> p.apply("Empty", ReadRecords.csv(empty.toString()).withKeyColumns("id")));
    assertThat(emptyFile.getMessage(), containsString("is empty: a header line is required"));
    Path truncated = tmp.newFile("bad.parquet").toPath();
    Files.write(truncated, new byte[] {'P', 'A', 'R', '1', 0, 0, 0});
    IllegalArgumentException badParquet = assertThrows(IllegalArgumentException.class,
        () -> p.apply("Truncated", ReadRecords.parquet(truncated.toString()).withKeyColumns("id")));
    assertThat(badParquet.getMessage(), containsString("cannot read the Parquet footer of"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ReadRecords.Format.fromPattern("x.orc")).getMessage(),
        containsString("cannot tell the input format"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void parquetRowsKeepTheFileTypes() throws Exception {
    Schema avro = SchemaBuilder.record("R").fields().requiredString("id").optionalDouble("amount").endRecord();
    Path f = tmp.getRoot().toPath().resolve("in.parquet");
    try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration())).withSchema(avro).build()) {
      GenericRecord a = new GenericData.Record(avro);
      a.put("id", "p1");
      a.put("amount", 2.5);
      w.write(a);
      GenericRecord b = new GenericData.Record(avro);
      b.put("id", "p2");
      b.put("amount", null);
      w.write(b);
    }
    ReadRecords.Result r = p.apply(ReadRecords.parquet(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("p1", Row.withSchema(s).addValues("p1", 2.5).build()),
        KV.of("p2", Row.withSchema(s).addValues("p2", null).build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  public void theFlatParquetRowIsTheRowAvroUtilsBuilds() {
    Schema avro = SchemaBuilder.record("R").fields().requiredString("id").optionalLong("n").optionalInt("i")
        .optionalDouble("d").optionalFloat("f").optionalBoolean("b").optionalString("s").endRecord();
    org.apache.beam.sdk.schemas.Schema beam =
        org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils.toBeamSchema(avro);
    ReadRecords.ToRow toRow = new ReadRecords.ToRow(beam);
    GenericRecord full = new GenericData.Record(avro);
    full.put("id", new org.apache.avro.util.Utf8("a1"));
    full.put("n", 7L);
    full.put("i", 3);
    full.put("d", 2.5);
    full.put("f", 1.5f);
    full.put("b", true);
    full.put("s", "x");
    GenericRecord empty = new GenericData.Record(avro);
    empty.put("id", "a2");
    for (GenericRecord r : java.util.List.of(full, empty)) {
      Row fast = toRow.apply(r);
      assertThat(fast, is(org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils.toBeamRowStrict(r, beam)));
      assertThat(fast.getValue("id") instanceof String, is(true));
    }
    GenericRecord noKey = new GenericData.Record(SchemaBuilder.record("R").fields().optionalString("id").endRecord());
    assertThrows(IllegalArgumentException.class, () -> toRow.apply(noKey));
  }
}
