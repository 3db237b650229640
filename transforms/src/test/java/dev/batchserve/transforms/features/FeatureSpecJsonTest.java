package dev.batchserve.transforms.features;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link FeatureSpecJson}: the stored files read back byte for byte, one class per step kind. */
@RunWith(JUnit4.class)
public class FeatureSpecJsonTest {

  private String resource(String name) throws Exception {
    return new String(getClass().getResourceAsStream(name).readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  public void storedSpecFilesWriteBackByteForByte() throws Exception {
    for (String name : new String[] {"/features/golden_spec.json", "/features/golden_spec_without_date_part_counts.json"}) {
      String json = resource(name);
      assertThat(name, FeatureSpecJson.write(FeatureSpecJson.parse(json)), equalTo(json.strip()));
      assertThat(name, FeatureSpec.fromJson(json).toJson(), equalTo(json.strip()));
    }
  }

  @Test
  public void eachKindReadsAsItsOwnStepClass() throws Exception {
    FeatureSpec golden = FeatureSpec.fromJson(resource("/features/golden_spec.json"));
    assertThat(golden.feature("amount").transforms().get(0), instanceOf(ClipStep.class));
    assertThat(golden.feature("amount").transforms().get(1), instanceOf(Log1pStep.class));
    assertThat(golden.feature("amount").transforms().get(2), instanceOf(ZScoreStep.class));
    assertThat(golden.feature("age").transforms().get(0), instanceOf(MinMaxStep.class));
    assertThat(golden.feature("age").transforms().get(1), instanceOf(BucketizeStep.class));
    assertThat(golden.feature("country").transforms().get(0), instanceOf(OneHotStep.class));
    assertThat(golden.feature("device").transforms().get(0), instanceOf(HashStep.class));
    assertThat(golden.feature("mobile").transforms().get(0), instanceOf(PassthroughStep.class));
    assertThat(golden.feature("ts").transforms().get(0), instanceOf(DatePartsStep.class));
    assertThat(golden.feature("ts").transforms().get(0).kind(), is(StepKind.DATEPARTS));
  }

  @Test
  public void explicitNullsMeanTheDefaults() {
    String json = "{\"version\": 1, \"features\": [{\"name\": \"x\", \"type\": \"double\", \"onInvalid\": null,"
        + " \"transforms\": [{\"kind\": \"passthrough\"}]}], \"crosses\": null}";
    FeatureSpec spec = FeatureSpec.fromJson(json);
    assertThat(spec.feature("x").onInvalid(), is(InvalidPolicy.ERROR));
    assertThat(spec, equalTo(FeatureSpec.builder().numeric("x").passthrough().build()));
  }

  @Test
  public void aParameterOfAnotherKindIsRefused() {
    String json = "{\"version\": 1, \"features\": [{\"name\": \"x\", \"type\": \"double\","
        + " \"transforms\": [{\"kind\": \"log1p\", \"buckets\": 3}]}]}";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpec.fromJson(json));
    assertThat(e.getMessage(), containsString("not a valid feature spec JSON"));
    assertThat(e.getMessage(), containsString("buckets"));
  }

  @Test
  public void aStepWithoutKindIsRefusedNamingTheField() {
    String json = "{\"version\": 1, \"features\": [{\"name\": \"x\", \"type\": \"double\","
        + " \"transforms\": [{\"output\": \"y\"}]}]}";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpec.fromJson(json));
    assertThat(e.getMessage(), containsString("'kind'"));
  }
}
