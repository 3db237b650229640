/**
 * JDBC databases, in the {@code batchserve-io-jdbc} artifact (Beam's JdbcIO, with the PostgreSQL and
 * MySQL drivers): the prediction sink ({@link dev.batchserve.transforms.jdbc.JdbcSink}, publishing each
 * run by an atomic table swap), the {@code jdbc:} record source
 * ({@link dev.batchserve.transforms.jdbc.JdbcRecords}), their connection settings
 * ({@link dev.batchserve.transforms.jdbc.JdbcEndpoint}).
 *
 * <pre>{@code
 * predictions.apply(JdbcSink.<String>to("jdbc:postgresql://db:5432/serving")
 *     .withUser("writer").withPassword(Secret.fromEnv("PGPASSWORD"))
 *     .withTable("fraud_scores").withRunInfo(run));
 * }</pre>
 */
package dev.batchserve.transforms.jdbc;
