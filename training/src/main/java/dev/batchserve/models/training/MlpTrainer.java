package dev.batchserve.models.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains an {@link MlpWeights} for binary classification (sigmoid output, binary cross-entropy)
 * with mini-batch Adam, in plain single-threaded Java. Deterministic: the initial weights and the
 * shuffling come from one {@link SplittableRandom} seeded by the config, and every sum runs in a
 * fixed order, so the same data and config give bit-identical weights on every JVM.
 *
 * <pre>{@code
 * MlpWeights w = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes(16).withSeed(7))
 *     .train(features, labels); // labels are 0 or 1
 * }</pre>
 */
public final class MlpTrainer {

  /**
   * Training settings; immutable, each {@code withX} validates its value.
   *
   * <pre>{@code
   * MlpTrainer.Config c = MlpTrainer.Config.defaults().withEpochs(200).withLearningRate(0.01);
   * }</pre>
   */
  public static final class Config {
    private final int[] hiddenSizes;
    private final int epochs;
    private final double learningRate;
    private final int batchSize;
    private final long seed;

    private Config(int[] hiddenSizes, int epochs, double learningRate, int batchSize, long seed) {
      this.hiddenSizes = hiddenSizes;
      this.epochs = epochs;
      this.learningRate = learningRate;
      this.batchSize = batchSize;
      this.seed = seed;
    }

    /** One hidden layer of 16, 100 epochs, learning rate 0.01, batch 32, seed 42. */
    public static Config defaults() {
      return new Config(new int[] {16}, 100, 0.01, 32, 42L);
    }

    /** Hidden layer widths, input side first; none gives logistic regression. */
    public Config withHiddenSizes(int... sizes) {
      for (int s : sizes) {
        if (s <= 0) {
          throw new IllegalArgumentException(
              "hidden sizes must be > 0, but were " + Arrays.toString(sizes));
        }
      }
      return new Config(sizes.clone(), epochs, learningRate, batchSize, seed);
    }

    /** Passes over the data. */
    public Config withEpochs(int value) {
      if (value <= 0) {
        throw new IllegalArgumentException("epochs must be > 0, but was " + value);
      }
      return new Config(hiddenSizes, value, learningRate, batchSize, seed);
    }

    /** Adam's step size. */
    public Config withLearningRate(double value) {
      if (!(value > 0) || Double.isInfinite(value)) {
        throw new IllegalArgumentException("learningRate must be > 0, but was " + value);
      }
      return new Config(hiddenSizes, epochs, value, batchSize, seed);
    }

    /** Rows per gradient step; 0 for full-batch. */
    public Config withBatchSize(int value) {
      if (value < 0) {
        throw new IllegalArgumentException("batchSize must be >= 0, but was " + value);
      }
      return new Config(hiddenSizes, epochs, learningRate, value, seed);
    }

    /** The seed of initialisation and shuffling. */
    public Config withSeed(long value) {
      return new Config(hiddenSizes, epochs, learningRate, batchSize, value);
    }

    /** Hidden layer widths. */
    public int[] getHiddenSizes() {
      return hiddenSizes.clone();
    }

    /** Epochs. */
    public int getEpochs() {
      return epochs;
    }

    /** Learning rate. */
    public double getLearningRate() {
      return learningRate;
    }

    /** Batch size, 0 for full batch. */
    public int getBatchSize() {
      return batchSize;
    }

    /** Seed. */
    public long getSeed() {
      return seed;
    }
  }

  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double EPSILON = 1e-8;

  private final Config config;

  /** A trainer with these settings. */
  public MlpTrainer(Config config) {
    this.config = config;
  }

  /**
   * Trains on {@code x} ({@code [n][d]}) and labels {@code y} (0 or 1).
   *
   * @throws IllegalArgumentException on empty, ragged or non-finite data, or labels not in [0, 1]
   */
  public MlpWeights train(float[][] x, float[] y) {
    int n = x.length;
    if (n == 0 || y.length != n) {
      throw new IllegalArgumentException(
          "need a non-empty x and one label per row, but got " + n + " rows and " + y.length + " labels");
    }
    int d = x[0].length;
    for (int r = 0; r < n; r++) {
      if (x[r].length != d) {
        throw new IllegalArgumentException("row " + r + " has " + x[r].length + " features, row 0 has " + d);
      }
      if (!(y[r] >= 0f && y[r] <= 1f)) {
        throw new IllegalArgumentException("label " + r + " must be in [0, 1], but was " + y[r]);
      }
    }

    int[] sizes = new int[config.hiddenSizes.length + 2];
    sizes[0] = d;
    System.arraycopy(config.hiddenSizes, 0, sizes, 1, config.hiddenSizes.length);
    sizes[sizes.length - 1] = 1;
    int layers = sizes.length - 1;

    SplittableRandom random = new SplittableRandom(config.seed);
    // Parameters in double for stable training; exported as float at the end.
    double[][][] w = new double[layers][][];
    double[][] b = new double[layers][];
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      // Glorot-uniform: keeps activations' variance steady across layers.
      double limit = Math.sqrt(6.0 / (in + out));
      w[l] = new double[in][out];
      for (int i = 0; i < in; i++) {
        for (int j = 0; j < out; j++) {
          w[l][i][j] = random.nextDouble(-limit, limit);
        }
      }
      b[l] = new double[out];
    }
    double[][][] mw = zerosLike(w);
    double[][][] vw = zerosLike(w);
    double[][] mb = zerosLike(b);
    double[][] vb = zerosLike(b);

