package com.example.churn;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.Test;

/**
 * What a library user's runtime class path holds when they use the core chain, the files sink and
 * the Direct runner: no store client, and no more jars than README states. The list is written by
 * the dependency plugin ({@code target/runtime-dependencies.txt}) before the tests run.
 */
public class RuntimeFootprintTest {
  /** README, "Using batchserve from your own project": keep the two equal. */
  static final int MAX_RUNTIME_JARS = 64;

  /** Store clients and connectors that live in the io artifacts, never in batchserve-transforms. */
  private static final List<String> STORE_CLIENTS = List.of(
      "redis.clients:jedis", "software.amazon.awssdk:", "org.postgresql:postgresql", "com.mysql:mysql-connector-j",
      "org.apache.beam:beam-sdks-java-io-jdbc", "org.apache.beam:beam-sdks-java-io-amazon-web-services2",
      "org.apache.beam:beam-sdks-java-io-google-cloud-platform", "com.google.cloud:google-cloud-bigquery",
      "dev.batchserve:batchserve-io-");

  private static final Pattern JAR = Pattern.compile("^\\s*([\\w.\\-]+):([\\w.\\-]+):jar:(?:[\\w.\\-]+:)?[\\w.\\-]+:(compile|runtime)\\b");

  static List<String> runtimeJars() throws IOException {
    return Files.readAllLines(Path.of("target", "runtime-dependencies.txt")).stream()
        .map(JAR::matcher)
        .filter(Matcher::find)
        .map(m -> m.group(1) + ":" + m.group(2))
        .collect(Collectors.toList());
  }

  @Test
  public void theCoreChainNeedsNoStoreClient() throws IOException {
    List<String> jars = runtimeJars();
    assertThat("the list was not read: " + jars, jars.size() > 10);
    List<String> stores = jars.stream()
        .filter(j -> STORE_CLIENTS.stream().anyMatch(j::startsWith))
        .collect(Collectors.toList());
    assertThat("store clients on a core user's class path (they belong in batchserve-io-*)", stores, empty());
  }

  @Test
  public void theRuntimeClassPathStaysWithinTheBoundReadmeStates() throws IOException {
    List<String> jars = runtimeJars();
    assertThat("runtime jars of a core user (README states the bound): " + jars,
        jars.size(), lessThanOrEqualTo(MAX_RUNTIME_JARS));
  }
}
