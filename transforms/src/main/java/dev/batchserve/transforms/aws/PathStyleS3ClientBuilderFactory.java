package dev.batchserve.transforms.aws;

import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Beam's S3 client for S3-compatible stores (MinIO, Ceph, S3Proxy, ...): the default client of the
 * {@code s3://} file system, region, endpoint and credentials from the AWS options, with path-style
 * addressing ({@code http://host:port/bucket/key}) instead of virtual-host style
 * ({@code http://bucket.host/key}), which such stores behind a plain host name or IP cannot serve.
 * Beam 2.62's {@link S3Options} has no path-style switch of its own, so it is chosen by class:
 *
 * <pre>{@code
 * --awsRegion=us-east-1 --endpoint=http://minio:9000
 * --awsCredentialsProvider='{"@type":"StaticCredentialsProvider","accessKeyId":"...","secretAccessKey":"..."}'
 * --s3ClientFactoryClass=dev.batchserve.transforms.aws.PathStyleS3ClientBuilderFactory
 * }</pre>
 */
public final class PathStyleS3ClientBuilderFactory implements S3ClientBuilderFactory {
  @Override
  public S3ClientBuilder createBuilder(S3Options options) {
    return new DefaultS3ClientBuilderFactory().createBuilder(options).forcePathStyle(true);
  }
}
