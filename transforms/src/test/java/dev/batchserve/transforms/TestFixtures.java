package dev.batchserve.transforms;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.linear.LinearModelFile;
import dev.batchserve.models.training.LinearExporter;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** Small models, specs and runs shared by the transforms tests. */
public final class TestFixtures {
  public static final RunInfo RUN = RunInfo.of("test", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);

  private TestFixtures() {}

  /**
   * A linear model {@code y = 1*a + 2*b - 1*c + 0.5} (identity link) with features a, b, c; the
   * score of a row is {@link #linearScore}.
   */
  public static String linearModel(Path dir, List<String> features) {
    float[][] w = {{1f, 2f, -1f}};
    LinearExporter.export(new LinearModelFile(w, new float[] {0.5f}, "identity"), dir,
        ModelManifest.builder().name("lin").version("7").inputFeatures(features)
            .outputKind(OutputKind.SCORE).build());
    return dir.toString();
  }

  /** The plain-Java reference of {@link #linearModel}, computed in float like the model. */
  public static float linearScore(float a, float b, float c) {
    float z = 0f;
    z += a * 1f;
    z += b * 2f;
    z += c * -1f;
    return z + 0.5f;
  }

  /** Passthrough spec over doubles a, b, c (all required), fitted on the given rows. */
  public static FeatureSpec passthroughSpec(List<Map<String, Object>> trainingRows) {
    FeatureSpec template = FeatureSpec.builder()
        .numeric("a").passthrough()
        .numeric("b").passthrough()
        .numeric("c").passthrough()
        .build();
    return FeatureSpec.fit(template, trainingRows);
  }
}
