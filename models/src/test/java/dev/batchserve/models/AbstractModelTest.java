package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.Assert.assertThrows;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/** Input validation and lifecycle shared by every backend, on an engine that counts its calls. */
public class AbstractModelTest {

  /** Adds 1 to the sum of the features; counts engine calls. */
  private static final class CountingModel extends AbstractModel {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger releases = new AtomicInteger();

    CountingModel() {
      super(new ModelSignature("serving_default",
              List.of(new TensorInfo("x", "float32", new long[] {-1, 3})),
              List.of(new TensorInfo("y", "float32", new long[] {-1, 1}))),
          List.of("age", "amount", "tenure"));
    }

    @Override
    protected float[][] run(float[][] batch) {
      calls.incrementAndGet();
      float[][] out = new float[batch.length][1];
      for (int r = 0; r < batch.length; r++) {
        out[r][0] = batch[r][0] + batch[r][1] + batch[r][2] + 1;
      }
      return out;
    }

    @Override
    protected void release() {
      releases.incrementAndGet();
    }
  }

  @Test
  public void predictsValidBatch() {
    CountingModel model = new CountingModel();
    float[][] out = model.predict(new float[][] {{1, 2, 3}, {0, 0, 0}});
    assertThat(out, equalTo(new float[][] {{7}, {1}}));
    assertThat(model.calls.get(), equalTo(1));
  }

  @Test
  public void emptyBatchReturnsEmptyWithoutCallingTheEngine() {
    CountingModel model = new CountingModel();
    assertThat(model.predict(new float[0][]).length, equalTo(0));
    assertThat(model.calls.get(), equalTo(0));
  }

  @Test
  public void wrongFeatureCountNamesRowAndSizes() {
    CountingModel model = new CountingModel();
    float[][] batch = {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3, 4, 5}};
    ModelInputException e = assertThrows(ModelInputException.class, () -> model.predict(batch));
    assertThat(e.getMessage(), equalTo("row 3 has 5 features, the model expects 3"));
    assertThat(model.calls.get(), equalTo(0));
  }

  @Test
  public void raggedBatchNamesTheShortRow() {
    CountingModel model = new CountingModel();
    ModelInputException e = assertThrows(ModelInputException.class,
        () -> model.predict(new float[][] {{1, 2, 3}, {1, 2}}));
    assertThat(e.getMessage(), equalTo("row 1 has 2 features, the model expects 3"));
  }

  @Test
  public void nanNamesRowAndFeature() {
    CountingModel model = new CountingModel();
    ModelInputException e = assertThrows(ModelInputException.class,
        () -> model.predict(new float[][] {{1, 2, 3}, {1, 2, 3}, {1, Float.NaN, 3}}));
    assertThat(e.getMessage(), equalTo("row 2, feature 'amount' (index 1) is NaN"));
  }

  @Test
  public void infinityNamesRowAndFeature() {
    CountingModel model = new CountingModel();
    ModelInputException e = assertThrows(ModelInputException.class,
        () -> model.predict(new float[][] {{1, 2, Float.NEGATIVE_INFINITY}}));
    assertThat(e.getMessage(), equalTo("row 0, feature 'tenure' (index 2) is -Infinity"));
  }

  @Test
  public void nullRowAndNullBatchAreRejected() {
    CountingModel model = new CountingModel();
    assertThat(assertThrows(ModelInputException.class,
        () -> model.predict(new float[][] {{1, 2, 3}, null})).getMessage(), equalTo("row 1 is null"));
    assertThat(assertThrows(ModelInputException.class, () -> model.predict(null)).getMessage(),
        equalTo("batch is null"));
  }

  @Test
  public void closeReleasesOnceAndPredictAfterCloseFails() {
    CountingModel model = new CountingModel();
    model.close();
    model.close();
    assertThat(model.releases.get(), equalTo(1));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> model.predict(new float[][] {{1, 2, 3}}));
    assertThat(e.getMessage(), equalTo("model serving_default is closed"));
  }

  @Test
  public void defaultPredictNamedUsesTheSingleInput() {
    CountingModel model = new CountingModel();
    assertThat(model.predictNamed(java.util.Map.of("x", new float[][] {{1, 1, 1}})).get("y"),
        equalTo(new float[][] {{4}}));
    ModelInputException e = assertThrows(ModelInputException.class,
        () -> model.predictNamed(java.util.Map.of("z", new float[][] {{1, 1, 1}})));
    assertThat(e.getMessage(), equalTo("expected exactly the input 'x', but got [z]"));
  }
}
