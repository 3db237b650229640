package com.example.churn;

import static org.junit.Assert.assertThrows;

import org.junit.Test;

/**
 * A job on the core chain, the files sink and the Direct runner gets no JDBC client: JdbcIO, the
 * PostgreSQL and MySQL drivers and the connection pool come only with {@code batchserve-io-jdbc}.
 */
public class NoJdbcClientTest {
  @Test
  public void theCoreBringsNoJdbcConnectorOrDriver() {
    for (String name : new String[] {"org.apache.beam.sdk.io.jdbc.JdbcIO", "org.postgresql.Driver",
        "com.mysql.cj.jdbc.Driver", "org.apache.commons.dbcp2.BasicDataSource",
        "dev.batchserve.transforms.jdbc.JdbcSink", "dev.batchserve.transforms.sink.JdbcSink"}) {
      assertThrows(name + " is on a core-only job's class path", ClassNotFoundException.class,
          () -> Class.forName(name, false, NoJdbcClientTest.class.getClassLoader()));
    }
  }
}
