package dev.batchserve.models;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class SharedModelCacheTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  @Test
  public void concurrentAcquiresLoadOnceAndLastReleaseCloses() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("m");
    TestModels.writeLinear(dir, "1");
    long loadsBefore = SharedModelCache.loadCount();
    int openBefore = SharedModelCache.openModels();

    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ModelHandle>> futures = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      futures.add(pool.submit(() -> {
        start.await();
        return SharedModelCache.acquire(dir);
      }));
    }
    start.countDown();
    List<ModelHandle> handles = new ArrayList<>();
    for (Future<ModelHandle> f : futures) {
      handles.add(f.get());
    }
    pool.shutdown();

    assertThat(SharedModelCache.loadCount() - loadsBefore, equalTo(1L));
    assertThat(SharedModelCache.openModels() - openBefore, equalTo(1));
    Model shared = handles.get(0).model();
    for (ModelHandle h : handles) {
      assertThat(h.model(), sameInstance(shared));
      assertThat(h.manifest().getVersion(), equalTo("1"));
    }
    assertThat(shared.predict(new float[][] {{1, 2, 3, 4}}), equalTo(new float[][] {{4.25f}}));

    for (int i = 0; i < 7; i++) {
      handles.get(i).close();
    }
    assertThat(((AbstractModel) shared).isClosed(), equalTo(false));
    handles.get(7).close();
    handles.get(7).close(); // a second close of one handle must not release another reference
    assertThat(((AbstractModel) shared).isClosed(), equalTo(true));
    assertThat(SharedModelCache.openModels(), equalTo(openBefore));

    try (ModelHandle again = SharedModelCache.acquire(dir)) {
      assertThat(SharedModelCache.loadCount() - loadsBefore, equalTo(2L));
      assertThat(again.model(), not(sameInstance(shared)));
    }
  }

  @Test
  public void handleCannotBeUsedAfterClose() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("h");
    TestModels.writeLinear(dir, "1");
    ModelHandle handle = SharedModelCache.acquire(dir);
    handle.close();
    assertThrows(IllegalStateException.class, handle::model);
  }

  @Test
  public void newVersionInTheSameDirectoryIsADifferentModel() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("v");
    ModelManifest v1 = TestModels.writeLinear(dir, "1");
    long loadsBefore = SharedModelCache.loadCount();
    try (ModelHandle first = SharedModelCache.acquire(dir)) {
      v1.withVersion("2").write(dir);
      try (ModelHandle second = SharedModelCache.acquire(dir)) {
        assertThat(SharedModelCache.loadCount() - loadsBefore, equalTo(2L));
        assertThat(second.manifest().getVersion(), equalTo("2"));
        assertThat(second.model(), not(sameInstance(first.model())));
      }
    }
  }

  @Test
  public void failedLoadIsReportedAndNotCached() throws Exception {
    Path dir = tmp.getRoot().toPath().resolve("bad");
    TestModels.writeLinear(dir, "1");
    java.nio.file.Files.writeString(dir.resolve("stray.txt"), "x");
    int openBefore = SharedModelCache.openModels();
    assertThrows(ModelIntegrityException.class, () -> SharedModelCache.acquire(dir));
    java.nio.file.Files.delete(dir.resolve("stray.txt"));
    try (ModelHandle handle = SharedModelCache.acquire(dir)) {
      assertThat(handle.model().signature().inputSize(), equalTo(4));
    }
    assertThat(SharedModelCache.openModels(), equalTo(openBefore));
  }
}
