package dev.batchserve.models;

import dev.batchserve.models.linear.LinearModelFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Synthetic data and small model directories shared by the tests (here and, through the test-jar,
 * in batchserve-training, whose {@code TrainedModels} adds the trained and exported ones).
 *
 * <pre>{@code
 * ModelManifest manifest = TestModels.writeLinear(dir, "1");
 * try (Model model = Models.load(dir)) { ... }
 * }</pre>
 */
public final class TestModels {
  /** Feature names of the synthetic data. */
  public static final List<String> FEATURES = List.of("age", "amount", "tenure", "visits");

  private TestModels() {}

  /** {@code n} rows of 4 features uniform in [-1, 1), reproducible from {@code seed}. */
  public static float[][] features(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[][] x = new float[n][FEATURES.size()];
    for (float[] row : x) {
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) random.nextDouble(-1, 1);
      }
    }
    return x;
  }

  /** Linearly separable labels: 1 when {@code x0 + 0.5 x1 - x2 > 0}. */
  public static float[] labels(float[][] x) {
    float[] y = new float[x.length];
    for (int r = 0; r < x.length; r++) {
      y[r] = x[r][0] + 0.5f * x[r][1] - x[r][2] > 0 ? 1f : 0f;
    }
    return y;
  }

  /** A partial manifest as a trainer would write it. */
  public static ModelManifest partialManifest(String version) {
    return ModelManifest.builder()
        .name("demo")
        .version(version)
        .inputFeatures(FEATURES)
        .createdAt("2026-01-02T03:04:05Z")
        .trainingData("synthetic: 256 rows, seed 1")
        .build();
  }

  /** A linear model with weights {@code {1, 2, -1, 0.5}} and bias 0.25 (identity link) in {@code dir}. */
  public static ModelManifest writeLinear(Path dir, String version) {
    LinearModelFile file = new LinearModelFile(
        new float[][] {{1f, 2f, -1f, 0.5f}}, new float[] {0.25f}, "identity");
    return writeLinear(file, dir, partialManifest(version));
  }

  /**
   * Writes {@code file} and a complete manifest into {@code dir} with this module's own API, as any
   * tool that makes model directories would (batchserve-training's LinearExporter is not on this
   * module's class path: it depends on this module). Features default to f0, f1, ...
   */
  public static ModelManifest writeLinear(LinearModelFile file, Path dir, ModelManifest partial) {
    int inputSize = file.getWeights()[0].length;
    List<String> features = partial.getInputFeatures();
    if (features.isEmpty()) {
      features = IntStream.range(0, inputSize).mapToObj(i -> "f" + i).collect(Collectors.toList());
    }
    file.write(dir);
    ModelManifest manifest = partial.toBuilder()
        .format(ModelFormat.LINEAR_JSON)
        .inputFeatures(features)
        .inputDtype("float32")
        .outputKind(partial.getOutputKind() == null ? OutputKind.SCORE : partial.getOutputKind())
        .outputSize(file.getWeights().length)
        .createdAt(partial.getCreatedAt() == null ? "2026-01-02T03:04:05Z" : partial.getCreatedAt())
        .files(ModelManifest.hashFiles(dir))
        .build();
    manifest.write(dir);
    return manifest;
  }

  /** Copies a directory tree. */
  public static void copy(Path from, Path to) {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Flips every bit of the byte at {@code offset} of {@code file}. */
  public static void flipByte(Path file, int offset) {
    try {
      byte[] bytes = Files.readAllBytes(file);
      bytes[offset] = (byte) ~bytes[offset];
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
