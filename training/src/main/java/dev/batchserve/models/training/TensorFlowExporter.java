package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Exports an {@link MlpWeights} as a TensorFlow SavedModel, from Java alone: a graph with the
 * placeholder {@code x [-1, d]}, one variable pair per layer initialised to the trained weights,
 * {@code matMul + add}, ReLU between layers and the output activation, under the signature
 * {@code serving_default} (input {@code x}, output {@code y}). Then writes {@code
 * model-manifest.json} with every file's sha256 (format TF_SAVED_MODEL, output kind SCORE unless
 * the partial manifest says otherwise).
 *
 * <pre>{@code
 * ModelManifest m = TensorFlowExporter.export(weights, Paths.get("/models/churn/3"),
 *     ModelManifest.builder().name("churn").version("3").inputFeatures(features).build());
 * }</pre>
 */
public final class TensorFlowExporter {
  /** The signature input and output names. */
  public static final String INPUT = "x";

  /** The signature output name. */
  public static final String OUTPUT = "y";

  private TensorFlowExporter() {}

  /**
   * Writes the SavedModel and its manifest into {@code dir}, which must be empty or absent.
   *
   * @param partialManifest name, version, feature names, training data, metadata; format, sizes,
   *     files and (if unset) createdAt are filled in
   * @return the manifest written
   */
  public static ModelManifest export(MlpWeights weights, Path dir, ModelManifest partialManifest) {
    ExportedManifest.requireEmpty(dir);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.withName(INPUT).placeholder(
          TFloat32.class, Placeholder.shape(Shape.of(-1, weights.inputSize())));
      Operand<TFloat32> h = x;
      for (int l = 0; l < weights.getLayers().size(); l++) {
        MlpWeights.Layer layer = weights.getLayers().get(l);
        // Variables rather than constants: the weights live in variables/, like a trained model's.
        Operand<TFloat32> w =
            tf.withName("dense_" + l + "_kernel").variable(tf.constant(layer.getW()));
        Operand<TFloat32> b = tf.withName("dense_" + l + "_bias").variable(tf.constant(layer.getB()));
        h = tf.math.add(tf.linalg.matMul(h, w), b);
        boolean last = l == weights.getLayers().size() - 1;
        if (!last) {
          h = tf.nn.relu(h);
        } else if (weights.getOutputActivation() == MlpWeights.OutputActivation.SIGMOID) {
          h = tf.math.sigmoid(h);
        }
      }
      Operand<TFloat32> y = tf.withName(OUTPUT).identity(h);
      try (Session session = new Session(graph)) {
        session.initialize();
        Signature signature = Signature.builder()
            .key(partialManifest.getSignatureName())
            .input(INPUT, x)
            .output(OUTPUT, y)
            .build();
        Files.createDirectories(dir);
        SavedModelBundle.exporter(dir.toString())
            .withTags("serve")
            .withFunction(SessionFunction.create(signature, session))
            .export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export SavedModel to " + dir, e);
    }
    ModelManifest partial = partialManifest.getOutputKind() == null
        ? partialManifest.toBuilder().outputKind(OutputKind.SCORE).build() : partialManifest;
    return ExportedManifest.write(dir, partial, ModelFormat.TF_SAVED_MODEL, weights.inputSize(),
        weights.outputSize(), INPUT, OUTPUT);
  }
}
