package dev.batchserve.models.tensorflow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelInputException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.Models;
import java.nio.file.Path;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
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
 * A SavedModel with two inputs and two outputs under the signature {@code scores}:
 * {@code sum = a @ [[1],[2]] + b @ [[1],[1],[1]]} and {@code doubled = 2 * a}.
 */
public class TensorFlowMultiInputTest {
  @ClassRule public static final TemporaryFolder SHARED = new TemporaryFolder();
  private static Path dir;

  @BeforeClass
  public static void export() throws Exception {
    dir = SHARED.getRoot().toPath().resolve("multi");
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> a = tf.withName("a").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 2)));
      Placeholder<TFloat32> b = tf.withName("b").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 3)));
      Operand<TFloat32> sum = tf.math.add(
          tf.linalg.matMul(a, tf.variable(tf.constant(new float[][] {{1}, {2}}))),
          tf.linalg.matMul(b, tf.constant(new float[][] {{1}, {1}, {1}})));
      Operand<TFloat32> doubled = tf.math.mul(a, tf.constant(2f));
      try (Session session = new Session(graph)) {
        session.initialize();
        Signature signature = Signature.builder().key("scores")
            .input("a", a).input("b", b).output("sum", sum).output("doubled", doubled).build();
        SavedModelBundle.exporter(dir.toString()).withTags("serve")
            .withFunction(SessionFunction.create(signature, session)).export();
      }
    }
    ModelManifest.builder().name("multi").version("1").format(ModelFormat.TF_SAVED_MODEL)
        .signatureName("scores").files(ModelManifest.hashFiles(dir)).build().write(dir);
  }

  @Test
  public void predictNamedFeedsEveryInputAndFetchesEveryOutput() {
    try (Model model = Models.load(dir)) {
      assertThat(model.signature().getInputs().size(), equalTo(2));
      Map<String, float[][]> out = model.predictNamed(Map.of(
          "a", new float[][] {{1, 1}, {0, 2}},
          "b", new float[][] {{1, 2, 3}, {0, 0, 1}}));
      assertThat(out.keySet(), equalTo(java.util.Set.of("sum", "doubled")));
      assertThat(out.get("sum"), equalTo(new float[][] {{9}, {5}}));
      assertThat(out.get("doubled"), equalTo(new float[][] {{2, 2}, {0, 4}}));
    }
  }

  @Test
  public void predictNamedValidatesEachInput() {
    try (Model model = Models.load(dir)) {
      assertThat(assertThrows(ModelInputException.class,
          () -> model.predictNamed(Map.of("a", new float[][] {{1, 1}}))).getMessage(),
          equalTo("signature 'scores' takes inputs [a, b], but got [a]"));
      assertThat(assertThrows(ModelInputException.class, () -> model.predictNamed(Map.of(
          "a", new float[][] {{1, 1}}, "b", new float[][] {{1, Float.NaN, 3}}))).getMessage(),
          equalTo("input 'b': row 0, feature index 1 is NaN"));
      assertThat(assertThrows(ModelInputException.class, () -> model.predictNamed(Map.of(
          "a", new float[][] {{1, 1}, {2, 2}}, "b", new float[][] {{1, 2, 3}}))).getMessage(),
          equalTo("input 'b' has 1 rows, but other inputs have 2"));
    }
  }

  @Test
  public void plainPredictNeedsAnInputName() {
    try (Model model = Models.load(dir)) {
      assertThrows(UnsupportedOperationException.class, () -> model.predict(new float[][] {{1, 1}}));
    }
  }
}
