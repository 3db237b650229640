package dev.batchserve.transforms.features;

import static dev.batchserve.transforms.features.FeatureSpecTest.column;
import static dev.batchserve.transforms.features.FeatureSpecTest.row;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertArrayEquals;

import dev.batchserve.transforms.features.FeatureOutcome.Kind;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** One test per validation rule and per invalid-value policy, through the plain-Java path. */
@RunWith(JUnit4.class)
public class FeatureValidationTest {

  private static FeatureSpec amountSpec(InvalidPolicy policy) {
    return FeatureSpec.fit(
        FeatureSpec.builder()
            .numeric("amount").range(0, 1000).onInvalid(policy).passthrough()
            .integer("n").passthrough()
            .build(),
        List.of(row("amount", 1.0, "n", 1L)));
  }

  private static void assertRejected(
      FeatureOutcome out, Kind kind, String field, String reason, String message) {
    assertThat(out.toString(), out.kind(), is(kind));
    assertThat(out.field(), is(field));
    assertThat(out.reason(), is(reason));
    assertThat(out.message(), is(message));
  }

  @Test
  public void missingRequiredColumn() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", 1.0)),
        Kind.INVALID, "n", "missing_required", "required feature 'n' is absent from the record");
  }

  @Test
  public void nullRequiredValue() {
    FeatureOutcome out = amountSpec(InvalidPolicy.ERROR).transform(row("amount", null, "n", 1L));
    assertRejected(out, Kind.INVALID, "amount", "missing_required", "required feature 'amount' is null or empty");
    assertThat(out.missingFields(), contains("amount"));
  }

  @Test
  public void missingRequiredIsNeverKept() {
    assertRejected(
        amountSpec(InvalidPolicy.KEEP).transform(row("n", 1L)),
        Kind.INVALID, "amount", "missing_required", "required feature 'amount' is absent from the record");
  }

  @Test
  public void wrongType() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", true, "n", 1L)),
        Kind.INVALID, "amount", "wrong_type", "amount must be double, but was a Boolean");
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", 1.0, "n", 2.5)),
        Kind.INVALID, "n", "wrong_type", "n must be an integer, but was 2.5");
  }

  @Test
  public void unparsableValue() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", "12,5", "n", "1")),
        Kind.INVALID, "amount", "unparsable", "cannot parse amount as double: '12,5'");
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", "1", "n", "1.0x")),
        Kind.INVALID, "n", "unparsable", "cannot parse n as long: '1.0x'");
  }

  @Test
  public void nanAndInfinityAreNotFinite() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", Double.NaN, "n", 1L)),
        Kind.INVALID, "amount", "not_finite", "amount must be finite, but was NaN");
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", "Infinity", "n", 1L)),
        Kind.INVALID, "amount", "not_finite", "amount must be finite, but was Infinity");
  }

  /** Issue 15 item 14: Java-only numerals were accepted as numbers. */
  @Test
  public void javaOnlyNumeralsAreUnparsable() {
    for (String text : List.of("100.5f", "300d", "0x1Ap0", "1_000", "١٢", "1e", ".", "+-1", "1.5.2")) {
      assertRejected(
          amountSpec(InvalidPolicy.ERROR).transform(row("amount", text, "n", "1")),
          Kind.INVALID, "amount", "unparsable", "cannot parse amount as double: '" + text + "'");
    }
    for (String text : List.of("7L", "0x10", "١٢")) {
      assertThat(text, amountSpec(InvalidPolicy.ERROR).transform(row("amount", "1", "n", text)).reason(), is("unparsable"));
    }
  }

  /** Issue 15 item 14: 1e-400 silently became 0.0, and 1e400 an infinity reported as such. */
  @Test
  public void literalsADoubleCannotHoldAreNotRepresentable() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", "1e-400", "n", "1")),
        Kind.INVALID, "amount", "not_representable",
        "amount: '1e-400' is too small for a double (its magnitude is below 4.9e-324): it would become 0");
    assertThat(amountSpec(InvalidPolicy.ERROR).transform(row("amount", "-1e400", "n", "1")).reason(), is("not_representable"));
    assertThat(amountSpec(InvalidPolicy.ERROR).transform(row("amount", "1", "n", "9223372036854775808")).reason(),
        is("not_representable"));
    // Zero written any way is zero, and the grammar's other forms are numbers.
    for (String text : List.of("0e-400", "0.000", "-0", ".5", "5.", "+2.5E2", "1e-3")) {
      assertThat(text, amountSpec(InvalidPolicy.ERROR).transform(row("amount", text, "n", "+1")).reason(), is((String) null));
    }
  }

  /** Issue 15 item 14: "NaN" was not_finite but "nan" unparsable. */
  @Test
  public void nanInAnyCaseGetsTheSameReason() {
    for (String text : List.of("NaN", "nan", "NAN", "inf", "-Infinity")) {
      assertThat(text, amountSpec(InvalidPolicy.ERROR).transform(row("amount", text, "n", "1")).reason(), is("not_finite"));
    }
  }

  @Test
  public void nanAsMissingImputesNaN() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().numeric("x").optional().nanAsMissing().imputeConstant(0.0).passthrough().build(),
            column("x", 1.0));
    assertArrayEquals(new float[] {0f}, spec.transform(row("x", Double.NaN)).vector(), 0f);
    assertThat(spec.transform(row("x", Double.POSITIVE_INFINITY)).reason(), is("not_finite"));
  }

  @Test
  public void outOfRange() {
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", 1000.5, "n", 1L)),
        Kind.INVALID, "amount", "out_of_range", "amount must be <= 1000.0, but was 1000.5");
    assertRejected(
        amountSpec(InvalidPolicy.ERROR).transform(row("amount", -1, "n", 1L)),
        Kind.INVALID, "amount", "out_of_range", "amount must be >= 0.0, but was -1.0");
  }

  @Test
  public void unknownCategoryUnderErrorPolicy() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().categorical("c").oneHot(1).build(), column("c", "a", "b"));
    assertRejected(
        spec.transform(row("c", "z")),
        Kind.INVALID, "c", "unknown_category", "c has value 'z' outside its vocabulary");
    assertArrayEquals(new float[] {0, 1, 0}, spec.transform(row("c", "b")).vector(), 0f);
  }

  @Test
  public void wrongListLength() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().list("e", 2).passthrough().build(), column("e", List.of(1, 2)));
    assertRejected(
        spec.transform(row("e", List.of(1, 2, 3))),
        Kind.INVALID, "e", "wrong_length", "e must have 2 elements, but had 3");
  }

  @Test
  public void log1pOutsideDomainIsOutOfRange() {
    FeatureSpec spec =
        FeatureSpec.fit(FeatureSpec.builder().numeric("x").log1p().passthrough().build(), column("x", 1.0));
    assertRejected(
        spec.transform(row("x", -2.0)),
        Kind.INVALID, "x", "out_of_range", "x: log1p needs a value > -1, but was -2.0");
  }

  @Test
  public void skipPolicyReportsSkipped() {
    assertRejected(
        amountSpec(InvalidPolicy.SKIP).transform(row("amount", 5000.0, "n", 1L)),
        Kind.SKIPPED, "amount", "out_of_range", "amount must be <= 1000.0, but was 5000.0");
    assertRejected(
        amountSpec(InvalidPolicy.SKIP).transform(row("n", 1L)),
        Kind.SKIPPED, "amount", "missing_required", "required feature 'amount' is absent from the record");
  }

  @Test
  public void keepPolicyImputesInvalidNumbers() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder()
                .numeric("x").range(0, 10).onInvalid(InvalidPolicy.KEEP).imputeConstant(5.0).withMissingIndicator().passthrough()
                .build(),
            column("x", 1.0));
    assertArrayEquals(new float[] {5f, 1f}, spec.transform(row("x", 99.0)).vector(), 0f);
    assertArrayEquals(new float[] {5f, 1f}, spec.transform(row("x", "abc")).vector(), 0f);
    assertArrayEquals(new float[] {3f, 0f}, spec.transform(row("x", 3.0)).vector(), 0f);
  }

  @Test
  public void keepPolicyRoutesUnknownCategoriesToOov() {
    FeatureSpec spec =
        FeatureSpec.fit(
            FeatureSpec.builder().categorical("c").oneHot(1).onInvalid(InvalidPolicy.KEEP).build(),
            column("c", "a"));
    assertArrayEquals(new float[] {0, 1}, spec.transform(row("c", "z")).vector(), 0f);
    // Without imputation, keep cannot repair a wrong type: it stays a dead letter.
    assertThat(spec.transform(row("c", 7)).reason(), is("wrong_type"));
  }

  @Test
  public void extraColumnsAreIgnored() {
    Map<String, Object> raw = row("amount", 2.0, "n", 3L, "unrelated", new Object());
    assertArrayEquals(new float[] {2f, 3f}, amountSpec(InvalidPolicy.ERROR).transform(raw).vector(), 0f);
  }

  @Test
  public void firstFailingFeatureInDeclaredOrderIsReported() {
    FeatureOutcome out = amountSpec(InvalidPolicy.ERROR).transform(row("amount", "x", "n", "y"));
    assertThat(out.field(), equalTo("amount"));
  }
}
