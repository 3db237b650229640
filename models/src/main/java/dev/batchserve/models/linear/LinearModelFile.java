package dev.batchserve.models.linear;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.models.ModelLoadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The content of {@code linear-model.json}: {@code weights} ({@code k x d}), {@code bias} ({@code
 * k}) and {@code link} ({@code "identity"} or {@code "logistic"}).
 *
 * <pre>{@code
 * new LinearModelFile(new float[][] {{0.5f, -1f}}, new float[] {0.1f}, "logistic").write(dir);
 * LinearModelFile spec = LinearModelFile.read(dir);
 * }</pre>
 */
public final class LinearModelFile {
  /** The file name inside a model directory. */
  public static final String FILE_NAME = "linear-model.json";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final float[][] weights;
  private final float[] bias;
  private final String link;

  /**
   * @throws IllegalArgumentException if the shapes disagree or the link is unknown
   */
  @JsonCreator
  public LinearModelFile(
      @JsonProperty("weights") float[][] weights,
      @JsonProperty("bias") float[] bias,
      @JsonProperty("link") String link) {
    if (weights == null || weights.length == 0 || weights[0] == null || weights[0].length == 0) {
      throw new IllegalArgumentException("weights must be a non-empty k x d matrix");
    }
    int d = weights[0].length;
    for (int j = 0; j < weights.length; j++) {
      if (weights[j] == null || weights[j].length != d) {
        throw new IllegalArgumentException(
            "weights row " + j + " has " + (weights[j] == null ? 0 : weights[j].length)
                + " values, row 0 has " + d);
      }
    }
    if (bias == null || bias.length != weights.length) {
      throw new IllegalArgumentException("bias must have " + weights.length + " values (one per"
          + " output), but had " + (bias == null ? 0 : bias.length));
    }
    String normalized = link == null ? "identity" : link.toLowerCase(Locale.ROOT);
    if (!normalized.equals("identity") && !normalized.equals("logistic")) {
      throw new IllegalArgumentException("link must be identity or logistic, but was " + link);
    }
    this.weights = weights;
    this.bias = bias;
    this.link = normalized;
  }

  /** {@code k x d}. */
  public float[][] getWeights() {
    return weights;
  }

  /** {@code k}. */
  public float[] getBias() {
    return bias;
  }

  /** {@code identity} or {@code logistic}. */
  public String getLink() {
    return link;
  }

  /** Reads {@code linear-model.json} from the directory. */
  public static LinearModelFile read(Path modelDir) {
    Path file = modelDir.resolve(FILE_NAME);
    try {
      return MAPPER.readValue(file.toFile(), LinearModelFile.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelLoadException("cannot read linear model " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes {@code linear-model.json} into the directory. */
  public void write(Path modelDir) {
    try {
      Files.createDirectories(modelDir);
      MAPPER.writeValue(modelDir.resolve(FILE_NAME).toFile(), this);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
