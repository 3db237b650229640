package dev.batchserve.transforms.values;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Every reason is documented in the README's table; dead-letter records are machine-readable. */
@RunWith(JUnit4.class)
public class ReasonsTest {
  private static final String HEADING = "### Reasons: fallbacks and dead letters";

  /** The README's reason table: the first cell of each row, without its backticks. */
  private static Set<String> documentedReasons() throws Exception {
    // Tests run in the module's directory; the README is the repository's.
    Path readme = Path.of(System.getProperty("batchserve.root", ".."), "README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int start = text.indexOf(HEADING);
    assertThat("README.md has no section '" + HEADING + "'", start >= 0, is(true));
    int end = text.indexOf("\n#", start + HEADING.length());
    String section = end < 0 ? text.substring(start) : text.substring(start, end);
    Set<String> reasons = new HashSet<>();
    Matcher m = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(section);
    while (m.find()) {
      reasons.add(m.group(1));
    }
    return reasons;
  }

  private static List<String> constants() throws IllegalAccessException {
    List<String> values = new ArrayList<>();
    for (Field f : Reasons.class.getDeclaredFields()) {
      int mod = f.getModifiers();
      if (Modifier.isPublic(mod) && Modifier.isStatic(mod) && f.getType() == String.class) {
        values.add((String) f.get(null));
      }
    }
    return values;
  }

  @Test
  public void everyReasonConstantIsInTheReadmeTable() throws Exception {
    Set<String> documented = documentedReasons();
    List<String> constants = constants();
    assertThat(constants.size() > 20, is(true));
    List<String> missing = new ArrayList<>();
    for (String reason : constants) {
      // A prefix (previous_run:) is documented with its placeholder (previous_run:<reason>).
      boolean found = reason.endsWith(":")
          ? documented.stream().anyMatch(d -> d.startsWith(reason + "<"))
          : documented.contains(reason);
      if (!found) {
        missing.add(reason);
      }
    }
    assertThat("add these reasons to README.md, section '" + HEADING + "'", missing, is(empty()));
  }

  @Test
  public void everyDocumentedReasonIsAConstantOrAComposedForm() throws Exception {
    Set<String> constants = new HashSet<>(constants());
    List<String> unknown = new ArrayList<>();
    for (String reason : documentedReasons()) {
      if (!constants.contains(reason) && !reason.contains("<")) {
        unknown.add(reason);
      }
    }
    assertThat("README.md documents reasons that Reasons does not define", unknown, is(empty()));
  }

  @Test
  public void composedFallbackReasonsKeepTheirText() {
    assertThat(Reasons.failure("features", Reasons.OUT_OF_RANGE, "age"), is("features:out_of_range:age"));
    assertThat(Reasons.failure("keys", Reasons.DUPLICATE_KEY, null), is("keys:duplicate_key"));
    assertThat(Reasons.previousRun(Reasons.COLD_START), is("previous_run:cold_start"));
  }

  @Test
  public void aRowRecordIsOneJsonObjectOfItsFields() {
    Schema inner = Schema.builder().addStringField("city").build();
    Schema s = Schema.builder()
        .addStringField("id")
        .addNullableField("amount", FieldType.DOUBLE)
        .addInt64Field("n")
        .addBooleanField("flag")
        .addNullableField("missing", FieldType.STRING)
        .addArrayField("tags", FieldType.STRING)
        .addDateTimeField("ts")
        .addByteArrayField("raw")
        .addRowField("address", inner)
        .build();
    Row row = Row.withSchema(s).addValues("k0", 12.5, 3L, true, null, List.of("a", "b"),
        new Instant(0), new byte[] {1, 2}, Row.withSchema(inner).addValue("Paris").build()).build();
    assertThat(DeadLetter.rowRecord(row), is("{\"id\":\"k0\",\"amount\":12.5,\"n\":3,\"flag\":true,\"missing\":null,"
        + "\"tags\":[\"a\",\"b\"],\"ts\":\"1970-01-01T00:00:00.000Z\",\"raw\":\"AQI=\",\"address\":{\"city\":\"Paris\"}}"));
  }

  @Test
  public void aPredictionRecordReadsBackAsThePrediction() {
    Prediction p = Prediction.builder().scores(new float[] {0.5f}).model("m", "1")
        .predictionTimestampMillis(0L).runId("r").build();
    String record = DeadLetter.predictionRecord("k1", p);
    assertThat(Prediction.fromJson(record).getKey(), is("k1"));
    assertThat(Prediction.fromJson(record).getValue(), is(p));
  }

  @Test
  public void aVectorRecordIsAJsonArray() {
    assertThat(DeadLetter.vectorRecord(new float[] {0.5f, 1f}), is("[0.5,1.0]"));
  }
}
