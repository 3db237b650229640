package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Saves a trained XGBoost {@link Booster} as {@code model.json} plus {@code model-manifest.json}
 * (format XGBOOST). Needs the optional XGBoost4J dependency.
 *
 * <pre>{@code
 * Booster booster = XGBoost.train(train, params, 20, Map.of(), null, null);
 * XGBoostExporter.export(booster, dir, partialManifest, 1);
 * }</pre>
 */
public final class XGBoostExporter {
  /** The model file name inside the directory. */
  public static final String FILE_NAME = "model.json";

  private XGBoostExporter() {}

  /**
   * Writes the booster and the manifest into {@code dir}, which must be empty or absent.
   *
   * @param outputSize values per row the booster predicts (1 for binary:logistic, the class count
   *     for multi:softprob)
   */
  public static ModelManifest export(
      Booster booster, Path dir, ModelManifest partialManifest, int outputSize) {
    ExportedManifest.requireEmpty(dir);
    int features;
    try {
      Files.createDirectories(dir);
      booster.saveModel(dir.resolve(FILE_NAME).toString());
      features = (int) booster.getNumFeature();
    } catch (XGBoostError e) {
      throw new IllegalStateException("cannot save XGBoost model to " + dir + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ModelManifest partial = partialManifest.getOutputKind() == null
        ? partialManifest.toBuilder().outputKind(OutputKind.SCORE).build() : partialManifest;
    return ExportedManifest.write(dir, partial, ModelFormat.XGBOOST, features, outputSize, null, null);
  }
}
