package dev.batchserve.pipelines.config;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.junit.Test;

/** The job file's {@code segments} block: its arguments, and one error per rule. */
public class JobConfigSegmentsTest {
  private static final String JOB = String.join("\n",
      "name: churn",
      "source: {type: files, path: data/customers.csv}",
      "keyColumns: [customer_id]",
      "model: models/churn/7",
      "segments: {column: region, models: {eu: models/churn-eu/3, us: models/churn-us/5}}",
      "sinks:",
      "  - {type: files, root: out/churn}",
      "");

  private static List<String> args(String yaml, String... overrides) {
    return SetOptions.of(JobConfig.parse(yaml, false, "job.yaml", List.of(overrides)), null);
  }

  private static List<String> errors(String yaml, String... overrides) {
    return assertThrows(JobConfig.InvalidConfig.class,
        () -> JobConfig.parse(yaml, false, "job.yaml", List.of(overrides))).errors();
  }

  @Test
  public void segmentsBecomeTheSegmentOptions() {
    assertThat(args(JOB), hasItems("--model=models/churn/7", "--segmentColumn=region",
        "--segmentModels=eu=models/churn-eu/3,us=models/churn-us/5"));
    List<String> byKey = args(JOB.replace("column: region", "keySeparator: ':'"));
    assertThat(byKey, hasItem("--segmentKeySeparator=:"));
    assertThat(byKey.toString(), byKey, not(hasItem("--segmentColumn=region")));
    assertThat(args(JOB.replace("segments: {column: region, models: {eu: models/churn-eu/3, us: models/churn-us/5}}\n", "")),
        not(hasItem("--segmentModels=eu=models/churn-eu/3,us=models/churn-us/5")));
  }

  @Test
  public void eachRuleNamesTheField() {
    assertThat(errors(JOB.replace("column: region, ", "")), hasItem(
        "segments needs exactly one of column (the segment is a record column) and keySeparator (the segment is"
            + " the key before it)"));
    assertThat(errors(JOB.replace("column: region", "column: region, keySeparator: ':'")), hasItem(
        "segments needs exactly one of column (the segment is a record column) and keySeparator (the segment is"
            + " the key before it)"));
    assertThat(errors(JOB.replace(", models: {eu: models/churn-eu/3, us: models/churn-us/5}", "")), hasItem(
        "segments.models must map at least one segment to its model directory, e.g. {eu: models/churn-eu/3}"));
    assertThat(errors(JOB.replace("us: models/churn-us/5", "us: 'models/a,b'")), hasItem(
        "segments.models.us must be a model directory without ',', but was 'models/a,b'"));
    assertThat(errors(JOB.replace("us: models", "'u=s': models")), hasItem(
        "segments.models: a segment must be non-empty without ',' or '=', but was 'u=s'"));
  }
}
