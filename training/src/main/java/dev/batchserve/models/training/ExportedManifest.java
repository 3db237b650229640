package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Completes the trainer's partial manifest for an exporter; shared by all exporters. */
final class ExportedManifest {
  private ExportedManifest() {}

  /** Fails unless {@code dir} is absent or empty: stale files would break verification later. */
  static void requireEmpty(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> entries = Files.list(dir)) {
      if (entries.findAny().isPresent()) {
        throw new IllegalArgumentException("export directory " + dir + " must be empty or absent");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Fills in what the exporter knows (format, sizes, files, creation time) and writes the manifest.
   */
  static ModelManifest write(
      Path dir, ModelManifest partial, String format, int inputSize, int outputSize,
      String inputName, String outputName) {
    List<String> features = partial.getInputFeatures();
    if (features.isEmpty()) {
      features = new ArrayList<>();
      for (int i = 0; i < inputSize; i++) {
        features.add("f" + i);
      }
    } else if (features.size() != inputSize) {
      throw new IllegalArgumentException("the manifest lists " + features.size()
          + " inputFeatures, but the model takes " + inputSize);
    }
    ModelManifest manifest = partial.toBuilder()
        .format(format)
        .inputName(inputName)
        .outputName(outputName)
        .inputFeatures(features)
        .inputDtype("float32")
        .outputKind(partial.getOutputKind() == null ? OutputKind.SCORE : partial.getOutputKind())
        .outputSize(outputSize)
        .createdAt(partial.getCreatedAt() != null
            ? partial.getCreatedAt() : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
        .files(ModelManifest.hashFiles(dir))
        .build();
    manifest.write(dir);
    return manifest;
  }
}
