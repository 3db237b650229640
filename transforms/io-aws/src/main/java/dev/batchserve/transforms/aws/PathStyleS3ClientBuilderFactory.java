package dev.batchserve.transforms.aws;

import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Beam's S3 client for S3-compatible stores (MinIO, Ceph, S3Proxy, ...): the default client of the
 * {@code s3://} file system, region, endpoint and credentials from the AWS options, with path-style
 * addressing ({@code http://host:port/bucket/key}) instead of virtual-host style
 * ({@code http://bucket.host/key}), which such stores behind a plain host name or IP cannot serve.
 * Beam 2.62's {@link S3Options} has no path-style switch of its own, so it is chosen by class.
 *
 * <p>Beam's writer also sends {@code x-amz-server-side-encryption-bucket-key-enabled: false} with
 * every upload, the default that S3 assumes without it, and that S3-compatible stores (S3Proxy among
 * them) refuse with {@code 501 Not Implemented}; this client leaves that header out when it says
 * {@code false}. With {@code --bucketKeyEnabled=true} it is sent as is.
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
    S3ClientBuilder b = new DefaultS3ClientBuilderFactory().createBuilder(options).forcePathStyle(true);
    ClientOverrideConfiguration current = b.overrideConfiguration();
    return b.overrideConfiguration(current.toBuilder().addExecutionInterceptor(new DropDefaultBucketKeyHeader()).build());
  }

  /** Removes the bucket-key header when it only restates the default ({@code false}); runs before signing. */
  static final class DropDefaultBucketKeyHeader implements ExecutionInterceptor {
    static final String HEADER = "x-amz-server-side-encryption-bucket-key-enabled";

    @Override
    public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
      SdkHttpRequest request = context.httpRequest();
      return request.firstMatchingHeader(HEADER).filter("false"::equalsIgnoreCase).isPresent()
          ? request.toBuilder().removeHeader(HEADER).build() : request;
    }
  }
}
