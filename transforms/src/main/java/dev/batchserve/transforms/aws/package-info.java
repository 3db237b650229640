/**
 * Amazon Web Services plumbing shared by the {@code s3://} inputs, models and outputs (Beam's aws2
 * file system) and the DynamoDB store: client settings for S3-compatible stores.
 */
package dev.batchserve.transforms.aws;
