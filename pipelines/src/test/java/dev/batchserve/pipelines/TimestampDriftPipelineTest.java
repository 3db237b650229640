package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.pipelines.monitoring.QualityFile;
import dev.batchserve.pipelines.monitoring.RunReport;
import dev.batchserve.tools.training.TrainingSet;
import dev.batchserve.transforms.features.DatePart;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.inference.BatchInfer;
import dev.batchserve.transforms.monitoring.FeatureQuality;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.sink.FileSink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 21's acceptance through the whole job: a model whose spec has a timestamp feature (hour and
 * day of week as date parts) scores a day months after its training range and publishes, because
 * drift is measured on the date parts the model sees; the same day with another feature shifted
 * trips the circuit breaker and publishes nothing. (At transform level: {@code TimestampDriftTest}.)
 */
public class TimestampDriftPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant TRAINING_START = Instant.parse("2026-01-05T00:00:00Z"); // a Monday
  private static Path model;

  /**
   * Trains a linear model on two weeks of January (three records an hour, amounts 0..99 cycling,
   * label amount >= 50) and exports it with its fitted spec and manifest.
   */
  @BeforeClass
  public static void trainModel() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int h = 0; h < 14 * 24; h++) {
      for (int j = 0; j < 3; j++) {
        double amount = (h * 3 + j) % 100;
        Map<String, Object> r = new HashMap<>();
        r.put("ts", TRAINING_START.plusSeconds(3600L * h + 60L * j).toString());
        r.put("amount", amount);
        r.put("label", amount >= 50 ? 1.0 : 0.0);
        rows.add(r);
      }
    }
    FeatureSpec template = FeatureSpec.builder()
        .timestamp("ts").dateParts(DatePart.HOUR, DatePart.DAY_OF_WEEK)
        .numeric("amount").histogramBins(4).zscore()
        .build();
    TrainingSet t = TrainingSet.fit(template, rows, "label");
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes(new int[0]).withEpochs(5))
        .train(t.x, t.y);
    model = TMP.getRoot().toPath().resolve("models/tx/1");
    LinearExporter.export(weights, model, ModelManifest.builder().name("tx").version("1")
        .inputFeatures(t.spec.outputNames())
        .metadata(Map.of(BatchInfer.SCORE_METADATA_KEY, BatchInfer.SCORE_PROBABILITY)).build());
    SaveSpecToModel.write(t.spec, model);
    assertThat(t.spec.feature("ts").stats().datePartCounts(DatePart.HOUR), everyItem(is(42L)));
  }

  /** One day, a record every 10 minutes (144), amounts as in training plus {@code shift}. */
  private static Path day(String name, String date, double shift) throws Exception {
    Path csv = TMP.getRoot().toPath().resolve(name + "/tx.csv");
    Files.createDirectories(csv.getParent());
    List<String> lines = new ArrayList<>(List.of("id,ts,amount"));
    Instant start = Instant.parse(date + "T00:00:00Z");
    for (int i = 0; i < 144; i++) {
      lines.add("t" + i + "," + start.plusSeconds(600L * i) + "," + ((i * 7) % 100 + shift));
    }
    Files.write(csv, lines, StandardCharsets.UTF_8);
    return csv;
  }

  private static BatchScoringOptions options(Path input, Path out, String date) {
    return PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--input=" + input, "--model=" + model,
        "--output=" + out, "--runDate=" + date, "--keyColumns=id", "--pipelineName=tx", "--formats=jsonl",
        "--numShards=1", "--progressEvery=0").withValidation().as(BatchScoringOptions.class);
  }

  private static String messages(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t.getMessage()).append('\n');
    }
    return b.toString();
  }

  /** The newest attempt of a run (a tripped run's attempt keeps its quality file and report). */
  private static Path newestAttempt(Path out, String runId, String date) throws Exception {
    Path dir = out.resolve("run_date=" + date + "/run_id=" + runId);
    try (Stream<Path> attempts = Files.list(dir)) {
      return attempts.filter(a -> a.getFileName().toString().startsWith(FileSink.ATTEMPT_PREFIX))
          .max(java.util.Comparator.comparing(a -> a.getFileName().toString()))
          .orElseThrow(() -> new AssertionError("no attempt in " + dir));
    }
  }

  private static boolean anyAttemptSucceeded(Path out, String runId, String date) throws Exception {
    try (Stream<Path> files = Files.walk(out.resolve("run_date=" + date + "/run_id=" + runId))) {
      return files.anyMatch(p -> p.getFileName().toString().equals(FileSink.SUCCESS));
    }
  }

  @Test
  public void aDayPastTrainingPublishesWhileARealShiftOfAnotherFeatureTripsTheBreaker() throws Exception {
    Path out = TMP.getRoot().toPath().resolve("out");

    // (a) 2026-12-06, eleven months after training, the same amounts: published.
    RunSummary same = BatchScoringPipeline.run(options(day("same", "2026-12-06", 0), out, "2026-12-06"));
    assertThat(same.runId, is("tx-daily-20261206"));
    assertThat(same.predictions, is(144L));
    assertThat(same.deadLetters, is(0L));
    assertThat(FileSink.latestDirectory(out.toString()), is(same.runDirectory));
    RunQuality q = QualityFile.read(same.runDirectory);
    FeatureQuality ts = q.feature("ts");
    assertThat(ts.getPsi(), nullValue());
    assertThat(ts.getDriftSkipped(), containsString("date parts"));
    FeatureQuality hour = q.feature("ts_hour");
    assertThat(hour.getCounts(), everyItem(is(6L)));
    assertThat(hour.getPsi(), closeTo(0.0, 1e-12));
    // 2026-12-06 is a Sunday: one weekday, which a daily run cannot compare with two weeks of training.
    assertThat(q.feature("ts_day_of_week").getCounts(), contains(0L, 0L, 0L, 0L, 0L, 0L, 144L));
    assertThat(q.feature("ts_day_of_week").getDriftSkipped(), is("a daily run sees only part of the day_of_week cycle"));
    JsonNode report = JSON.readTree(Path.of(same.runDirectory, RunReport.JSON_FILE).toFile());
    assertThat(report.path("status").asText(), is("published"));
    assertThat(report.path("circuit_breaker").path("tripped").asBoolean(true), is(false));
    assertThat(report.path("circuit_breaker").path("violations").size(), is(0));

    // (b) the next day with every amount 1000 higher: tripped on amount alone, nothing published.
    String latest = Files.readString(out.resolve(FileSink.LATEST));
    RuntimeException e = assertThrows(RuntimeException.class,
        () -> BatchScoringPipeline.run(options(day("shifted", "2026-12-07", 1000), out, "2026-12-07")));
    assertThat(messages(e), containsString("circuit breaker tripped for run tx-daily-20261207"));
    assertThat(messages(e), containsString("maxPsi: feature amount PSI "));
    assertThat(messages(e), not(containsString("feature ts")));
    assertThat(Files.readString(out.resolve(FileSink.LATEST)), is(latest));
    assertThat(anyAttemptSucceeded(out, "tx-daily-20261207", "2026-12-07"), is(false));
    Path attempt = newestAttempt(out, "tx-daily-20261207", "2026-12-07");
    assertThat(Files.exists(attempt.resolve("jsonl")), is(false));
    RunQuality shifted = QualityFile.read(attempt.toString());
    assertThat(shifted.feature("amount").getPsi(), greaterThan(0.25));
    assertThat(shifted.feature("ts").getPsi(), nullValue());
    assertThat(shifted.feature("ts_hour").getPsi(), closeTo(0.0, 1e-12));
    JsonNode tripped = JSON.readTree(attempt.resolve(RunReport.JSON_FILE).toFile());
    assertThat(tripped.path("status").asText(), is("tripped"));
    List<String> violations = new ArrayList<>();
    tripped.path("circuit_breaker").path("violations").forEach(v -> violations.add(v.asText()));
    // Only the amount and what it moves (the scores); no word about ts or its date parts.
    assertThat(violations, is(List.of(
        "maxPsi: feature amount PSI 6.9317 > 0.25",
        "maxJsDivergence: feature amount JS divergence 0.5511 > 0.1",
        "maxPredictionMeanShift: mean score moved by +0.5179 against run tx-daily-20261206 (0.4821 -> 1.0000) > 0.1")));
  }
}
