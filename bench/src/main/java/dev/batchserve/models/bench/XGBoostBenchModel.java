package dev.batchserve.models.bench;

import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.XGBoostExporter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Trains the benchmark's XGBoost model. Its own class so that {@link RawEngineBenchmark} loads and
 * runs without XGBoost on the class path (the verifier resolves exception types per class).
 */
final class XGBoostBenchModel {
  private XGBoostBenchModel() {}

  static void export(float[][] x, float[] y, Path dir, ModelManifest partial) {
    int d = x[0].length;
    float[] flat = new float[x.length * d];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * d, d);
    }
    try {
      DMatrix train = new DMatrix(flat, x.length, d, Float.NaN);
      Booster booster;
      try {
        train.setLabel(y);
        Map<String, Object> params = new HashMap<>();
        params.put("objective", "binary:logistic");
        params.put("max_depth", 6);
        params.put("eta", 0.3);
        params.put("nthread", 1);
        params.put("seed", 0);
        booster = XGBoost.train(train, params, 50, new HashMap<>(), null, null);
      } finally {
        train.dispose();
      }
      try {
        XGBoostExporter.export(booster, dir, partial, 1);
      } finally {
        booster.dispose();
      }
    } catch (XGBoostError e) {
      throw new IllegalStateException("cannot train the benchmark's XGBoost model: " + e.getMessage(), e);
    }
  }
}
