package dev.batchserve.models.training;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.linear.LinearModelFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * The demo model that examples/consumer ships as files (a user brings a model directory; the example
 * depends on batchserve-transforms only, so it cannot export one) is exactly what
 * {@link LinearExporter} writes for the same weights: same files, same weights, same manifest
 * (hashes included). Nothing is excluded: the creation time is fixed in the partial manifest.
 *
 * <p>When the exporter's output changes on purpose, this test leaves the fresh export in
 * {@code training/target/consumer-demo-model}: copy its files over the shipped ones.
 */
public class ConsumerDemoModelTest {
  /** Where the consumer example keeps the model (a resource it copies into its --workDir). */
  static final Path SHIPPED =
      Path.of("..", "examples", "consumer", "src", "main", "resources", "com", "example", "churn",
          "demo-model");

  /** score = 0.5 - 0.01 * tenure_months + 0 * monthly_spend + 0.1 * support_tickets. */
  static ModelManifest exportDemoModel(Path dir) {
    return LinearExporter.export(
        new LinearModelFile(new float[][] {{-0.01f, 0f, 0.1f}}, new float[] {0.5f}, "identity"),
        dir, ModelManifest.builder().name("churn-linear").version("1")
            .inputFeatures(List.of("tenure_months", "monthly_spend", "support_tickets"))
            .outputKind(OutputKind.SCORE)
            .createdAt("2026-12-07T00:00:00Z")
            .build());
  }

  @Test
  public void shippedDemoModelIsWhatTheExporterWrites() throws IOException {
    Path fresh = Path.of("target", "consumer-demo-model");
    deleteTree(fresh);
    ModelManifest exported = exportDemoModel(fresh);
    String hint = " (the fresh export is in " + fresh.toAbsolutePath() + ": copy its files to " + SHIPPED
        + " if the exporter changed on purpose)";

    assertThat(SHIPPED + " exists" + hint, Files.isDirectory(SHIPPED), equalTo(true));
    assertThat("files of " + SHIPPED + hint, fileNames(SHIPPED), equalTo(fileNames(fresh)));
    assertThat("manifest of " + SHIPPED + hint, ModelManifest.read(SHIPPED), equalTo(exported));
    assertThat("weights of " + SHIPPED + hint,
        LinearModelFile.read(SHIPPED).getWeights(), equalTo(LinearModelFile.read(fresh).getWeights()));
    assertThat(LinearModelFile.FILE_NAME + " of " + SHIPPED + hint,
        Files.readString(SHIPPED.resolve(LinearModelFile.FILE_NAME)),
        equalTo(Files.readString(fresh.resolve(LinearModelFile.FILE_NAME))));
    // The sha256 of each file, as the runtime checks it before loading.
    ModelManifest.read(SHIPPED).verify(SHIPPED);
  }

  private static List<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted((a, b) -> b.compareTo(a)).collect(Collectors.toList())) {
        Files.delete(p);
      }
    }
  }
}
