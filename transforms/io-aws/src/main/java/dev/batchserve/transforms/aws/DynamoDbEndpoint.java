package dev.batchserve.transforms.aws;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.connect.Secret;
import java.io.Serializable;
import java.net.URI;
import java.util.Objects;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.checkerframework.checker.nullness.qual.Nullable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;

/**
 * How to reach one DynamoDB table's service: region, endpoint override (DynamoDB-compatible servers,
 * VPC endpoints) and credentials. Shared by {@link DynamoDbSink} and the lookup client so that both
 * always talk to the same place. Serializable: only the settings travel, clients are opened where
 * they are used.
 *
 * <p>Credentials: by default the AWS SDK's default chain (environment {@code AWS_ACCESS_KEY_ID} /
 * {@code AWS_SECRET_ACCESS_KEY}, system properties, profile, container or instance role); with
 * {@link #withStaticCredentials} an access key id and a secret key read from a {@link Secret} on the
 * worker, never carried in the pipeline.
 *
 * <pre>{@code
 * DynamoDbEndpoint e = DynamoDbEndpoint.of("eu-west-1")
 *     .withStaticCredentials("AKIA...", Secret.fromEnv("DYNAMODB_SECRET_KEY"));
 * try (DynamoDbClient client = e.open()) { ... }
 * }</pre>
 */
public final class DynamoDbEndpoint implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String region;
  private final @Nullable URI endpoint;
  private final @Nullable String accessKeyId;
  private final Secret secretAccessKey;
  private final @Nullable SerializableFunction<DynamoDbClient, DynamoDbClient> decorator;

  private DynamoDbEndpoint(String region, @Nullable URI endpoint, @Nullable String accessKeyId, Secret secretAccessKey,
      @Nullable SerializableFunction<DynamoDbClient, DynamoDbClient> decorator) {
    this.region = region;
    this.endpoint = endpoint;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.decorator = decorator;
  }

  /** The service in {@code region} (e.g. {@code eu-west-1}), at its public endpoint. */
  public static DynamoDbEndpoint of(String region) {
    checkArgument(region != null && region.matches("[a-z0-9-]{1,40}"),
        "region must be an AWS region name such as eu-west-1, but was '%s'", region);
    return new DynamoDbEndpoint(region, null, null, Secret.none(), null);
  }

  /** Talks to {@code endpoint} (e.g. {@code http://127.0.0.1:8000}) instead of the region's endpoint. */
  public DynamoDbEndpoint withEndpoint(String endpoint) {
    URI uri;
    try {
      uri = URI.create(endpoint);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("endpoint must be a URL such as http://127.0.0.1:8000, but was '" + endpoint + "'", e);
    }
    checkArgument(("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null,
        "endpoint must be an http(s) URL such as http://127.0.0.1:8000, but was '%s'", endpoint);
    return new DynamoDbEndpoint(region, uri, accessKeyId, secretAccessKey, decorator);
  }

  /** Static credentials: the access key id, and where its secret key is read from (env var or file). */
  public DynamoDbEndpoint withStaticCredentials(String accessKeyId, Secret secretAccessKey) {
    checkArgument(accessKeyId != null && !accessKeyId.isBlank(), "accessKeyId must be set, but was '%s'", accessKeyId);
    checkArgument(secretAccessKey != null && secretAccessKey.isSet(),
        "static credentials need the secret access key's source (Secret.fromEnv / fromFile), but was %s", secretAccessKey);
    return new DynamoDbEndpoint(region, endpoint, accessKeyId, secretAccessKey, decorator);
  }

  /**
   * Wraps every client this endpoint opens, e.g. to instrument it or, in tests, to inject throttling
   * and unprocessed items.
   */
  public DynamoDbEndpoint withClientDecorator(SerializableFunction<DynamoDbClient, DynamoDbClient> decorator) {
    return new DynamoDbEndpoint(region, endpoint, accessKeyId, secretAccessKey, Objects.requireNonNull(decorator, "decorator"));
  }

  public String region() {
    return region;
  }

  /** The endpoint override, if any. */
  public @Nullable URI endpoint() {
    return endpoint;
  }

  /** A new client; the caller closes it. */
  public DynamoDbClient open() {
    DynamoDbClientBuilder b = DynamoDbClient.builder()
        .region(Region.of(region))
        .httpClientBuilder(ApacheHttpClient.builder())
        .credentialsProvider(credentials());
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    DynamoDbClient client = b.build();
    return decorator == null ? client : decorator.apply(client);
  }

  private AwsCredentialsProvider credentials() {
    if (accessKeyId == null) {
      return DefaultCredentialsProvider.create();
    }
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey.resolve()));
  }

  /** Where the service is; never the secret. */
  @Override
  public String toString() {
    return "dynamodb " + region + (endpoint == null ? "" : " at " + endpoint)
        + (accessKeyId == null ? " (default credentials)" : " (key " + accessKeyId + ", secret " + secretAccessKey + ")");
  }
}
