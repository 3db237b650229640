/**
 * Amazon Web Services, in the {@code batchserve-io-aws} artifact: the {@code s3://} file system for
 * inputs, models and outputs (Beam's aws2 module, with {@link
 * dev.batchserve.transforms.aws.PathStyleS3ClientBuilderFactory} for S3-compatible stores), the
 * DynamoDB prediction sink ({@link dev.batchserve.transforms.aws.DynamoDbSink}) and its lookup client
 * ({@link dev.batchserve.transforms.aws.DynamoDbPredictionStore}).
 */
package dev.batchserve.transforms.aws;
