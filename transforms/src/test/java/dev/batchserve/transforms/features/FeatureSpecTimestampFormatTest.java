package dev.batchserve.transforms.features;

import static dev.batchserve.transforms.features.FeatureSpecTest.column;
import static dev.batchserve.transforms.features.FeatureSpecTest.row;
import static dev.batchserve.transforms.features.FeatureSpecTest.vector;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertThrows;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.junit.Test;

/** Issue 21: a timestamp feature's text format, and the forms {@link InstantText} reads and writes. */
public class FeatureSpecTimestampFormatTest {
  private static final String FORMAT = "yyyy-MM-dd HH:mm:ss";

  private static FeatureSpec formatted() {
    return FeatureSpec.fit(FeatureSpec.builder()
            .timestamp("ts").format(FORMAT)
            .dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK, DatePart.DAY_OF_MONTH, DatePart.MONTH)
            .build(),
        column("ts", "2024-03-01 13:45:00"));
  }

  @Test
  public void aFormattedTimestampReadsItsTextInUtcAndTypedValuesAsThemselves() {
    FeatureSpec spec = formatted();
    float[] expected = {13, 5, 1, 3}; // 2024-03-01 was a Friday
    assertArrayEquals(expected, vector(spec, row("ts", "2024-03-01 13:45:00")), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", " 2024-03-01 13:45:00 ")), 0f);
    assertArrayEquals(expected, vector(spec, row("ts", Instant.parse("2024-03-01T13:45:00.999999Z"))), 0f);
    assertThat(spec.feature("ts").stats().min(), is((double) Instant.parse("2024-03-01T13:45:00Z").toEpochMilli()));
  }

  @Test
  public void textNotInTheFormatIsUnparsableNamingTheFormat() {
    FeatureSpec spec = formatted();
    for (String text : new String[] {"2024-03-01T13:45:00Z", "1709300700000", "01/03/2024 13:45:00"}) {
      FeatureOutcome o = spec.transform(row("ts", text));
      assertThat(text, o.kind(), is(FeatureOutcome.Kind.INVALID));
      assertThat(o.reason(), is(FeatureValues.UNPARSABLE));
      assertThat(o.message(), is("cannot parse ts as a timestamp in format '" + FORMAT + "': '" + text + "'"));
    }
  }

  @Test
  public void theFormatIsInTheJsonOnlyWhenSetAndRoundTrips() {
    FeatureSpec spec = formatted();
    String json = spec.toJson();
    assertThat(json, containsString("\"format\" : \"" + FORMAT + "\""));
    FeatureSpec back = FeatureSpec.fromJson(json);
    assertThat(back, equalTo(spec));
    assertThat(back.feature("ts").format(), is(FORMAT));
    assertArrayEquals(vector(spec, row("ts", "2024-03-01 13:45:00")), vector(back, row("ts", "2024-03-01 13:45:00")), 0f);
    FeatureSpec plain = FeatureSpec.builder().timestamp("ts").dateParts(DatePart.HOUR).build();
    assertThat(plain.toJson(), not(containsString("format")));
    assertThat(plain.feature("ts").format(), nullValue());
  }

  @Test
  public void aFormatIsRefusedOnOtherTypesAndWhenItIsNotAPattern() {
    IllegalStateException numeric = assertThrows(IllegalStateException.class,
        () -> FeatureSpec.builder().numeric("amount").format(FORMAT));
    assertThat(numeric.getMessage(), is("format(\"" + FORMAT + "\") is for a timestamp feature, but 'amount' is"
        + " double: declare it with timestamp(\"amount\")"));
    IllegalArgumentException pattern = assertThrows(IllegalArgumentException.class,
        () -> FeatureSpec.builder().timestamp("ts").format("yyyy-MM-dd {"));
    assertThat(pattern.getMessage(), containsString("timestamp format 'yyyy-MM-dd {' is not a java.time"
        + " DateTimeFormatter pattern (e.g. 'yyyy-MM-dd HH:mm:ss')"));
    String json = formatted().toJson();
    IllegalArgumentException badJson = assertThrows(IllegalArgumentException.class,
        () -> FeatureSpec.fromJson(json.replace(FORMAT, "yyyy-MM-dd {")));
    assertThat(badJson.getMessage(), containsString("feature 'ts': timestamp format 'yyyy-MM-dd {' is not"));
    String onNumber = FeatureSpec.builder().numeric("amount").passthrough().build().toJson()
        .replace("\"name\" : \"amount\",", "\"name\" : \"amount\",\n    \"format\" : \"" + FORMAT + "\",");
    assertThat(onNumber, containsString("format"));
    IllegalArgumentException numericJson = assertThrows(IllegalArgumentException.class,
        () -> FeatureSpec.fromJson(onNumber));
    assertThat(numericJson.getMessage(), is("feature 'amount': a format is for timestamp features, not double"));
  }

  @Test
  public void theCanonicalTextIsIsoUtcWithTheFractionDigitsItNeeds() {
    assertThat(InstantText.canonical(Instant.parse("2001-01-01T00:01:00Z")), is("2001-01-01T00:01:00Z"));
    assertThat(InstantText.canonical(Instant.parse("2001-01-01T00:01:00.120Z")), is("2001-01-01T00:01:00.120Z"));
    assertThat(InstantText.canonical(Instant.parse("2001-01-01T00:01:00.000001Z")),
        is("2001-01-01T00:01:00.000001Z"));
    assertThat(InstantText.canonical(Instant.ofEpochSecond(0, 1)), is("1970-01-01T00:00:00.000000001Z"));
  }

  @Test
  public void withoutAFormatIsoBigQueryAndZonelessTextAreRead() {
    Instant t = Instant.parse("2001-01-01T00:01:00Z");
    for (String text : new String[] {"2001-01-01T00:01:00Z", "2001-01-01T00:01:00.000Z", "2001-01-01T01:01:00+01:00",
        "2001-01-01 00:01:00 UTC", "2001-01-01 00:01:00+00", "2001-01-01 00:01:00", "2001-01-01T00:01:00",
        " 2001-01-01t00:01:00z "}) {
      assertThat(text, InstantText.parse(text, (String) null), is(t));
    }
    assertThat(InstantText.parse("2001-01-01 00:01:00.123456 UTC", (String) null),
        is(Instant.parse("2001-01-01T00:01:00.123456Z")));
    assertThat(InstantText.parse("2001-01-01", (String) null), is(Instant.parse("2001-01-01T00:00:00Z")));
    for (String text : new String[] {"01/01/2001", "2001-01-01 00:01:00 CET", "yesterday", "2001-13-01"}) {
      assertThrows(text, DateTimeParseException.class, () -> InstantText.parse(text, (String) null));
    }
  }

  @Test
  public void aFormatWithAnOffsetKeepsItAndOneWithoutATimeIsMidnightUtc() {
    assertThat(InstantText.parse("01.01.2001 01:01 +0100", "dd.MM.yyyy HH:mm Z"), is(Instant.parse("2001-01-01T00:01:00Z")));
    assertThat(InstantText.parse("20010101", "yyyyMMdd"), is(Instant.parse("2001-01-01T00:00:00Z")));
    // 12-hour clock without am/pm cannot say which hour: refused, never read as midnight.
    DateTimeParseException e = assertThrows(DateTimeParseException.class,
        () -> InstantText.parse("2001-01-01 01:01", "yyyy-MM-dd hh:mm"));
    assertThat(e.getMessage(), containsString("no full hour"));
    assertThat(InstantText.parse("2001-01-01 01:01 PM", "yyyy-MM-dd hh:mm a"), is(Instant.parse("2001-01-01T13:01:00Z")));
  }
}