    int batch = config.batchSize == 0 ? n : Math.min(config.batchSize, n);
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    long step = 0;
    for (int epoch = 0; epoch < config.epochs; epoch++) {
      shuffle(order, random);
      for (int start = 0; start < n; start += batch) {
        int end = Math.min(n, start + batch);
        double[][][] gw = zerosLike(w);
        double[][] gb = zerosLike(b);
        for (int k = start; k < end; k++) {
          accumulateGradient(x[order[k]], y[order[k]], w, b, gw, gb);
        }
        step++;
        double scale = 1.0 / (end - start);
        double c1 = 1 - Math.pow(BETA1, step);
        double c2 = 1 - Math.pow(BETA2, step);
        for (int l = 0; l < layers; l++) {
          for (int i = 0; i < w[l].length; i++) {
            for (int j = 0; j < w[l][i].length; j++) {
              double g = gw[l][i][j] * scale;
              mw[l][i][j] = BETA1 * mw[l][i][j] + (1 - BETA1) * g;
              vw[l][i][j] = BETA2 * vw[l][i][j] + (1 - BETA2) * g * g;
              w[l][i][j] -= config.learningRate * (mw[l][i][j] / c1) / (Math.sqrt(vw[l][i][j] / c2) + EPSILON);
            }
          }
          for (int j = 0; j < b[l].length; j++) {
            double g = gb[l][j] * scale;
            mb[l][j] = BETA1 * mb[l][j] + (1 - BETA1) * g;
            vb[l][j] = BETA2 * vb[l][j] + (1 - BETA2) * g * g;
            b[l][j] -= config.learningRate * (mb[l][j] / c1) / (Math.sqrt(vb[l][j] / c2) + EPSILON);
          }
        }
      }
    }

    List<MlpWeights.Layer> result = new ArrayList<>();
    for (int l = 0; l < layers; l++) {
      float[][] fw = new float[w[l].length][w[l][0].length];
      for (int i = 0; i < fw.length; i++) {
        for (int j = 0; j < fw[i].length; j++) {
          fw[i][j] = (float) w[l][i][j];
        }
      }
      float[] fb = new float[b[l].length];
      for (int j = 0; j < fb.length; j++) {
        fb[j] = (float) b[l][j];
      }
      result.add(new MlpWeights.Layer(fw, fb));
    }
    return new MlpWeights(result, MlpWeights.OutputActivation.SIGMOID);
  }

  /** Adds one example's gradient of binary cross-entropy to {@code gw}/{@code gb}. */
  private static void accumulateGradient(
      float[] row, float label, double[][][] w, double[][] b, double[][][] gw, double[][] gb) {
    int layers = w.length;
    double[][] activations = new double[layers + 1][];
    double[][] preActivations = new double[layers][];
    activations[0] = new double[row.length];
    for (int i = 0; i < row.length; i++) {
      activations[0][i] = row[i];
    }
    for (int l = 0; l < layers; l++) {
      double[] in = activations[l];
      double[] z = new double[b[l].length];
      for (int j = 0; j < z.length; j++) {
        double sum = b[l][j];
        for (int i = 0; i < in.length; i++) {
          sum += in[i] * w[l][i][j];
        }
        z[j] = sum;
      }
      preActivations[l] = z;
      double[] a = new double[z.length];
      for (int j = 0; j < z.length; j++) {
        a[j] = l == layers - 1 ? 1.0 / (1.0 + Math.exp(-z[j])) : Math.max(0, z[j]);
      }
      activations[l + 1] = a;
    }
    // Sigmoid + cross-entropy: the gradient at the output logit is simply p - y.
    double[] delta = {activations[layers][0] - label};
    for (int l = layers - 1; l >= 0; l--) {
      double[] in = activations[l];
      for (int i = 0; i < in.length; i++) {
        for (int j = 0; j < delta.length; j++) {
          gw[l][i][j] += in[i] * delta[j];
        }
      }
      for (int j = 0; j < delta.length; j++) {
        gb[l][j] += delta[j];
      }
      if (l > 0) {
        double[] previous = new double[in.length];
        for (int i = 0; i < in.length; i++) {
          double sum = 0;
          for (int j = 0; j < delta.length; j++) {
            sum += w[l][i][j] * delta[j];
          }
          previous[i] = preActivations[l - 1][i] > 0 ? sum : 0;
        }
        delta = previous;
      }
    }
  }

  private static void shuffle(int[] order, SplittableRandom random) {
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }

  private static double[][][] zerosLike(double[][][] a) {
    double[][][] z = new double[a.length][][];
    for (int l = 0; l < a.length; l++) {
      z[l] = new double[a[l].length][a[l][0].length];
    }
    return z;
  }

  private static double[][] zerosLike(double[][] a) {
    double[][] z = new double[a.length][];
    for (int l = 0; l < a.length; l++) {
      z[l] = new double[a[l].length];
    }
    return z;
  }

  /** The share of rows whose thresholded prediction (at 0.5) equals the label. */
  public static double accuracy(MlpWeights weights, float[][] x, float[] y) {
    int correct = 0;
    for (int r = 0; r < x.length; r++) {
      float p = weights.predict(x[r])[0];
      if ((p >= 0.5f ? 1f : 0f) == y[r]) {
        correct++;
      }
    }
    return (double) correct / x.length;
  }
}
