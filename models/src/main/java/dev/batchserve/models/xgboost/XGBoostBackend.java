package dev.batchserve.models.xgboost;

import dev.batchserve.models.Model;
import dev.batchserve.models.ModelBackend;
import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelOptions;
import java.nio.file.Path;

/**
 * The {@link ModelBackend} for {@link ModelFormat#XGBOOST}. XGBoost4J is an optional dependency of
 * batchserve-models: add {@code ml.dmlc:xgboost4j_2.12:3.4.0} (excluding kryo, minlog,
 * scala-compiler and scala-reflect, as batchserve-models' pom does) to use it.
 *
 * <pre>{@code
 * Model m = Models.load(xgboostModelDir); // dispatches here
 * }</pre>
 */
public final class XGBoostBackend implements ModelBackend {

  @Override
  public String format() {
    return ModelFormat.XGBOOST;
  }

  @Override
  public boolean isAvailable() {
    try {
      Class.forName("ml.dmlc.xgboost4j.java.Booster", false, XGBoostBackend.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Override
  public Model load(Path modelDir, ModelManifest manifest, ModelOptions options) {
    // XGBoostModel is only resolved here, so this class loads without XGBoost on the class path.
    return XGBoostModel.load(modelDir, manifest, options);
  }
}
