package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.batchserve.transforms.aws.DynamoDbPredictionStore;
import dev.batchserve.transforms.aws.testing.DynaliteServer;
import dev.batchserve.transforms.serving.Lookup;
import dev.batchserve.transforms.sink.StoreTestData;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The DynamoDB store as a job's options name it ({@code --dynamoDbTable} ...), against dynalite. */
public class DynamoDbStoreSinksTest {
  @ClassRule public static final DynaliteServer DYNAMO = new DynaliteServer();
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  @Test
  public void theOptionsWriteAndPublishTheRunAndTheLookupClientReadsIt() throws Exception {
    DYNAMO.createTable("serving");
    Path secret = TMP.getRoot().toPath().resolve("ddb-secret");
    Files.writeString(secret, "job-secret\n", StandardCharsets.UTF_8);
    StoreSinkOptions o = PipelineOptionsFactory.fromArgs("--dynamoDbTable=serving",
        "--dynamoDbEndpoint=http://127.0.0.1:" + DYNAMO.port(), "--dynamoDbRegion=eu-west-1",
        "--dynamoDbAccessKeyId=job-key", "--dynamoDbSecretKeyFile=" + secret, "--dynamoDbTtl=PT2H")
        .as(StoreSinkOptions.class);
    RunInfo run = StoreTestData.day(28);
    Pipeline p = Pipeline.create(o);
    assertThat(StoreSinks.of(o, run).write(p.apply(StoreTestData.create(run, 40))), is(1));
    p.run().waitUntilFinish();

    // The prefix defaults to the pipeline name.
    try (DynamoDbPredictionStore store = DynamoDbPredictionStore.builder(StoreSinks.dynamoDbEndpoint(o), "serving")
        .withKeyPrefix(run.pipeline()).build()) {
      for (int i = 0; i < 40; i++) {
        Lookup l = store.get(StoreTestData.key(i));
        assertThat(l.toString(), l.source(), equalTo(Lookup.Source.STORE));
        assertThat(l.prediction().get().toJson(StoreTestData.key(i)),
            equalTo(StoreTestData.prediction(run, i).toJson(StoreTestData.key(i))));
        assertThat(l.servedRunId().get(), equalTo(run.runId()));
      }
    }
  }
}
