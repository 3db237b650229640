package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;

/** {@link CodeModel}: a model from code through {@link SharedModelCache}, without files. */
public class CodeModelTest {
  private static final AtomicInteger LOADS = new AtomicInteger();
  private static final AtomicInteger FAILURES_LEFT = new AtomicInteger();

  /** {@code y = 2x}; counts closes so the test can see the release. */
  static final class Doubler implements Model {
    volatile boolean closed;

    @Override
    public ModelSignature signature() {
      return new ModelSignature("double",
          List.of(new TensorInfo("x", "float32", new long[] {-1, 1})),
          List.of(new TensorInfo("y", "float32", new long[] {-1, 1})));
    }

    @Override
    public float[][] predict(float[][] batch) {
      if (closed) {
        throw new IllegalStateException("closed");
      }
      float[][] out = new float[batch.length][];
      for (int i = 0; i < batch.length; i++) {
        out[i] = new float[] {2 * batch[i][0]};
      }
      return out;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static Doubler countedDoubler() {
    LOADS.incrementAndGet();
    return new Doubler();
  }

  @SuppressWarnings("unchecked")
  private static <T> T serializedCopy(T value) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    }
  }

  @Test
  public void copiesShareOneLoadAndTheLastReleaseCloses() throws Exception {
    CodeModel doubler = CodeModel.of("doubler-shared", "1", CodeModelTest::countedDoubler);
    int loadsBefore = LOADS.get();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ModelHandle>> futures = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      // Each thread gets its own deserialized copy, as each DoFn instance on a worker does.
      CodeModel copy = serializedCopy(doubler);
      futures.add(pool.submit(() -> {
        start.await();
        return SharedModelCache.acquire(copy);
      }));
    }
    start.countDown();
    List<ModelHandle> handles = new ArrayList<>();
    for (Future<ModelHandle> f : futures) {
      handles.add(f.get());
    }
    pool.shutdown();

    assertThat(LOADS.get() - loadsBefore, equalTo(1));
    Doubler shared = (Doubler) handles.get(0).model();
    for (ModelHandle h : handles) {
      assertThat(h.model(), sameInstance(shared));
      assertThat(h.manifest().getName(), equalTo("doubler-shared"));
      assertThat(h.manifest().getVersion(), equalTo("1"));
    }
    assertThat(shared.predict(new float[][] {{1.5f}}), equalTo(new float[][] {{3f}}));
    for (int i = 0; i < 7; i++) {
      handles.get(i).close();
    }
    assertThat(shared.closed, equalTo(false));
    handles.get(7).close();
    assertThat(shared.closed, equalTo(true));

    try (ModelHandle again = SharedModelCache.acquire(doubler)) {
      assertThat(LOADS.get() - loadsBefore, equalTo(2));
      assertThat(again.model(), not(sameInstance(shared)));
    }
  }

  @Test
  public void anotherVersionIsAnotherModel() {
    int loadsBefore = LOADS.get();
    try (ModelHandle v1 = SharedModelCache.acquire(
            CodeModel.of("doubler-versions", "1", CodeModelTest::countedDoubler));
        ModelHandle v2 = SharedModelCache.acquire(
            CodeModel.of("doubler-versions", "2", CodeModelTest::countedDoubler))) {
      assertThat(LOADS.get() - loadsBefore, equalTo(2));
      assertThat(v1.model(), not(sameInstance(v2.model())));
      assertThat(v2.manifest().getVersion(), equalTo("2"));
    }
  }

  @Test
  public void manifestDescribesTheModelWithoutFormatOrFiles() {
    ModelManifest m = CodeModel.of("clf", "4", Doubler::new)
        .withOutputKind(OutputKind.PROBABILITIES)
        .withMetadata(Map.of("classes", "low,high"))
        .manifest();
    assertThat(m.getName(), equalTo("clf"));
    assertThat(m.getVersion(), equalTo("4"));
    assertThat(m.getOutputKind(), equalTo(OutputKind.PROBABILITIES));
    assertThat(m.getMetadata(), equalTo(Map.of("classes", "low,high")));
    assertThat(m.getFormat(), nullValue());
    assertThat(m.getFiles(), equalTo(List.of()));
  }

  @Test
  public void aFailingLoaderIsReportedWithTheModelAndNotCached() {
    FAILURES_LEFT.set(1);
    CodeModel flaky = CodeModel.of("flaky", "1", () -> {
      if (FAILURES_LEFT.getAndDecrement() > 0) {
        throw new java.io.IOException("rules file is busy");
      }
      return new Doubler();
    });
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> SharedModelCache.acquire(flaky));
    assertThat(e.getMessage(), equalTo(
        "the loader of code model flaky:1 failed: java.io.IOException: rules file is busy"));
    try (ModelHandle handle = SharedModelCache.acquire(flaky)) {
      assertThat(handle.model().predict(new float[][] {{1f}}), equalTo(new float[][] {{2f}}));
    }
  }

  @Test
  public void aLoaderReturningNullIsAnError() {
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> SharedModelCache.acquire(CodeModel.of("nothing", "1", () -> null)));
    assertThat(e.getMessage(), equalTo("the loader of code model nothing:1 returned null instead of a Model"));
  }

  @Test
  public void aLoaderCapturingSomethingUnserializableIsRefusedAtOnce() {
    Object notSerializable = new Object();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CodeModel.of("capturing", "1", () -> {
          notSerializable.hashCode();
          return new Doubler();
        }));
    assertThat(e.getMessage(), equalTo("the loader of code model capturing:1 is not serializable: it"
        + " captures a java.lang.Object; capture only serializable values and create the rest inside"
        + " load()"));
  }

  @Test
  public void nameAndVersionAreRequired() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> CodeModel.of(" ", "1", Doubler::new)).getMessage(),
        equalTo("a code model's name must be non-blank, but was ' '"));
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> CodeModel.of("m", null, Doubler::new)).getMessage(),
        equalTo("the version of code model 'm' must be non-blank, but was null"));
    assertThat(CodeModel.of("m", "1", Doubler::new).toString(), containsString("code model m:1"));
  }
}
