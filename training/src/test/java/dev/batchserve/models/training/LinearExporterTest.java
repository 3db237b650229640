package dev.batchserve.models.training;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.instanceOf;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import dev.batchserve.models.TrainedModels;
import dev.batchserve.models.linear.LinearModel;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@link LinearExporter} round trip: what it writes, loaded by the linear backend. */
public class LinearExporterTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void loadsLinearModelAndPredictsExactly() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("linear");
    ModelManifest manifest = TrainedModels.exportLinear(dir, "1");
    assertThat(manifest.getFormat(), equalTo(ModelFormat.LINEAR_JSON));
    assertThat(manifest.getOutputSize(), equalTo(1));
    assertThat(manifest.getFiles().get(0).getPath(), equalTo("linear-model.json"));
    try (Model model = Models.load(dir)) {
      assertThat(model, instanceOf(LinearModel.class));
      assertThat(model.signature().inputSize(), equalTo(4));
      assertThat(model.signature().outputSize(), equalTo(1));
      // 1*1 + 2*2 - 1*3 + 0.5*4 + 0.25 = 4.25 ; 0.25 for zeros
      assertThat(model.predict(new float[][] {{1, 2, 3, 4}, {0, 0, 0, 0}}),
          equalTo(new float[][] {{4.25f}, {0.25f}}));
    }
  }
}
