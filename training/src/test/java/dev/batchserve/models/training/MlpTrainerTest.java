package dev.batchserve.models.training;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.not;
import static org.junit.Assert.assertThrows;

import dev.batchserve.models.TestModels;
import dev.batchserve.models.TrainedModels;
import java.util.List;
import org.junit.Test;

public class MlpTrainerTest {
  private static final float[][] X = TestModels.features(256, 1L);
  private static final float[] Y = TestModels.labels(X);

  @Test
  public void sameDataAndSeedGiveBitIdenticalWeights() {
    MlpTrainer.Config config = MlpTrainer.Config.defaults().withEpochs(5).withSeed(3);
    MlpWeights a = new MlpTrainer(config).train(X, Y);
    MlpWeights b = new MlpTrainer(config).train(X, Y);
    assertThat(a.toJson(), equalTo(b.toJson()));
    for (int l = 0; l < a.getLayers().size(); l++) {
      assertThat(a.getLayers().get(l).getW(), equalTo(b.getLayers().get(l).getW()));
      assertThat(a.getLayers().get(l).getB(), equalTo(b.getLayers().get(l).getB()));
    }
  }

  @Test
  public void differentSeedGivesDifferentWeights() {
    MlpTrainer.Config config = MlpTrainer.Config.defaults().withEpochs(5);
    assertThat(new MlpTrainer(config.withSeed(1)).train(X, Y).toJson(),
        not(equalTo(new MlpTrainer(config.withSeed(2)).train(X, Y).toJson())));
  }

  @Test
  public void learnsSeparableDataWellAboveChance() {
    MlpWeights w = TrainedModels.trainedMlp();
    assertThat(MlpTrainer.accuracy(w, X, Y), greaterThan(0.95));
    float[][] test = TestModels.features(200, 99L);
    assertThat(MlpTrainer.accuracy(w, test, TestModels.labels(test)), greaterThan(0.9));
  }

  @Test
  public void fullBatchAndDeeperNetworksTrain() {
    MlpWeights w = new MlpTrainer(MlpTrainer.Config.defaults().withHiddenSizes(8, 8).withBatchSize(0)
        .withEpochs(300).withLearningRate(0.03)).train(X, Y);
    assertThat(w.getLayers().size(), equalTo(3));
    assertThat(MlpTrainer.accuracy(w, X, Y), greaterThan(0.9));
  }

  @Test
  public void weightsRoundTripThroughJson() {
    MlpWeights w = new MlpTrainer(MlpTrainer.Config.defaults().withEpochs(2)).train(X, Y);
    MlpWeights parsed = MlpWeights.fromJson(w.toJson());
    assertThat(parsed.toJson(), equalTo(w.toJson()));
    for (float[] row : X) {
      assertThat(parsed.predict(row), equalTo(w.predict(row)));
    }
  }

  @Test
  public void referenceForwardPassIsExact() {
    // 2 -> 2 (relu) -> 1 (identity): hidden = relu([1*1 + 2*3, 1*2 + 2*(-4)] + [0.5, 0]) = [7.5, 0]
    MlpWeights w = new MlpWeights(List.of(
        new MlpWeights.Layer(new float[][] {{1, 2}, {3, -4}}, new float[] {0.5f, 0}),
        new MlpWeights.Layer(new float[][] {{2}, {10}}, new float[] {1})),
        MlpWeights.OutputActivation.IDENTITY);
    assertThat(w.predict(new float[] {1, 2}), equalTo(new float[] {16f}));
  }

  @Test
  public void configValidatesItsArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MlpTrainer.Config.defaults().withEpochs(0));
    assertThat(e.getMessage(), equalTo("epochs must be > 0, but was 0"));
    assertThrows(IllegalArgumentException.class, () -> MlpTrainer.Config.defaults().withLearningRate(-1));
    assertThrows(IllegalArgumentException.class, () -> MlpTrainer.Config.defaults().withHiddenSizes(4, 0));
  }

  @Test
  public void rejectsLabelsOutsideZeroOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new MlpTrainer(MlpTrainer.Config.defaults()).train(new float[][] {{1}}, new float[] {2}));
    assertThat(e.getMessage(), equalTo("label 0 must be in [0, 1], but was 2.0"));
  }
}
