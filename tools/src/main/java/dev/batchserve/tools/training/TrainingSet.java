package dev.batchserve.tools.training;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.transforms.features.FeatureOutcome;
import dev.batchserve.transforms.features.FeatureSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training rows turned into model inputs the way the batch job will turn scoring rows into them: the
 * template is fitted on the rows ({@link FeatureSpec#fit}), then every row goes through the fitted
 * spec's {@link FeatureSpec#transform}, the one implementation the pipeline uses too.
 *
 * <pre>{@code
 * TrainingSet t = TrainingSet.fit(FraudSample.template(), rows, FraudSample.LABEL);
 * MlpWeights w = new MlpTrainer(config).train(t.x, t.y);
 * LinearExporter.export(w, modelDir, partial);
 * SaveSpecToModel.write(t.spec, modelDir); // spec saved beside the model, manifest re-hashed
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
    return of(FeatureSpec.fit(template, rows), rows, label);
  }

  /**
   * Transforms {@code rows} with an already fitted {@code spec}; {@code label} names the numeric label column.
   *
   * @throws IllegalStateException naming the first row the spec refuses (training data must be valid)
   */
  public static TrainingSet of(FeatureSpec spec, List<Map<String, Object>> rows, String label) {
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

  /** What a trainer produced: the fitted spec, the weights, the manifest written, the training accuracy. */
  public static final class Trained {
    public final FeatureSpec spec;
    public final MlpWeights weights;
    public final ModelManifest manifest;
    public final double trainAccuracy;

    public Trained(FeatureSpec spec, MlpWeights weights, ModelManifest manifest, double trainAccuracy) {
      this.spec = spec;
      this.weights = weights;
      this.manifest = manifest;
      this.trainAccuracy = trainAccuracy;
    }
  }

  /** Removes a model directory and everything in it, so that an export starts from an empty directory. */
  public static void clear(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clear " + dir, e);
    }
  }
}
