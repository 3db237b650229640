package dev.batchserve.transforms.aws;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.batchserve.transforms.aws.testing.S3ProxyServer;
import dev.batchserve.transforms.inference.ModelStaging;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Beam's {@code s3://} file system through {@link PathStyleS3ClientBuilderFactory}, against S3Proxy. */
public class PathStyleS3ClientBuilderFactoryTest {
  @ClassRule public static final S3ProxyServer S3 = new S3ProxyServer();
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();

  @BeforeClass
  public static void options() {
    S3.createBucket("lake");
    // The options as a job's command line gives them (S3Options registered by S3OptionsRegistrar).
    PipelineOptions o = PipelineOptionsFactory.fromArgs(S3.pipelineArgs().toArray(new String[0])).create();
    FileSystems.setDefaultPipelineOptions(o);
  }

  @Test
  public void beamWritesReadsAndRenamesS3ObjectsOnAnS3CompatibleStore() throws Exception {
    ResourceId file = FileSystems.matchNewResource("s3://lake/dir/a.txt", false);
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(file, "text/plain"))) {
      out.write("hello s3".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(new String(S3.get("lake", "dir/a.txt"), StandardCharsets.UTF_8), equalTo("hello s3"));

    // A rename on S3 is a copy and a delete; the target object is replaced whole.
    ResourceId target = FileSystems.matchNewResource("s3://lake/dir/b.txt", false);
    FileSystems.rename(List.of(file), List.of(target));
    assertThat(S3.keys("lake").stream().filter(k -> k.startsWith("dir/")).collect(java.util.stream.Collectors.toList()),
        equalTo(List.of("dir/b.txt")));
    try (InputStream in = Channels.newInputStream(FileSystems.open(target))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8), equalTo("hello s3"));
    }
  }

  @Test
  public void anEmptyObjectIsWritten() throws Exception {
    ResourceId file = FileSystems.matchNewResource("s3://lake/empty/part-00000-of-00001.jsonl", false);
    FileSystems.create(file, "application/octet-stream").close();
    assertThat(S3.get("lake", "empty/part-00000-of-00001.jsonl").length, equalTo(0));
  }

  @Test
  public void aModelDirectoryOnS3IsStagedToLocalDiskWholeOnce() throws Exception {
    Path model = TMP.newFolder("model").toPath();
    Files.writeString(model.resolve("model-manifest.json"), "{\"name\":\"m\"}", StandardCharsets.UTF_8);
    Files.createDirectories(model.resolve("variables"));
    Files.write(model.resolve("variables/weights.bin"), new byte[] {1, 2, 3, 4});
    S3.upload(model, "lake", "models/m/1");

    Path local = ModelStaging.localize("s3://lake/models/m/1");
    assertThat(Files.readString(local.resolve("model-manifest.json")), equalTo("{\"name\":\"m\"}"));
    assertThat(Files.readAllBytes(local.resolve("variables/weights.bin")), equalTo(new byte[] {1, 2, 3, 4}));
    assertThat(ModelStaging.localize("s3://lake/models/m/1"), equalTo(local));
  }
}
