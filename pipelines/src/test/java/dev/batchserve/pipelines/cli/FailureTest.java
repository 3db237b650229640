package dev.batchserve.pipelines.cli;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.batchserve.models.ModelLoadException;
import java.io.FileNotFoundException;
import java.sql.SQLException;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** Each class of failure is found anywhere on the cause chain, the most specific one winning. */
@RunWith(JUnit4.class)
public class FailureTest {
  @Test
  public void aRefusedRedisConnectionInsideTheRunnersWrapperIsStoreUnreachable() {
    Failure.Classified c = Failure.cause(new PipelineExecutionException(
        new RuntimeException("publish failed", new JedisConnectionException("Failed to connect to 127.0.0.1:1."))));
    assertThat(c.failure, is(Failure.STORE_UNREACHABLE));
    assertThat(c.message(), is("Failed to connect to 127.0.0.1:1."));
    assertThat(Launcher.sentence(c.message()), is("Failed to connect to 127.0.0.1:1"));
  }

  @Test
  public void aPostgresConnectionFailureIsStoreUnreachableButOtherSqlErrorsAreNot() {
    assertThat(Failure.classify(new RuntimeException(new SQLException("Connection to db:5432 refused", "08001"))),
        is(Failure.STORE_UNREACHABLE));
    assertThat(Failure.classify(new RuntimeException(new SQLException("relation x does not exist", "42P01"))),
        is(Failure.RUNNER));
  }

  @Test
  public void modelInputAndRunnerFailures() {
    assertThat(Failure.classify(new PipelineExecutionException(new ModelLoadException("no saved_model.pb in /m/1"))),
        is(Failure.MODEL));
    assertThat(Failure.classify(new IllegalStateException(new FileNotFoundException("No files matched spec: x.csv"))),
        is(Failure.INPUT_OR_CONFIG));
    assertThat(Failure.classify(new IllegalStateException("run fraud-daily-20261128 ended in state CANCELLED")),
        is(Failure.RUNNER));
    // a store failure outranks the argument error that wraps it
    assertThat(Failure.classify(new IllegalArgumentException("bad", new java.net.ConnectException("refused"))),
        is(Failure.STORE_UNREACHABLE));
  }

  @Test
  public void messagesAreOneLine() {
    assertThat(Failure.cause(new IllegalArgumentException("first\n  second\r\nthird")).message(),
        is("first second third"));
    assertThat(Failure.cause(new NullPointerException()).message(), is("NullPointerException"));
  }
}
