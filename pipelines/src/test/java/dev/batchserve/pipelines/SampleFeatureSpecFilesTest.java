package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.batchserve.tools.samples.ChurnSample;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.transforms.features.FeatureSpec;
import java.nio.charset.StandardCharsets;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * The feature specs TrainChurnModel and TrainFraudModel save: the checked-in files were written by
 * the code before FeatureSpec was split (#19); fitting the same templates on the same rows must
 * still write them byte for byte, and reading them must write them back unchanged.
 */
@RunWith(JUnit4.class)
public class SampleFeatureSpecFilesTest {

  private String resource(String name) throws Exception {
    return new String(getClass().getResourceAsStream(name).readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  public void churnSpecIsWrittenAndReadByteForByte() throws Exception {
    String file = resource("/specs/churn_feature_spec.json");
    FeatureSpec fitted = FeatureSpec.fit(ChurnSample.template(), ChurnSample.generate(2000, 7));
    assertThat(fitted.toJson(), equalTo(file));
    assertThat(FeatureSpec.fromJson(file).toJson(), equalTo(file));
    assertThat(FeatureSpec.fromJson(file), equalTo(fitted));
  }

  @Test
  public void fraudSpecIsWrittenAndReadByteForByte() throws Exception {
    String file = resource("/specs/fraud_feature_spec.json");
    FeatureSpec fitted = FeatureSpec.fit(FraudSample.template(), FraudSample.generate(300, 7));
    assertThat(fitted.toJson(), equalTo(file));
    assertThat(FeatureSpec.fromJson(file).toJson(), equalTo(file));
    assertThat(FeatureSpec.fromJson(file), equalTo(fitted));
  }
}
