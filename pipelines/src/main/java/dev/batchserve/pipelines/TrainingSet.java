package dev.batchserve.pipelines;

import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import java.util.List;
import java.util.Map;

/**
 * Training rows turned into model inputs the way the batch job will turn scoring rows into them: the
 * template is fitted on the rows ({@link FeatureSpec#fit}), then every row goes through the fitted
 * spec's {@link FeatureSpec#transform}, the one implementation the pipeline uses too.
 *
 * <pre>{@code
 * TrainingSet t = TrainingSet.fit(FraudSample.template(), rows, FraudSample.LABEL);
 * MlpWeights w = new MlpTrainer(config).train(t.x, t.y);
 * t.spec.write(modelDir.resolve("feature-spec.json").toString());
 * }</pre>
 */
public final class TrainingSet {
  /** The fitted spec, to save beside the model. */
  public final FeatureSpec spec;
  /** One feature vector per row, in the spec's output layout. */
  public final float[][] x;
  /** The label of each row. */
  public final float[] y;

  private TrainingSet(FeatureSpec spec, float[][] x, float[] y) {
    this.spec = spec;
    this.x = x;
    this.y = y;
  }

  /**
   * Fits {@code template} on {@code rows} and transforms them; {@code label} names the numeric label column.
   *
   * @throws IllegalStateException naming the first row the fitted spec refuses (training data must be valid)
   */
  public static TrainingSet fit(FeatureSpec template, List<Map<String, Object>> rows, String label) {
    FeatureSpec spec = FeatureSpec.fit(template, rows);
    float[][] x = new float[rows.size()][];
    float[] y = new float[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      FeatureOutcome o = spec.transform(rows.get(i));
      if (o.kind() != FeatureOutcome.Kind.VALID) {
        throw new IllegalStateException("training row " + i + " is invalid: " + o.reason() + " " + o.message());
      }
      x[i] = o.vector();
      y[i] = ((Number) rows.get(i).get(label)).floatValue();
    }
    return new TrainingSet(spec, x, y);
  }
}
