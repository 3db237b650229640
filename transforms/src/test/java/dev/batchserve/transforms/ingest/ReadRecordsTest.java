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
    // Issue 15 item 17: Parquet's own message named "ChannelInputFile@5bbb351e" instead of the file.
    assertThat(badParquet.getMessage(), org.hamcrest.Matchers.not(containsString("ChannelInputFile@")));
    assertThat(badParquet.getMessage(), containsString(truncated + " is not a Parquet file"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ReadRecords.Format.fromPattern("x.orc")).getMessage(),
        containsString("cannot tell the input format"));
    p.enableAbandonedNodeEnforcement(false);
  }

  /** JDBC and BigQuery have sources of their own, which the message names. */
  @Test
  public void jdbcAndBigQueryAreNotFileFormats() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> ReadRecords.of("x", ReadRecords.Format.BIGQUERY))
        .getMessage(), is("BIGQUERY is not a file format: use JdbcRecords.read or BigQueryRecords.fromTable/fromQuery"));
    assertThat(assertThrows(IllegalArgumentException.class, () -> ReadRecords.of("jdbc:x", ReadRecords.Format.JDBC))
        .getMessage(), is("JDBC is not a file format: use JdbcRecords.read or BigQueryRecords.fromTable/fromQuery"));
    assertThat(ReadRecords.Format.fromPattern("bigquery:p:d.t"), is(ReadRecords.Format.BIGQUERY));
    assertThat(ReadRecords.Format.fromPattern("jdbc:postgresql://db/x"), is(ReadRecords.Format.JDBC));
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
    ParquetToRow toRow = new ParquetToRow(beam);
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

  private Path file(String name, byte[] content) throws Exception {
    Path f = tmp.getRoot().toPath().resolve(name);
    Files.write(f, content);
    return f;
  }

  private Path file(String name, String content) throws Exception {
    return file(name, content.getBytes(StandardCharsets.UTF_8));
  }

  /** Issue 15 item 7: the second file's columns were read in the first file's order. */
  @Test
  public void eachCsvFileIsReadWithItsOwnHeader() throws Exception {
    file("part-1.csv", "id,score_a,score_b\nk1,1,2\n");
    file("part-2.csv", "score_b,id,extra,score_a\n20,k2,x,10\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(tmp.getRoot() + "/part-*.csv").withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("k1", Row.withSchema(s).addValues("k1", "1", "2").build()),
        KV.of("k2", Row.withSchema(s).addValues("k2", "10", "20").build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 7: a file lacking a column of the first is refused at start, naming both. */
  @Test
  public void aCsvFileLackingAColumnIsRefusedAtConstruction() throws Exception {
    file("part-1.csv", "id,score_a,score_b\nk1,1,2\n");
    Path second = file("part-2.csv", "id,score_b\nk2,20\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.csv(tmp.getRoot() + "/part-*.csv").withKeyColumns("id")));
    assertThat(e.getMessage(), containsString("CSV file " + second + " has no column 'score_a'"));
    p.enableAbandonedNodeEnforcement(false);
  }

  /** Issue 15 item 7: a Parquet file with another schema failed at run time with a ClassCastException. */
  @Test
  public void aParquetFileWithAnotherSchemaIsRefusedAtConstruction() throws Exception {
    writeParquet(tmp.getRoot().toPath().resolve("p-1.parquet"),
        SchemaBuilder.record("R").fields().requiredString("id").optionalDouble("amount").endRecord(), "amount", 2.5);
    Path second = tmp.getRoot().toPath().resolve("p-2.parquet");
    writeParquet(second,
        SchemaBuilder.record("R").fields().requiredString("id").optionalString("amount").endRecord(), "amount", "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.apply(ReadRecords.parquet(tmp.getRoot() + "/p-*.parquet").withKeyColumns("id")));
    assertThat(e.getMessage(), containsString("Parquet file " + second + " has column 'amount' of type"));
    p.enableAbandonedNodeEnforcement(false);
  }

  private static void writeParquet(Path f, Schema avro, String field, Object value) throws Exception {
    try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(
        HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(f.toUri()), new Configuration())).withSchema(avro).build()) {
      GenericRecord a = new GenericData.Record(avro);
      a.put("id", "p1");
      a.put(field, value);
      w.write(a);
    }
  }

  /** Issue 15 item 8: a line over ~100 KB made TextIO's header skipping read other lines twice. */
  @Test
  public void aVeryLongLineMidFileIsReadOnceAndSoAreTheOthers() throws Exception {
    StringBuilder content = new StringBuilder("id,note\n");
    for (int i = 0; i < 36; i++) {
      content.append("k").append(i).append(',').append(i == 18 ? "x".repeat(150_000) : "n").append('\n');
    }
    Path f = file("long.csv", content.toString());
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("id"));
    PAssert.that(r.records()).satisfies(rows -> {
      java.util.List<String> keys = new java.util.ArrayList<>();
      for (KV<String, Row> kv : rows) {
        keys.add(kv.getKey());
      }
      assertThat(keys.size(), is(36));
      assertThat(new java.util.HashSet<>(keys).size(), is(36));
      return null;
    });
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 9: a quoted newline split one record into two. */
  @Test
  public void aQuotedFieldMayHoldANewline() throws Exception {
    Path f = file("nl.csv", "id,note,x\r\nk1,\"two\nlines\",1\r\nk2,plain,2\r\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("k1", Row.withSchema(s).addValues("k1", "two\nlines", "1").build()),
        KV.of("k2", Row.withSchema(s).addValues("k2", "plain", "2").build()));
    PAssert.that(r.deadLetters()).empty();
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 10: ("acct-p|US","US") and ("acct-p","US|US") had the same key. */
  @Test
  public void compositeKeysOfDistinctTuplesAreDistinct() throws Exception {
    Path f = file("ck.csv", "acct,region,x\nacct-p|US,US,1\nacct-p,US|US,2\n\"a\\\",b,3\na,\\b,4\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("acct", "region"));
    PAssert.that(r.records()).satisfies(rows -> {
      Map<String, String> keys = new TreeMap<>();
      for (KV<String, Row> kv : rows) {
        keys.put(kv.getKey(), kv.getValue().getString("x"));
        assertThat(CompositeKey.parts(kv.getKey(), 2),
            is(java.util.List.of(kv.getValue().getString("acct"), kv.getValue().getString("region"))));
      }
      assertThat(keys, is(Map.of("acct-p\\|US|US", "1", "acct-p|US\\|US", "2", "a\\\\|b", "3", "a|\\\\b", "4")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 11: keys were trimmed, and invalid UTF-8 became U+FFFD, merging distinct keys. */
  @Test
  public void keysAreKeptByteExactOrRejected() throws Exception {
    byte[] head = "id,x\nacct-000001,1\n acct-000001 ,2\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad1 = {'k', (byte) 0xFF, ',', '3', '\n'};
    byte[] bad2 = {'k', (byte) 0xFE, ',', '4', '\n'};
    byte[] badValue = {'k', '5', ',', (byte) 0xC3, '\n'};
    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
    all.write(head);
    all.write(bad1);
    all.write(bad2);
    all.write(badValue);
    all.write("k\u00e9,6\n".getBytes(StandardCharsets.UTF_8));
    String f = file("keys.csv", all.toByteArray()).toString();
    ReadRecords.Result r = p.apply(ReadRecords.csv(f).withKeyColumns("id"));
    PAssert.that(r.records()).satisfies(rows -> {
      Map<String, String> keys = new TreeMap<>();
      for (KV<String, Row> kv : rows) {
        keys.put(kv.getKey(), kv.getValue().getString("x"));
      }
      assertThat(keys, is(Map.of("acct-000001", "1", " acct-000001 ", "2", "k\u00e9", "6")));
      return null;
    });
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> byDetail = new TreeMap<>();
      for (DeadLetter d : dead) {
        byDetail.put(d.getDetail(), d.getReason() + ":" + d.getKey() + ":" + d.getField());
      }
      assertThat(byDetail, is(Map.of(
          f + ":4: the key column 'id' has bytes that are not valid UTF-8", "invalid_utf8:null:id",
          f + ":5: the key column 'id' has bytes that are not valid UTF-8", "invalid_utf8:null:id",
          f + ":6: column 'x' has bytes that are not valid UTF-8", "invalid_utf8:k5:x")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /** Issue 15 item 13: the header of a .csv.gz was read compressed. */
  @Test
  public void gzipCompressedCsvIsRead() throws Exception {
    Path f = tmp.getRoot().toPath().resolve("in.csv.gz");
    try (java.io.OutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(f))) {
      out.write("id,x\nk1,1\nk2,2\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(ReadRecords.Format.fromPattern(f.toString()), is(ReadRecords.Format.CSV));
    ReadRecords.Result r = p.apply(ReadRecords.csv(f.toString()).withKeyColumns("id"));
    org.apache.beam.sdk.schemas.Schema s = r.schema();
    assertThat(s.getFieldNames(), is(java.util.List.of("id", "x")));
    PAssert.that(r.records()).containsInAnyOrder(
        KV.of("k1", Row.withSchema(s).addValues("k1", "1").build()),
        KV.of("k2", Row.withSchema(s).addValues("k2", "2").build()));
    p.run().waitUntilFinish();
  }

  /**
   * Issue 15 items 16 and 17: a record with the wrong column count had a null key, and no dead letter
   * said where the record was; a malformed record mid-file is reported and the next lines are read.
   */
  @Test
  public void readDeadLettersKeepTheKeyAndNameFileAndLine() throws Exception {
    String f = file("cols.csv", "id,a,b\nk1,1,2\nk2,1\nk3,\"x\"y,1\nk4,\"multi\nline\",3\n,1,2\nk5,1,2,3\n").toString();
    ReadRecords.Result r = p.apply(ReadRecords.csv(f).withKeyColumns("id"));
    PAssert.that(r.records()).satisfies(rows -> {
      Map<String, Long> lines = new TreeMap<>();
      for (KV<String, Row> kv : rows) {
        lines.put(kv.getKey(), 0L);
      }
      assertThat(lines.keySet(), is(java.util.Set.of("k1", "k4")));
      return null;
    });
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      Map<String, String> byDetail = new TreeMap<>();
      for (DeadLetter d : dead) {
        byDetail.put(d.getDetail().substring(0, d.getDetail().indexOf(": ") + 1),
            d.getReason() + ":" + d.getKey() + ":" + d.getRecord());
      }
      assertThat(byDetail, is(Map.of(
          f + ":3:", "wrong_column_count:k2:k2,1",
          f + ":4:", "malformed_line:null:k3,\"x\"y,1",
          f + ":7:", "missing_key:null:,1,2",
          f + ":8:", "wrong_column_count:k5:k5,1,2,3")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /** Records carry their position (file in path order, then line) as their timestamp. */
  @Test
  public void recordsAreStampedWithTheirPosition() throws Exception {
    file("q-1.csv", "id\na\nb\n");
    file("q-2.csv", "id\nc\n");
    ReadRecords.Result r = p.apply(ReadRecords.csv(tmp.getRoot() + "/q-*.csv").withKeyColumns("id"));
    PAssert.that(r.records().apply(org.apache.beam.sdk.transforms.Reify.timestamps())).satisfies(rows -> {
      Map<String, Long> at = new TreeMap<>();
      for (org.apache.beam.sdk.values.TimestampedValue<KV<String, Row>> tv : rows) {
        at.put(tv.getValue().getKey(), tv.getTimestamp().getMillis());
      }
      assertThat(at, is(Map.of("a", 2L, "b", 3L, "c", (1L << 32) | 2L)));
      return null;
    });
    p.run().waitUntilFinish();
  }
}
