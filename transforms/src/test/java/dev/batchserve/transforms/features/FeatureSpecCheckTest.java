package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link FeatureSpecCheck}: validation and layout that leave the spec as it was. */
@RunWith(JUnit4.class)
public class FeatureSpecCheckTest {

  @Test
  public void checkingAFittedSpecChangesNothing() {
    FeatureSpec spec = FeatureSpec.fit(FeatureSpecTest.richTemplate(), FeatureSpecTest.richRows());
    String before = spec.toJson();
    FeatureSpec copy = spec.copy();
    spec.outputs = null; // what the check computes must come back, not be written into the spec
    List<String> layout = FeatureSpecCheck.layout(spec);
    assertThat(spec.outputs, nullValue());
    assertThat(layout, equalTo(copy.outputNames()));
    spec.outputs = copy.outputs;
    assertThat(spec.toJson(), equalTo(before));
    assertThat(spec, equalTo(copy));
  }

  @Test
  public void aTemplateWithUnfittedBucketsHasNoLayoutYet() {
    FeatureSpec template = FeatureSpec.builder().numeric("x").quantileBuckets(4).build();
    String before = template.toJson();
    assertThat(FeatureSpecCheck.layout(template), nullValue());
    assertThat(template.toJson(), equalTo(before));
  }

  @Test
  public void aRefusedSpecIsLeftAsItWas() {
    FeatureSpec spec = FeatureSpec.builder().numeric("x").zscore().build();
    spec.features.get(0).min = 5.0;
    spec.features.get(0).max = 1.0;
    String before = spec.toJson();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpecCheck.layout(spec));
    assertThat(e.getMessage(), equalTo("feature 'x': min 5.0 is above max 1.0"));
    assertThat(spec.toJson(), equalTo(before));
  }

  @Test
  public void layoutFollowsRewritingStepsAndOutputNames() {
    FeatureSpec spec = FeatureSpec.builder()
        .numeric("a").clip(0, 10).log1p().zscore().minMax().as("a_scaled")
        .timestamp("ts").dateParts(DatePart.HOUR).as("when")
        .build();
    assertThat(FeatureSpecCheck.layout(spec), contains("a_clip_log1p_z", "a_scaled", "when_hour"));
  }

  @Test
  public void stepMessagesNameTheFeatureAndTheKind() {
    FeatureSpec spec = FeatureSpec.builder().categorical("c").vocabulary(List.of("a")).oneHot().build();
    spec.features.get(0).transforms.add(new HashStep(0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpecCheck.layout(spec));
    assertThat(e.getMessage(), equalTo("feature 'c': hash buckets must be > 0, but was 0"));
    spec.features.get(0).transforms.set(1, new ZScoreStep());
    e = assertThrows(IllegalArgumentException.class, () -> FeatureSpecCheck.layout(spec));
    assertThat(e.getMessage(), containsString("feature 'c': zscore needs a numeric feature, not string"));
  }
}
