package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.linear.LinearModelFile;
import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Issue 21: a user's own labelled file to served scores with launcher verbs alone: fit-spec, train,
 * model verify, manifest (write and re-hash), then score; the served scores equal a plain Java
 * computation from the exported weights.
 */
@RunWith(JUnit4.class)
public class OwnModelToolsTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Path work;
  private static Path data;
  private static Path template;
  private static final List<Map<String, Object>> ROWS = new ArrayList<>();

  @BeforeClass
  public static void writeData() throws Exception {
    work = TMP.getRoot().toPath();
    Random r = new Random(11);
    StringBuilder csv = new StringBuilder("id,tenure,plan,churned\n");
    String[] plans = {"basic", "plus", "pro"};
    for (int i = 0; i < 300; i++) {
      double tenure = Math.round(r.nextDouble() * 4800) / 100.0;
      String plan = plans[r.nextInt(3)];
      int churned = tenure < 12 && !plan.equals("pro") ? 1 : r.nextInt(10) == 0 ? 1 : 0;
      csv.append("u").append(i).append(',').append(tenure).append(',').append(plan).append(',').append(churned).append('\n');
      Map<String, Object> row = new HashMap<>();
      row.put("id", "u" + i);
      row.put("tenure", Double.toString(tenure));
      row.put("plan", plan);
      ROWS.add(row);
    }
    data = work.resolve("customers.csv");
    Files.writeString(data, csv.toString());
    template = work.resolve("template.json");
    Files.writeString(template, FeatureSpec.builder()
        .numeric("tenure").zscore()
        .categorical("plan").vocabulary().oneHot()
        .build().toJson());
  }

  private static String run(int expectedCode, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = Launcher.run(args, work.resolve("launcher.log"), out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text, code, is(expectedCode));
    return text;
  }

  @Test
  public void fitSpecFitsTheTemplateOnTheFileAsThePlainFitDoes() throws Exception {
    Path spec = work.resolve("fitted/feature-spec.json");
    Files.createDirectories(spec.getParent());
    String out = run(0, "fit-spec", "--input=" + data, "--template=" + template, "--out=" + spec);
    assertThat(out, containsString("on 300 rows"));
    FeatureSpec fitted = FeatureSpec.read(spec.toString());
    FeatureSpec plain = FeatureSpec.fit(FeatureSpec.read(template.toString()), ROWS);
    // The same fit up to the order of summation (the file's records arrive in another order).
    assertThat(fitted.outputNames(), is(plain.outputNames()));
    assertThat(fitted.feature("plan").vocabulary(), is(plain.feature("plan").vocabulary()));
    assertThat(fitted.feature("tenure").stats().histogram().counts(), is(plain.feature("tenure").stats().histogram().counts()));
    assertThat(fitted.feature("tenure").stats().mean(), closeTo(plain.feature("tenure").stats().mean(), 1e-9));
    for (Map<String, Object> row : ROWS) {
      float[] a = fitted.transform(row).vector();
      float[] b = plain.transform(row).vector();
      for (int i = 0; i < a.length; i++) {
        assertThat((double) a[i], closeTo(b[i], 1e-6));
      }
    }
  }

  @Test
  public void aLabelledFileBecomesALinearModelTheJobServes() throws Exception {
    Path model = work.resolve("models/churn/1");
    String trained = run(0, "train", "--input=" + data, "--template=" + template, "--label=churned",
        "--modelDir=" + model, "--name=churn", "--model=linear", "--epochs=60", "--learningRate=0.05");
    assertThat(trained, containsString("LINEAR_JSON"));
    assertThat(run(0, "model", "verify", model.toString()), containsString("OK"));

    Path out = work.resolve("predictions");
    run(0, "score", "--runner=DirectRunner", "--input=" + data, "--model=" + model, "--output=" + out,
        "--keyColumns=id", "--runDate=2026-12-06", "--minRecords=1", "--numShards=1");
    Map<String, Double> served = servedScores(out);
    assertThat(served.size(), is(300));

    // The same score in plain Java: the saved spec's vector, the exported weights, the logistic link.
    FeatureSpec spec = FeatureSpec.read(model.resolve("feature-spec.json").toString());
    LinearModelFile weights = LinearModelFile.read(model);
    int checked = 0;
    for (Map<String, Object> row : ROWS) {
      FeatureOutcome o = spec.transform(row);
      float[] x = o.vector();
      double z = weights.getBias()[0];
      for (int i = 0; i < x.length; i++) {
        z += weights.getWeights()[0][i] * x[i];
      }
      double p = 1 / (1 + Math.exp(-z));
      assertThat((String) row.get("id"), served.get((String) row.get("id")), closeTo(p, 1e-5));
      checked++;
    }
    assertThat(checked, is(300));
    // The model learned something: short tenures score higher than long ones on the same plan.
    assertThat(score(spec, weights, "2", "basic"), greaterThan(score(spec, weights, "40", "basic")));
  }

  /**
   * The README walk-through with Parquet and ONNX: a typed Parquet file (double, string, long label),
   * an MLP exported as ONNX, served scores equal to the MLP's own forward pass in plain Java.
   */
  @Test
  public void yourOwnParquetWithYourOwnOnnxModel() throws Exception {
    org.apache.avro.Schema schema = org.apache.avro.SchemaBuilder.record("Customer").fields()
        .requiredString("id").requiredDouble("tenure").requiredString("plan").requiredLong("churned").endRecord();
    Path parquet = work.resolve("customers.parquet");
    Map<String, Double> tenure = new HashMap<>();
    try (org.apache.parquet.hadoop.ParquetWriter<org.apache.avro.generic.GenericRecord> w =
        org.apache.parquet.avro.AvroParquetWriter.<org.apache.avro.generic.GenericRecord>builder(
            org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(
                new org.apache.hadoop.fs.Path(parquet.toUri()), new org.apache.hadoop.conf.Configuration()))
            .withSchema(schema).build()) {
      for (Map<String, Object> row : ROWS) {
        org.apache.avro.generic.GenericRecord r = new org.apache.avro.generic.GenericData.Record(schema);
        double t = Double.parseDouble((String) row.get("tenure"));
        tenure.put((String) row.get("id"), t);
        r.put("id", row.get("id"));
        r.put("tenure", t);
        r.put("plan", row.get("plan"));
        r.put("churned", t < 12 && !"pro".equals(row.get("plan")) ? 1L : 0L);
        w.write(r);
      }
    }
    Path model = work.resolve("models/churn-onnx/1");
    assertThat(run(0, "train", "--input=" + parquet, "--template=" + template, "--label=churned",
        "--modelDir=" + model, "--name=churn-onnx", "--model=mlp", "--hidden=8", "--export=onnx", "--epochs=30"),
        containsString("ONNX"));
    run(0, "model", "verify", model.toString());
    Path out = work.resolve("predictions-onnx");
    run(0, "score", "--runner=DirectRunner", "--input=" + parquet, "--model=" + model, "--output=" + out,
        "--keyColumns=id", "--runDate=2026-12-06", "--minRecords=1", "--numShards=1");
    Map<String, Double> served = servedScores(out);
    assertThat(served.size(), is(300));

    // Plain Java: the saved spec's vector through the trained MLP's own forward pass (ONNX not involved).
    FeatureSpec spec = FeatureSpec.read(model.resolve("feature-spec.json").toString());
    dev.batchserve.models.training.MlpWeights weights = mlpOf(model);
    for (Map<String, Object> row : ROWS) {
      Map<String, Object> typed = new HashMap<>(row);
      typed.put("tenure", tenure.get(row.get("id")));
      float p = weights.predict(spec.transform(typed).vector())[0];
      assertThat((String) row.get("id"), served.get((String) row.get("id")), closeTo(p, 1e-5));
    }
  }

  /** The trained network as train saved it beside the ONNX file (mlp-weights.json, in the manifest). */
  private static dev.batchserve.models.training.MlpWeights mlpOf(Path model) throws Exception {
    assertThat(ModelManifest.read(model).getFiles().stream().map(f -> f.getPath()).collect(Collectors.toList()),
        org.hamcrest.Matchers.hasItem(dev.batchserve.tools.training.TrainOwnModel.MLP_WEIGHTS_FILE));
    return dev.batchserve.models.training.MlpWeights.fromJson(
        Files.readString(model.resolve(dev.batchserve.tools.training.TrainOwnModel.MLP_WEIGHTS_FILE)));
  }

  @Test
  public void manifestWritesAndReHashesAModelDirectoryMadeElsewhere() throws Exception {
    Path model = work.resolve("models/elsewhere/2");
    run(0, "train", "--input=" + data, "--template=" + template, "--label=churned", "--modelDir=" + model,
        "--name=churn", "--model=linear");
    // As if the model came from another tool: no manifest yet.
    Files.delete(model.resolve(ModelManifest.FILE_NAME));
    assertThat(run(10, "manifest", model.toString()), containsString("give --name, --version and --format"));
    run(0, "manifest", model.toString(), "--name=churn-external", "--version=2", "--format=linear");
    ModelManifest written = ModelManifest.read(model);
    assertThat(written.getFormat(), is("LINEAR_JSON"));
    assertThat(written.getInputFeatures(), is(FeatureSpec.read(model.resolve("feature-spec.json").toString()).outputNames()));
    run(0, "model", "verify", model.toString());

    // A file changes (e.g. re-exported weights): verify fails until the manifest is re-hashed.
    Path weights = model.resolve(LinearModelFile.FILE_NAME);
    Files.writeString(weights, Files.readString(weights).replace("\"link\"", " \"link\""));
    run(11, "model", "verify", model.toString());
    run(0, "manifest", model.toString());
    run(0, "model", "verify", model.toString());
    assertThat(ModelManifest.read(model).getName(), is("churn-external"));
  }

  @Test
  public void mistakesAreNamed() {
    assertThat(run(10, "train", "--input=" + data, "--label=churned", "--modelDir=" + work.resolve("m"), "--name=x"),
        containsString("exactly one of --template=FILE"));
    assertThat(run(10, "train", "--input=" + data, "--template=" + template, "--label=churned",
        "--modelDir=" + work.resolve("m2"), "--name=x", "--model=mlp", "--export=linear"), containsString("--export=onnx"));
    assertThat(run(10, "fit-spec", "--input=" + data, "--template=" + template, "--out=x", "--tempate=y"),
        containsString("Unknown option: '--tempate=y'")); // the hand parser said "fit-spec has no option --tempate"
    assertThat(run(10, "train", "--input=" + data, "--template=" + template, "--label=plan",
        "--modelDir=" + work.resolve("m3"), "--name=x"), containsString("no usable label in 'plan'"));
  }

  private static double score(FeatureSpec spec, LinearModelFile w, String tenure, String plan) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("tenure", tenure);
    row.put("plan", plan);
    float[] x = spec.transform(row).vector();
    double z = w.getBias()[0];
    for (int i = 0; i < x.length; i++) {
      z += w.getWeights()[0][i] * x[i];
    }
    return z;
  }

  private static Map<String, Double> servedScores(Path out) throws Exception {
    Path runDir = Path.of(dev.batchserve.transforms.sink.FileSink.latestDirectory(out.toString()));
    Map<String, Double> scores = new HashMap<>();
    try (Stream<Path> files = Files.list(runDir.resolve("jsonl"))) {
      for (Path f : files.collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f)) {
          JsonNode n = JSON.readTree(line);
          scores.put(n.get("key").asText(), n.get("score").asDouble());
        }
      }
    }
    return scores;
  }
}
