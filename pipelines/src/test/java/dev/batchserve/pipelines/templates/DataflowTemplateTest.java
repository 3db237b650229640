package dev.batchserve.pipelines.templates;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainFraudModel;
import java.io.File;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Dataflow without Google Cloud: the job translates with the DataflowRunner into a classic template
 * (a local file), and the Flex Template metadata generated from {@link BatchScoringOptions} is what
 * {@code gcloud dataflow flex-template build --print-only} accepts.
 */
public class DataflowTemplateTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path model;
  private static Path csv;

  @BeforeClass
  public static void trainAndGenerate() throws Exception {
    model = TMP.getRoot().toPath().resolve("models/fraud-mlp/1");
    TrainFraudModel.train(model, 1000, 7, "1");
    csv = TMP.getRoot().toPath().resolve("sample/accounts.csv");
    FraudSample.writeCsv(FraudSample.generate(50, 42), csv);
  }

  @Test
  public void theJobTranslatesToABatchDataflowTemplateWithItsSteps() throws Exception {
    Path template = TMP.getRoot().toPath().resolve("template/batch-scoring.json");
    Path staging = TMP.newFolder("staging").toPath();
    Path small = TMP.getRoot().toPath().resolve("stage-me.txt");
    Files.writeString(small, "staging every classpath jar (~170 MB) is not what this test is about\n");
    BatchScoringOptions o = PipelineOptionsFactory.fromArgs(
        "--runner=DataflowRunner", "--project=batchserve-test", "--region=us-central1",
        "--gcpTempLocation=gs://batchserve-test/tmp", "--tempLocation=gs://batchserve-test/tmp",
        "--stagingLocation=" + staging, "--templateLocation=" + template,
        "--filesToStage=" + small,
        "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
        "--pathValidatorClass=org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
        "--input=" + csv, "--model=" + model, "--output=" + TMP.getRoot() + "/out", "--runDate=2026-11-28")
        .as(BatchScoringOptions.class);
    // The job's own main path: with --waitUntilFinish=false it returns once the runner has the job
    // (with --templateLocation the runner writes the template and submits nothing).
    o.setWaitUntilFinish(false);
    assertThat(BatchScoringPipeline.run(o).runId, is("fraud-daily-20261128"));

    JsonNode job = JSON.readTree(template.toFile());
    assertThat(job.path("type").asText(), is("JOB_TYPE_BATCH"));
    List<String> steps = new ArrayList<>(); // properties.user_name is {"@type": "...Text", "value": "<name>"}
    job.path("steps").forEach(s -> steps.add(s.path("properties").path("user_name").path("value").asText()));
    // CSV is matched, then each file parsed whole (issue 15: no more TextIO line reading).
    assertThat(steps.toString(), steps.get(0).startsWith("Read/MatchCsv/"), is(true));
    assertThat(steps.toString(), steps.contains("Read/ParseCsv"), is(true));
    assertThat(steps.toString(), steps.stream().anyMatch(n -> n.startsWith("KeyedPrediction/Infer")), is(true));
    assertThat(steps.toString(), steps.stream().anyMatch(n -> n.startsWith("KeyedPrediction/JoinBack")), is(true));
    assertThat(steps.toString(), steps.stream().anyMatch(n -> n.startsWith("WriteFiles")), is(true));
  }

  @Test
  public void metadataHasEveryOptionWithItsDescriptionAndDefault() throws Exception {
    JsonNode meta = JSON.readTree(WriteFlexTemplate.metadataJson());
    assertThat(meta.path("name").asText(), is(WriteFlexTemplate.TEMPLATE_NAME));
    Map<String, JsonNode> params = new HashMap<>();
    meta.path("parameters").forEach(p -> params.put(p.path("name").asText(), p));
    int options = 0;
    List<Method> getters = new java.util.ArrayList<>(List.of(BatchScoringOptions.class.getDeclaredMethods()));
    getters.addAll(List.of(dev.batchserve.pipelines.StoreSinkOptions.class.getDeclaredMethods()));
    getters.addAll(List.of(dev.batchserve.pipelines.schedule.ScheduleOptions.class.getDeclaredMethods()));
    for (Method m : getters) {
      if (!m.getName().startsWith("get") || m.isAnnotationPresent(org.apache.beam.sdk.options.Hidden.class)) {
        continue;
      }
      options++;
      String name = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
      JsonNode p = params.get(name);
      assertTrue("no parameter " + name, p != null);
      assertThat(name, p.path("helpText").asText(), is(m.getAnnotation(Description.class).value()));
      assertThat(name, p.path("isOptional").asBoolean(), is(true));
      Default.String s = m.getAnnotation(Default.String.class);
      if (s != null && !s.value().isEmpty()) {
        assertThat(name, p.path("defaultValue").asText(), is(s.value()));
      }
    }
    assertThat(params.size(), is(options));
    // The store and schedule options are inherited (StoreSinkOptions, ScheduleOptions); the test-only
    // BigQuery services are hidden.
    for (String store : List.of("redisHost", "jdbcUrl", "jdbcView", "bigQueryTable", "runDate", "waitForMarker")) {
      assertTrue("no parameter " + store, params.containsKey(store));
    }
    assertTrue("a hidden option is a parameter", !params.containsKey("bigQueryServices"));
    assertThat(params.get("batchSize").path("label").asText(), is("Batch size"));
    assertThat(params.get("batchSize").path("paramType").asText(), is("NUMBER"));
    assertThat(params.get("batchSize").path("defaultValue").asText(), is("256"));
    assertThat(params.get("model").path("paramType").asText(), is("TEXT"));
    // The circuit-breaker limits take a number or off, as on the command line.
    String psi = params.get("maxPsi").path("regexes").get(0).asText();
    for (String ok : List.of("off", "0.25", "Infinity", "1e-3")) {
      assertTrue("maxPsi " + ok, ok.matches(psi));
    }
    assertTrue("maxPsi none", !"none".matches(psi));
    String minRecords = params.get("minRecords").path("regexes").get(0).asText();
    assertTrue("minRecords off", "off".matches(minRecords) && "10".matches(minRecords) && !"1.5".matches(minRecords));
    // Typed options (issue 19): defaults in the command line's text, choices as regexes of their names.
    assertThat(params.get("keyColumns").path("defaultValue").asText(), is("account_id"));
    assertThat(params.get("formats").path("defaultValue").asText(), is("parquet,jsonl"));
    assertThat(params.get("fallback").path("defaultValue").asText(), is("abstain"));
    assertThat(params.get("duplicateKeys").path("defaultValue").asText(), is("error"));
    assertTrue("no default for passThroughColumns", params.get("passThroughColumns").path("defaultValue").isMissingNode());
    String duplicateKeys = params.get("duplicateKeys").path("regexes").get(0).asText();
    assertTrue("duplicateKeys", "last_wins".matches(duplicateKeys) && "ERROR".matches(duplicateKeys)
        && !"first".matches(duplicateKeys));
    String formats = params.get("formats").path("regexes").get(0).asText();
    assertTrue("formats", "parquet,jsonl".matches(formats) && "JSONL".matches(formats) && !"parquet,xml".matches(formats));
    String inputFormat = params.get("inputFormat").path("regexes").get(0).asText();
    assertTrue("inputFormat", "bigquery".matches(inputFormat) && !"xml".matches(inputFormat));
  }

  @Test
  public void theCheckedInDockerfileIsTheGeneratedOne() throws Exception {
    Path checkedIn = Path.of(System.getProperty("batchserve.root", ".."), "docker", "Dockerfile");
    assertThat(Files.readString(checkedIn, StandardCharsets.UTF_8), is(WriteFlexTemplate.dockerfile()));
    assertThat(WriteFlexTemplate.dockerfile(),
        containsString("FLEX_TEMPLATE_JAVA_MAIN_CLASS=\"dev.batchserve.pipelines.BatchScoringPipeline\""));
  }

  /** gcloud validates the metadata offline (rc 0, prints the spec); skipped where gcloud is missing. */
  @Test
  public void gcloudAcceptsTheGeneratedMetadata() throws Exception {
    String gcloud = onPath("gcloud");
    assumeTrue("gcloud is not on the PATH", gcloud != null);
    Path meta = TMP.getRoot().toPath().resolve("metadata.json");
    Files.writeString(meta, WriteFlexTemplate.metadataJson(), StandardCharsets.UTF_8);
    ProcessBuilder pb = new ProcessBuilder(gcloud, "dataflow", "flex-template", "build", "gs://b/t.json",
        "--image=gcr.io/p/i:1", "--sdk-language=JAVA", "--metadata-file=" + meta, "--print-only")
        .redirectErrorStream(true);
    pb.environment().put("CLOUDSDK_CORE_DISABLE_PROMPTS", "1");
    pb.environment().put("CLOUDSDK_CONFIG", TMP.newFolder("gcloud-config").toString());
    Process proc = pb.start();
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue("gcloud timed out", proc.waitFor(2, TimeUnit.MINUTES));
    assertThat(out, proc.exitValue(), is(0));
    assertThat(out, containsString("batchSize"));
    assertThat(out, containsString(WriteFlexTemplate.TEMPLATE_NAME));
  }

  private static String onPath(String exe) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, exe);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }
}
