package com.example.churn;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.RunInfo;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The library as a user sees it: installed jars, a model directory the user brings, the user's own transform. */
public class ChurnScoringTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  @Test
  public void everyActiveCustomerGetsOneLineScoredOrFallback() throws Exception {
    FeatureSpec spec = FeatureSpec.fit(FeatureSpec.builder()
            .numeric("tenure_months").passthrough()
            .numeric("monthly_spend").passthrough()
            .numeric("support_tickets").passthrough()
            .build(),
        List.of(Map.of("tenure_months", 12.0, "monthly_spend", 30.0, "support_tickets", 1.0),
            Map.of("tenure_months", 1.0, "monthly_spend", 80.0, "support_tickets", 4.0)));
    // score = 0.5 - 0.01 * tenure + 0.0 * spend + 0.1 * tickets (identity link): the shipped demo model
    String model = ChurnScoringJob.copyDemoModel(TMP.newFolder("work").toPath()).toString();
    RunInfo run = RunInfo.of("churn", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

    PCollection<String> customers = p.apply("Customers", Create.of(
        "customer_id,tenure_months,monthly_spend,support_tickets",
        "c1,10,20,0",
        "c2,0,50,3",
        "c3,20,10,1"));
    PCollection<String> active = p.apply("Active", Create.of("c1", "c2", "c3", "c4"));
    PCollection<String> lines = customers.apply(new ChurnScoring(spec, model, run).withActiveCustomers(active));

    PAssert.that(lines).containsInAnyOrder(
        "c1,0.4000,model",
        "c2,0.8000,model",
        "c3,0.4000,model",
        "c4,0.5000,fallback:cold_start");
    p.run().waitUntilFinish();
  }
}
