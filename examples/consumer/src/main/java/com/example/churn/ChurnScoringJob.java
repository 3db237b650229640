package com.example.churn;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.PCollection;

/**
 * A user's runnable job around {@link ChurnScoring}: customer CSV in, one scored line per customer
 * out, on any Beam runner. Without {@code --input}/{@code --model} it writes a small demo input and
 * copies the demo model it ships (a linear model directory, made once by whatever trains models:
 * this project depends on batchserve-transforms only) under {@code --workDir} first, so
 * {@code make test} runs it end to end.
 *
 * <pre>
 * mvn -f examples/consumer/pom.xml compile exec:java -Dexec.args="--workDir=target/churn-demo"
 * mvn -f examples/consumer/pom.xml exec:java -Dexec.args="--input=customers.csv --model=/models/churn/4 --output=out/churn"
 * </pre>
 */
public final class ChurnScoringJob {
  /** The job's options. */
  public interface Options extends PipelineOptions {
    @Description("Customer CSV (customer_id,tenure_months,monthly_spend,support_tickets); empty = the demo input.")
    @Default.String("")
    String getInput();

    void setInput(String value);

    @Description("Model directory; empty = the demo linear model (copied into --workDir).")
    @Default.String("")
    String getModel();

    void setModel(String value);

    @Description("Output prefix of the scored lines; empty = <workDir>/scores.")
    @Default.String("")
    String getOutput();

    void setOutput(String value);

    @Description("Where the demo input and model are written.")
    @Default.String("target/churn-demo")
    String getWorkDir();

    void setWorkDir(String value);
  }

  private ChurnScoringJob() {}

  public static void main(String[] args) throws IOException {
    Options o = PipelineOptionsFactory.fromArgs(args).withValidation().as(Options.class);
    Path work = Path.of(o.getWorkDir());
    FeatureSpec spec = demoSpec();
    String input = o.getInput().isEmpty() ? writeDemoInput(work) : o.getInput();
    String model = o.getModel().isEmpty() ? copyDemoModel(work).toString() : o.getModel();
    String output = o.getOutput().isEmpty() ? work.resolve("scores").toString() : o.getOutput();

    Pipeline p = Pipeline.create(o);
    RunInfo run = RunInfo.of("churn", LocalDate.now(java.time.ZoneOffset.UTC), RunInfo.Interval.DAILY);
    PCollection<String> lines = p.apply("ReadCustomers", TextIO.read().from(input))
        .apply("Score", new ChurnScoring(spec, model, run));
    lines.apply("Write", TextIO.write().to(output).withSuffix(".csv").withoutSharding());
    PipelineResult.State state = p.run().waitUntilFinish();
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("the churn job ended in state " + state);
    }
    System.out.println("Scored " + input + " with " + model + " into " + output + ".csv");
  }

  /** Three numeric features passed through as they are. */
  static FeatureSpec demoSpec() {
    return FeatureSpec.fit(FeatureSpec.builder()
            .numeric("tenure_months").passthrough()
            .numeric("monthly_spend").passthrough()
            .numeric("support_tickets").passthrough()
            .build(),
        List.of(Map.of("tenure_months", 12.0, "monthly_spend", 30.0, "support_tickets", 1.0),
            Map.of("tenure_months", 1.0, "monthly_spend", 80.0, "support_tickets", 4.0)));
  }

  private static String writeDemoInput(Path work) throws IOException {
    Files.createDirectories(work);
    Path csv = work.resolve("customers.csv");
    Files.writeString(csv, String.join("\n",
        "customer_id,tenure_months,monthly_spend,support_tickets", "c1,10,20,0", "c2,0,50,3", "c3,20,10,1") + "\n");
    return csv.toString();
  }

  /** The files of the demo model directory, a resource of this jar. */
  static final List<String> DEMO_MODEL_FILES = List.of("linear-model.json", "model-manifest.json");

  /**
   * Copies the demo model (score = 0.5 - 0.01 * tenure + 0.1 * tickets, identity link; its manifest
   * lists tenure_months, monthly_spend, support_tickets) into {@code <work>/churn-linear/1} and
   * returns that directory. A jar resource is not a directory, so the files are copied one by one.
   */
  static Path copyDemoModel(Path work) {
    Path dir = work.resolve("churn-linear/1");
    try {
      Files.createDirectories(dir);
      for (String name : DEMO_MODEL_FILES) {
        try (InputStream in = ChurnScoringJob.class.getResourceAsStream("demo-model/" + name)) {
          if (in == null) {
            throw new IllegalStateException("the demo model file com/example/churn/demo-model/" + name
                + " is missing from the class path: build the example with Maven (its resources)");
          }
          Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }
}
