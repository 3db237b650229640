package dev.batchserve.tools.flink;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Each setting of {@link LocalFlinkCluster.Spec} checks its own argument, naming the value. */
public class LocalFlinkClusterSpecTest {
  @Rule public final TemporaryFolder tmp = new TemporaryFolder();

  private LocalFlinkCluster.Spec spec() {
    return LocalFlinkCluster.in(tmp.getRoot().toPath());
  }

  @Test
  public void taskManagersMustBeOneToEight() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> spec().withTaskManagers(0)).getMessage(),
        containsString("taskManagers must be 1 to 8, but was 0"));
  }

  @Test
  public void slotsMustBePositive() {
    assertThat(assertThrows(IllegalArgumentException.class, () -> spec().withSlotsPerTaskManager(0)).getMessage(),
        containsString("slotsPerTaskManager must be >= 1, but was 0"));
  }

  @Test
  public void restartsMustNotBeNegative() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> spec().withRestarts(-1, Duration.ofSeconds(1))).getMessage(),
        containsString("restart attempts must be >= 0, but was -1"));
  }

  @Test
  public void heartbeatTimeoutMustExceedTheInterval() {
    assertThat(assertThrows(IllegalArgumentException.class,
        () -> spec().withHeartbeat(Duration.ofSeconds(5), Duration.ofSeconds(5))).getMessage(),
        containsString("heartbeat timeout must exceed the interval PT5S, but was PT5S"));
  }

  @Test
  public void startNamesAMissingLibFolder() {
    Path missing = tmp.getRoot().toPath().resolve("no-lib");
    assertThat(assertThrows(IllegalArgumentException.class, () -> spec().withLibDir(missing).start()).getMessage(),
        containsString("Flink lib folder " + missing + " does not exist"));
  }

  @Test
  public void stopWithoutAStateFileSaysSo() {
    assertThat(LocalFlinkCluster.stop(tmp.getRoot().toPath()), org.hamcrest.Matchers.is(false));
  }
}
