package dev.batchserve.pipelines.reliability;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.pipelines.RunSummary;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A bad-input corpus, generated here, through the whole job: every bad record ends in the dead letters
 * with its reason, every key gets exactly one result, and {@code input = predictions + dead letters}.
 * Whole-file problems refuse at start with a clear message, before anything is written.
 */
public class BadInputTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path modelDir;
  private static List<Map<String, Object>> good;

  @BeforeClass
  public static void train() {
    modelDir = TMP.getRoot().toPath().resolve("model");
    TrainFraudModel.train(modelDir, 2000, 7, "1");
    good = FraudSample.generate(40, 5);
  }

  private static BatchScoringOptions options(Path input, Path output, String... extra) {
    List<String> args = new ArrayList<>(List.of("--runner=DirectRunner", "--input=" + input, "--model=" + modelDir,
        "--output=" + output, "--runDate=2026-11-28", "--numShards=1", "--maxDeadLetterRate=0.9",
        "--fallback=constant:0.02"));
    for (String e : extra) {
      args.removeIf(a -> a.startsWith(e.substring(0, e.indexOf('=') + 1)));
      args.add(e);
    }
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(BatchScoringOptions.class);
  }

  private static String csvLine(Map<String, Object> row) {
    return FraudSample.COLUMNS.stream().map(c -> row.get(c) == null ? "" : String.valueOf(row.get(c)))
        .collect(Collectors.joining(","));
  }

  private static Map<String, Object> variant(int i, String key, String column, Object value) {
    Map<String, Object> row = new LinkedHashMap<>(good.get(i));
    row.put(FraudSample.KEY, key);
    row.put(column, value);
    return row;
  }

  private static List<JsonNode> jsonLines(Path dir) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          out.add(JSON.readTree(line));
        }
      }
    }
    return out;
  }

  @Test
  public void everyBadCsvRecordIsADeadLetterWithItsReasonAndEveryKeyGetsOneResult() throws Exception {
    String longKey = "acct-" + "x".repeat(10_000);
    String unicodeKey = "账户-ü-\uD83D\uDE00";
    List<String> lines = new ArrayList<>();
    lines.add(String.join(",", FraudSample.COLUMNS));
    good.forEach(r -> lines.add(csvLine(r)));
    lines.add("acct-bad-quote,\"unterminated,1,2");                                  // read: malformed_line
    lines.add("acct-bad-columns,1,2");                                                // read: wrong_column_count
    lines.add(csvLine(variant(0, "", "txn_count_1d", 1)));                            // read: missing_key
    lines.add(csvLine(variant(1, "acct-type", "txn_count_1d", "abc")));               // features: unparsable
    lines.add(csvLine(variant(2, "acct-nan", "amount_mean_30d", "NaN")));             // features: not_finite
    lines.add(csvLine(variant(3, "acct-inf", "amount_max_30d", "Infinity")));         // features: not_finite
    lines.add(csvLine(variant(4, "acct-neginf", "amount_max_30d", "-Infinity")));     // features: not_finite
    lines.add(csvLine(variant(5, "acct-extreme", "account_age_days", "99999999")));   // features: out_of_range
    lines.add(csvLine(variant(6, "acct-missing", "txn_count_7d", null)));             // features: missing_required
    lines.add(csvLine(variant(7, "acct-dup", "txn_count_1d", 1)));                    // keys: duplicate_key (x2)
    lines.add(csvLine(variant(8, "acct-dup", "txn_count_1d", 2)));
    lines.add(csvLine(variant(9, unicodeKey, "home_country", "ZZ")));                 // valid: OOV country kept
    lines.add(csvLine(variant(10, longKey, "txn_count_1d", 3)));                      // valid: very long key
    Path input = TMP.getRoot().toPath().resolve("corpus/accounts.csv");
    Files.createDirectories(input.getParent());
    Files.write(input, lines, StandardCharsets.UTF_8);

    RunSummary s = BatchScoringPipeline.run(options(input, TMP.getRoot().toPath().resolve("out-csv")));

    long recordsIn = lines.size() - 1;
    assertThat(s.recordsRead, is(recordsIn));
    assertThat(s.unreadable, is(3L));
    assertThat(s.deadLetters, is(8L)); // 6 invalid feature rows + 2 records of the duplicated key
    assertThat(s.predictions, is((long) good.size() + 2));
    // the 6 invalid keys + the duplicated key + the key of the record with too few columns
    assertThat(s.fallbacks, is(8L));
    assertThat("input = predictions + dead letters", s.recordsRead, is(s.predictions + s.deadLetters + s.unreadable));

    Map<String, String> reasons = new TreeMap<>();
    for (JsonNode d : jsonLines(Path.of(s.runDirectory, "dead_letters"))) {
      String key = d.get("key").isNull() ? d.get("record").asText() : d.get("key").asText();
      reasons.merge(key, d.get("step").asText() + ":" + d.get("reason").asText(), (a, b) -> a + "+" + b);
    }
    Map<String, String> expected = new HashMap<>();
    expected.put("acct-bad-quote,\"unterminated,1,2", "read:malformed_line");
    expected.put("acct-bad-columns", "read:wrong_column_count"); // the key is kept (issue 15 item 16)
    expected.put(csvLine(variant(0, "", "txn_count_1d", 1)), "read:missing_key");
    expected.put("acct-type", "features:unparsable");
    expected.put("acct-nan", "features:not_finite");
    expected.put("acct-inf", "features:not_finite");
    expected.put("acct-neginf", "features:not_finite");
    expected.put("acct-extreme", "features:out_of_range");
    expected.put("acct-missing", "features:missing_required");
    expected.put("acct-dup", "keys:duplicate_key+keys:duplicate_key");
    assertThat(reasons, is(new TreeMap<>(expected)));

    Map<String, JsonNode> results = new HashMap<>();
    for (JsonNode n : jsonLines(Path.of(s.runDirectory, "jsonl"))) {
      assertThat("one result per key", results.put(n.get("key").asText(), n), is((JsonNode) null));
    }
    assertThat(results.size(), is(good.size() + 10));
    assertThat(results.get("acct-bad-columns").get("fallback_reason").asText(), is("read:wrong_column_count"));
    assertThat(results.get("acct-nan").get("fallback_reason").asText(), is("features:not_finite:amount_mean_30d"));
    assertThat(results.get("acct-nan").get("score").asText(), is("0.02"));
    assertThat(results.get("acct-dup").get("fallback_reason").asText(), is("duplicate_key"));
    assertTrue(results.get(unicodeKey).get("fallback_reason").isNull());
    assertTrue(results.get(longKey).get("fallback_reason").isNull());
  }

  @Test
  public void invalidJsonLinesAreDeadLettersAndValidOnesArePredicted() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      lines.add(JSON.writeValueAsString(good.get(i)));
    }
    lines.add("{\"account_id\": \"acct-broken\", \"txn_count_1d\": ");
    lines.add("\"just a string\"");
    lines.add(JSON.writeValueAsString(variant(11, "acct-wrongtype", "geo_change", "maybe")));
    Path input = TMP.getRoot().toPath().resolve("corpus/accounts.jsonl");
    Files.createDirectories(input.getParent());
    Files.write(input, lines, StandardCharsets.UTF_8);

    RunSummary s = BatchScoringPipeline.run(options(input, TMP.getRoot().toPath().resolve("out-json")));
    assertThat(s.recordsRead, is(13L));
    assertThat(s.unreadable, is(2L));
    assertThat(s.predictions, is(10L));
    assertThat(s.deadLetters, is(1L));
    assertThat(s.fallbacks, is(1L));
    List<String> reasons = jsonLines(Path.of(s.runDirectory, "dead_letters")).stream()
        .map(d -> d.get("reason").asText()).sorted().collect(Collectors.toList());
    assertThat(reasons.size(), is(3));
    assertTrue(reasons.contains("malformed_json"));
    assertTrue(reasons.contains("not_an_object"));
  }

  @Test
  public void aKeyWithBadInputTodayIsServedItsPreviousRunPrediction() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("out-previous");
    Path day1 = TMP.getRoot().toPath().resolve("prev/day1.csv");
    FraudSample.writeCsv(good.subList(0, 10), day1);
    BatchScoringOptions first = options(day1, out, "--fallback=previous_run:constant:0.02");
    first.setRunDate(java.time.LocalDate.parse("2026-11-27"));
    RunSummary s1 = BatchScoringPipeline.run(first);
    Map<String, JsonNode> before = new HashMap<>();
    jsonLines(Path.of(s1.runDirectory, "jsonl")).forEach(n -> before.put(n.get("key").asText(), n));

    List<Map<String, Object>> today = new ArrayList<>(good.subList(0, 10));
    String key3 = (String) today.get(3).get(FraudSample.KEY);
    today.set(3, variant(3, key3, "amount_mean_30d", "NaN"));
    today.add(variant(20, "acct-new", "amount_mean_30d", "NaN"));
    Path day2 = TMP.getRoot().toPath().resolve("prev/day2.csv");
    FraudSample.writeCsv(today, day2);
    RunSummary s2 = BatchScoringPipeline.run(options(day2, out, "--fallback=previous_run:constant:0.02"));
    Map<String, JsonNode> after = new HashMap<>();
    jsonLines(Path.of(s2.runDirectory, "jsonl")).forEach(n -> after.put(n.get("key").asText(), n));

    JsonNode served = after.get(key3);
    assertThat(served.get("fallback_reason").asText(), is("previous_run:features:not_finite:amount_mean_30d"));
    assertThat(served.get("score"), is(before.get(key3).get("score")));
    assertThat(served.get("prediction_timestamp").asText(), is("2026-11-28T00:00:00Z")); // its own age
    assertThat(served.get("run_id").asText(), is("fraud-daily-20261128"));
    JsonNode fresh = after.get("acct-new"); // no previous prediction: the constant
    assertThat(fresh.get("fallback_reason").asText(), is("features:not_finite:amount_mean_30d"));
    assertThat(fresh.get("score").asText(), is("0.02"));
  }

  /** An empty run publishes only when asked to ({@code --minRecords=0}); by default it fails (VolumeGateTest). */
  @Test
  public void anEmptyInputPublishesAnEmptyRunWhenMinRecordsIsZero() throws Exception {
    Path input = TMP.getRoot().toPath().resolve("empty/accounts.csv");
    Files.createDirectories(input.getParent());
    Files.write(input, List.of(String.join(",", FraudSample.COLUMNS)), StandardCharsets.UTF_8);
    RunSummary s = BatchScoringPipeline.run(
        options(input, TMP.getRoot().toPath().resolve("out-empty"), "--minRecords=0"));
    assertThat(s.recordsRead, is(0L));
    assertThat(s.predictions, is(0L));
    assertTrue(Files.exists(Path.of(s.runDirectory, "_SUCCESS")));
    assertThat(JSON.readTree(Path.of(s.runDirectory, "_MANIFEST.json").toFile()).get("records").asLong(), is(0L));
  }

  @Test
  public void wholeFileProblemsRefuseAtStartAndWriteNothing() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("out-refused");
    Path truncated = TMP.getRoot().toPath().resolve("bad/accounts.parquet");
    Files.createDirectories(truncated.getParent());
    FraudSample.writeParquet(good, truncated);
    byte[] whole = Files.readAllBytes(truncated);
    Files.write(truncated, java.util.Arrays.copyOf(whole, whole.length / 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.run(options(truncated, out)));
    assertThat(e.getMessage(), containsString("cannot read the Parquet footer of"));

    Path missing = TMP.getRoot().toPath().resolve("nothing/here-*.csv");
    assertThat(assertThrows(IllegalArgumentException.class, () -> BatchScoringPipeline.run(options(missing, out)))
        .getMessage(), containsString("no input file matches"));
    assertFalse("nothing was written", Files.exists(out));
  }

  @Test
  public void anInputWithoutARequiredFeatureColumnIsRefusedAtStartNamingTheColumn() throws Exception {
    // Before, every record became a missing_required dead letter and the run failed on the dead-letter
    // rate without naming the column.
    Path input = TMP.getRoot().toPath().resolve("no-amount-mean/accounts.csv");
    FraudSample.writeCsv(good, input);
    List<String> lines = Files.readAllLines(input);
    int drop = java.util.Arrays.asList(lines.get(0).split(",")).indexOf("amount_mean_30d");
    assertThat("the sample has the column", drop >= 0, is(true));
    List<String> without = new ArrayList<>();
    for (String line : lines) {
      List<String> cells = new ArrayList<>(java.util.Arrays.asList(line.split(",", -1)));
      cells.remove(drop);
      without.add(String.join(",", cells));
    }
    Files.write(input, without);
    Path out = TMP.getRoot().toPath().resolve("out-no-amount-mean");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BatchScoringPipeline.run(options(input, out)));
    assertThat(e.getMessage(), containsString("has no column amount_mean_30d, which the feature spec requires"));
    assertThat(e.getMessage(), containsString(input.toString()));
    assertFalse("nothing was published", Files.exists(out.resolve("_LATEST")));
  }

  @Test
  public void aTamperedModelIsRefusedBeforeAnyWrite() throws Exception {
    Path copy = TMP.getRoot().toPath().resolve("tampered");
    try (Stream<Path> files = Files.walk(modelDir)) {
      for (Path f : files.collect(Collectors.toList())) {
        Path target = copy.resolve(modelDir.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
    Path data = copy.resolve("variables/variables.data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(data, bytes);
    Path input = TMP.getRoot().toPath().resolve("ok/accounts.csv");
    FraudSample.writeCsv(good, input);
    Path out = TMP.getRoot().toPath().resolve("out-tampered");
    BatchScoringOptions o = options(input, out);
    o.setModel(copy.toString());
    ModelIntegrityException e = assertThrows(ModelIntegrityException.class, () -> BatchScoringPipeline.run(o));
    assertThat(e.getMessage(), containsString("variables/variables.data-00000-of-00001"));
    assertFalse("nothing was written", Files.exists(out));
  }

  @Test
  public void anUnwritableOutputFailsClearlyAndPublishesNothing() throws Exception {
    Path input = TMP.getRoot().toPath().resolve("ok2/accounts.csv");
    FraudSample.writeCsv(good, input);
    Path notADirectory = TMP.newFile("a-file").toPath();
    Exception e = assertThrows(Exception.class,
        () -> BatchScoringPipeline.run(options(input, notADirectory.resolve("out"))));
    String all = org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Throwables.getStackTraceAsString(e);
    assertThat(all, containsString(notADirectory.toString()));
    assertFalse(Files.exists(notADirectory.resolve("out/_LATEST")));
  }

  private static String csvLine(Map<String, Object> row, List<String> columns) {
    return columns.stream().map(c -> row.get(c) == null ? "" : String.valueOf(row.get(c)))
        .collect(Collectors.joining(","));
  }

  /**
   * Issue 15 items 7-14, 16, 17 through the whole job: two files, the second gzip-compressed with its
   * columns in another order, a line over 100 KB, a quoted newline, a padded key, a Java-only numeral,
   * a record with too few columns, and a key in both files under last_wins.
   */
  @Test
  public void multiFileCsvInputIsReadExactly() throws Exception {
    Path dir = TMP.getRoot().toPath().resolve("corpus-multi");
    Files.createDirectories(dir);
    List<String> reversed = new ArrayList<>(FraudSample.COLUMNS);
    java.util.Collections.reverse(reversed);
    String padded = " " + good.get(1).get(FraudSample.KEY) + " ";
    String longKey = "acct-long-" + "x".repeat(120_000);
    List<String> first = new ArrayList<>();
    first.add(String.join(",", FraudSample.COLUMNS));
    good.subList(0, 10).forEach(r -> first.add(csvLine(r)));
    first.add(csvLine(variant(11, longKey, "txn_count_1d", 1)));                       // item 8
    first.add(csvLine(variant(12, "acct-nl\"\"x", "txn_count_1d", 1))
        .replace("acct-nl\"\"x", "\"acct-nl\nsecond\""));                               // item 9
    first.add(csvLine(variant(13, padded, "txn_count_1d", 1)));                         // item 11
    first.add(csvLine(variant(14, "acct-javafloat", "amount_mean_30d", "100.5f")));     // item 14
    first.add("acct-short,1,2");                                                        // item 16, line 17
    first.add(csvLine(variant(15, "acct-lw", "txn_count_1d", 1)));                      // item 12
    first.add(csvLine(variant(16, "acct-lw", "txn_count_1d", 2)));
    Path part1 = dir.resolve("part-1.csv");
    Files.write(part1, first, StandardCharsets.UTF_8);
    List<String> second = new ArrayList<>();
    second.add(String.join(",", reversed));                                             // item 7
    good.subList(10, 20).forEach(r -> second.add(csvLine(r, reversed)));
    second.add(csvLine(variant(17, "acct-lw", "txn_count_1d", 3), reversed));
    second.add(csvLine(variant(17, "acct-lw-twin", "txn_count_1d", 3), reversed));
    try (java.io.OutputStream out = new java.util.zip.GZIPOutputStream(
        Files.newOutputStream(dir.resolve("part-2.csv.gz")))) {                        // item 13
      out.write((String.join("\n", second) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    RunSummary s = BatchScoringPipeline.run(options(dir.resolve("part-*"), TMP.getRoot().toPath().resolve("out-multi"),
        "--inputFormat=csv", "--duplicateKeys=last_wins"));

    assertThat(s.recordsRead, is(29L));
    assertThat(s.unreadable, is(1L));
    assertThat(s.deadLetters, is(3L)); // the Java numeral and the two superseded acct-lw records
    Map<String, JsonNode> results = new HashMap<>();
    for (JsonNode n : jsonLines(Path.of(s.runDirectory, "jsonl"))) {
      assertThat("one result per key", results.put(n.get("key").asText(), n), is((JsonNode) null));
    }
    assertThat(results.keySet().size(), is(20 + 7));
    for (Map<String, Object> g : good.subList(0, 20)) {
      JsonNode r = results.get((String) g.get(FraudSample.KEY));
      assertTrue("a model score for " + g.get(FraudSample.KEY), r.get("fallback_reason").isNull());
    }
    assertTrue(results.get(longKey).get("fallback_reason").isNull());
    assertTrue(results.get("acct-nl\nsecond").get("fallback_reason").isNull());
    assertTrue(results.get(padded).get("fallback_reason").isNull());
    assertThat(results.get("acct-javafloat").get("fallback_reason").asText(),
        is("features:unparsable:amount_mean_30d"));
    assertThat(results.get("acct-short").get("fallback_reason").asText(), is("read:wrong_column_count"));
    // The record of the later file won: it scores exactly as its twin.
    assertTrue(results.get("acct-lw").get("fallback_reason").isNull());
    assertThat(results.get("acct-lw").get("score"), is(results.get("acct-lw-twin").get("score")));

    Map<String, String> details = new TreeMap<>();
    for (JsonNode d : jsonLines(Path.of(s.runDirectory, "dead_letters"))) {
      details.merge(d.get("key").asText() + ":" + d.get("reason").asText(), d.get("detail").asText(),
          (a, b) -> a + "|" + b);
    }
    assertThat(details.get("acct-short:wrong_column_count"),
        is(part1 + ":17: the header has " + FraudSample.COLUMNS.size() + " columns, the record has 3"));
    String superseded = details.get("acct-lw:duplicate_key_superseded");
    assertThat(superseded, containsString("last_wins kept the last one"));
  }
}
