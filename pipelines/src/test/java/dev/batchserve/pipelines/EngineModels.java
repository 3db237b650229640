package dev.batchserve.pipelines;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.training.MlpTrainer;
import dev.batchserve.models.training.MlpWeights;
import dev.batchserve.models.training.OnnxExporter;
import dev.batchserve.models.training.XGBoostExporter;
import dev.batchserve.tools.samples.FraudSample;
import dev.batchserve.tools.training.TrainingSet;
import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.SaveSpecToModel;
import dev.batchserve.transforms.inference.BatchInfer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Fraud models for the optional engines, trained in-process on the fraud sample and written as the
 * pipeline reads them (model file, manifest, the feature spec inside): an ONNX MLP
 * ({@link OnnxExporter}) and an XGBoost booster ({@link XGBoostExporter}). {@code onnxScores} and
 * {@code xgboostScores} are each engine's own outputs for given rows, computed outside Beam with the
 * engine's API: what the pipeline must publish.
 */
public final class EngineModels {
  private final FeatureSpec spec;
  private final TrainingSet training;

  private EngineModels(TrainingSet training) {
    this.training = training;
    this.spec = training.spec;
  }

  /** Fits the fraud feature spec on {@code accounts} generated rows. */
  public static EngineModels fit(int accounts, long seed) {
    return new EngineModels(TrainingSet.fit(FraudSample.template(), FraudSample.generate(accounts, seed),
        FraudSample.LABEL));
  }

  private ModelManifest partial(String name) {
    return ModelManifest.builder().name(name).version("1").inputFeatures(spec.outputNames())
        .metadata(Map.of(BatchInfer.SCORE_METADATA_KEY, BatchInfer.SCORE_PROBABILITY)).build();
  }

  /** An MLP written as {@code model.onnx} into {@code dir}. */
  public void writeOnnx(Path dir) {
    MlpWeights weights = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes(8).withEpochs(10).withSeed(3))
        .train(training.x, training.y);
    OnnxExporter.export(weights, dir, partial("fraud-onnx"));
    SaveSpecToModel.write(spec, dir);
  }

  /** A 20-round binary:logistic booster written as {@code model.json} into {@code dir}. */
  public void writeXGBoost(Path dir) throws XGBoostError {
    Booster booster = train();
    try {
      XGBoostExporter.export(booster, dir, partial("fraud-xgb"), 1);
    } finally {
      booster.dispose();
    }
    SaveSpecToModel.write(spec, dir);
  }

  private Booster train() throws XGBoostError {
    DMatrix m = matrix(training.x);
    try {
      m.setLabel(training.y);
      Map<String, Object> params = new HashMap<>();
      params.put("objective", "binary:logistic");
      params.put("max_depth", 3);
      params.put("eta", 0.3);
      params.put("nthread", 1); // OpenMP busy-waits on small machines
      params.put("seed", 0);
      return XGBoost.train(m, params, 20, new HashMap<>(), null, null);
    } finally {
      m.dispose();
    }
  }

  /** Key -> the feature vector the spec saved in {@code modelDir} makes of each row. */
  private static Map<String, float[]> vectors(Path modelDir, List<Map<String, Object>> rows) {
    FeatureSpec saved = FeatureSpec.read(modelDir.resolve(SaveSpecToModel.FILE_NAME).toString());
    Map<String, float[]> x = new LinkedHashMap<>();
    for (Map<String, Object> row : rows) {
      x.put((String) row.get(FraudSample.KEY), saved.transform(row).vector());
    }
    return x;
  }

  /** Key -> score, from an ONNX Runtime session on {@code modelDir/model.onnx}. */
  public static Map<String, Float> onnxScores(Path modelDir, List<Map<String, Object>> rows) throws OrtException {
    Map<String, float[]> x = vectors(modelDir, rows);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] y;
    try (OrtSession session = env.createSession(modelDir.resolve(OnnxExporter.FILE_NAME).toString(),
            new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, x.values().toArray(new float[0][]));
        OrtSession.Result out = session.run(Map.of("x", in))) {
      y = (float[][]) out.get(0).getValue();
    }
    return byKey(x, y);
  }

  /** Key -> score, from XGBoost's own {@code Booster.predict} on the saved {@code modelDir/model.json}. */
  public static Map<String, Float> xgboostScores(Path modelDir, List<Map<String, Object>> rows) throws XGBoostError {
    Map<String, float[]> x = vectors(modelDir, rows);
    Booster booster = XGBoost.loadModel(modelDir.resolve(XGBoostExporter.FILE_NAME).toString());
    DMatrix m = matrix(x.values().toArray(new float[0][]));
    try {
      return byKey(x, booster.predict(m));
    } finally {
      m.dispose();
      booster.dispose();
    }
  }

  private static Map<String, Float> byKey(Map<String, float[]> x, float[][] y) {
    Map<String, Float> scores = new HashMap<>();
    int r = 0;
    for (String key : x.keySet()) {
      scores.put(key, y[r++][0]);
    }
    return scores;
  }

  private static DMatrix matrix(float[][] x) throws XGBoostError {
    float[] flat = new float[x.length * x[0].length];
    for (int r = 0; r < x.length; r++) {
      System.arraycopy(x[r], 0, flat, r * x[0].length, x[0].length);
    }
    return new DMatrix(flat, x.length, x[0].length, Float.NaN);
  }
}
