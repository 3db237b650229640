package dev.batchserve.examples.recommend;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The recommendations demo job end to end on the Direct runner: the model exported when missing, one row per user, published. */
public class RecommendPipelineTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  @Test
  public void theExampleWritesOneParquetRowPerUser() throws Exception {
    String out = TMP.getRoot() + "/predictions";
    RecommendPipeline.Options o = PipelineOptionsFactory.fromArgs("--runner=DirectRunner", "--users=500",
        "--items=200", "--recsModel=" + TMP.getRoot() + "/models/example/1", "--recsOutput=" + out,
        "--runDate=2026-11-28", "--numShards=2").as(RecommendPipeline.Options.class);
    Pipeline pipeline = Pipeline.create(o);
    String runDir = RecommendPipeline.build(pipeline, o);
    assertThat(pipeline.run().waitUntilFinish(), is(PipelineResult.State.DONE));
    assertTrue(Files.exists(Path.of(runDir, "_SUCCESS")));
    JsonNode manifest = new ObjectMapper().readTree(Path.of(runDir, "_MANIFEST.json").toFile());
    assertThat(manifest.get("records").asLong(), is(500L));
    assertThat(manifest.get("run_id").asText(), is("recs-daily-20261128"));
    assertTrue(Files.exists(Path.of(runDir, "parquet/part-00000-of-00002.parquet")));
  }
}
