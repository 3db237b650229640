package dev.batchserve.pipelines;

import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Reading what a run published, for the tests. */
public final class PublishedFiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PublishedFiles() {}

  /** The run's JSON-lines predictions by key (every shard); fails on a key written twice. */
  public static Map<String, JsonNode> jsonLines(String runDir) throws IOException {
    Map<String, JsonNode> byKey = new TreeMap<>();
    try (Stream<Path> files = Files.list(Path.of(runDir, "jsonl"))) {
      for (Path f : files.sorted().collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode n = JSON.readTree(line);
          JsonNode before = byKey.put(n.get("key").asText(), n);
          assertTrue("key " + n.get("key") + " written twice in " + runDir, before == null);
        }
      }
    }
    return byKey;
  }
}
