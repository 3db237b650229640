package dev.batchserve.transforms.aws;

import java.util.List;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/**
 * Registers Beam's {@link S3Options} with {@code PipelineOptionsFactory}, so that every job of this
 * project accepts the {@code s3://} file system's options on its command line
 * ({@code --s3ClientFactoryClass}, {@code --SSEAlgorithm}, {@code --s3StorageClass}, ...). Beam's aws2
 * module registers only {@code AwsOptions} (region, endpoint, credentials). Found through
 * {@code META-INF/services}; nothing to call.
 *
 * <pre>{@code
 * PipelineOptionsFactory.fromArgs("--s3ClientFactoryClass=" + PathStyleS3ClientBuilderFactory.class.getName());
 * }</pre>
 */
public final class S3OptionsRegistrar implements PipelineOptionsRegistrar {
  @Override
  public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
    return List.of(S3Options.class);
  }
}
