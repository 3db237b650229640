package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;

import java.util.Arrays;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/**
 * Issue 21: {@code score} without {@code --runner} runs on Flink embedded (parallelism = cores)
 * when the Flink runner is on the class path; any runner given wins; without Flink, Direct.
 */
@RunWith(JUnit4.class)
public class DefaultRunnerTest {
  @Test
  public void noRunnerMeansFlinkEmbeddedWithOneSlotPerCore() {
    assertThat(Arrays.asList(Launcher.withDefaultRunner(new String[] {"--input=a.csv"}, true, 8)),
        contains("--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=8", "--input=a.csv"));
  }

  @Test
  public void aGivenRunnerMasterOrParallelismWins() {
    String[] direct = {"--runner=DirectRunner", "--input=a.csv"};
    assertThat(Launcher.withDefaultRunner(direct, true, 8), is(direct));
    assertThat(Arrays.asList(Launcher.withDefaultRunner(new String[] {"--flinkMaster=host:8081", "--parallelism=3"}, true, 8)),
        contains("--runner=FlinkRunner", "--flinkMaster=host:8081", "--parallelism=3"));
    String[] help = {"--help"};
    assertThat(Launcher.withDefaultRunner(help, true, 8), is(help));
  }

  @Test
  public void withoutTheFlinkRunnerTheDirectRunnerStays() {
    String[] args = {"--input=a.csv"};
    assertThat(Launcher.withDefaultRunner(args, false, 8), is(args));
    // The test class path has Beam's Flink runner (the pipelines module's tests run on it).
    assertThat(Launcher.flinkAvailable(), is(true));
  }
}
