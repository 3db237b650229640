package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** Specs, features and steps are equal by value, not by their JSON text. */
@RunWith(JUnit4.class)
public class FeatureSpecEqualityTest {

  @Test
  public void twoFitsOfTheSameTemplateAreEqualWithEqualHashes() {
    FeatureSpec a = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    FeatureSpec b = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    assertThat(a, equalTo(b));
    assertThat(a.hashCode(), equalTo(b.hashCode()));
    assertThat(FeatureSpec.fromJson(a.toJson()), equalTo(a));
  }

  @Test
  public void oneDifferentStepParameterMakesSpecsDifferent() {
    FeatureSpec a = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    FeatureSpec b = a.copy();
    ((ZScoreStep) b.feature("amount").transforms.get(2)).mean += 1e-9;
    assertThat(b, not(equalTo(a)));
    FeatureSpec c = a.copy();
    c.feature("country").transforms.set(0, new OneHotStep(3));
    assertThat(c, not(equalTo(a)));
    FeatureSpec d = a.copy();
    d.feature("amount").transforms.get(2).output = "z";
    assertThat(d, not(equalTo(a)));
  }

  @Test
  public void stepsOfDifferentKindsWithTheSameParametersDiffer() {
    assertThat(new Log1pStep(), not(equalTo((Step) new PassthroughStep())));
    assertThat(new HashStep(4), equalTo((Step) new HashStep(4)));
    assertThat(new HashStep(4).hashCode(), equalTo(new HashStep(4).hashCode()));
    assertThat(new DatePartsStep(List.of(DatePart.HOUR)), not(equalTo((Step) new DatePartsStep(List.of(DatePart.MONTH)))));
  }

  @Test
  public void storedNumbersCompareAsWrittenInTheFile() {
    // 5 as Integer (builder) and as Long (read back) are the same file; 5.0 is not.
    FeatureSpec asInt = FeatureSpec.builder().integer("n").optional().imputeConstant(5).passthrough().build();
    FeatureSpec asLong = FeatureSpec.builder().integer("n").optional().imputeConstant(5L).passthrough().build();
    FeatureSpec asDouble = FeatureSpec.builder().integer("n").optional().imputeConstant(5.0).passthrough().build();
    assertThat(asInt, equalTo(asLong));
    assertThat(asInt.hashCode(), equalTo(asLong.hashCode()));
    assertThat(asInt.toJson(), equalTo(asLong.toJson()));
    assertThat(asInt, not(equalTo(asDouble)));
    assertThat(asInt.toJson(), not(equalTo(asDouble.toJson())));
  }
}
