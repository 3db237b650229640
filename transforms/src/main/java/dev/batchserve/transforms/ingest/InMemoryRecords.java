package dev.batchserve.transforms.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.values.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A data file read into memory with the job's own reader ({@link ReadRecords}: CSV, JSON lines,
 * Parquet, by extension or an explicit format), so that a tool that fits a feature spec or trains a
 * model sees each value exactly as scoring will. The file is read once on the Direct runner in this
 * JVM (the caller's class path must hold {@code beam-runners-direct-java}) and then held in memory:
 * for training sets that fit in memory; a larger fit belongs in a pipeline ({@code AnalyzeFeatures}).
 *
 * <pre>{@code
 * List<Map<String, Object>> rows = InMemoryRecords.read("data/train.parquet", null,
 *     List.of("plan", "tenure_days"), "churned", null);
 * FeatureSpec fitted = FeatureSpec.fit(template, rows);
 * }</pre>
 *
 * <p>Used by {@code batchserve fit-spec} (batchserve-pipelines) and {@code batchserve train --input}
 * (batchserve-tools).
 */
public final class InMemoryRecords {
  private static final ObjectMapper JSON = new ObjectMapper();

  private InMemoryRecords() {}

  /**
   * Reads a data file with the job's reader (Direct runner) into memory: one map per record, of
   * the columns {@code inputs} and {@code label} (when not null). {@code format} is csv, jsonl or
   * parquet (null: by extension); {@code keyColumns} is a comma-separated list (null: the first
   * column). A record the reader refuses fails the read, naming it: training data must be clean.
   */
  public static List<Map<String, Object>> read(String input, @Nullable String format, List<String> inputs,
      @Nullable String label, @Nullable String keyColumns) {
    Set<String> columns = new LinkedHashSet<>(inputs);
    if (label != null) {
      columns.add(label);
    }
    ReadRecords.Format f = format == null || format.isBlank() ? ReadRecords.Format.fromPattern(input)
        : ReadRecords.Format.valueOf(format.trim().toUpperCase(Locale.ROOT));
    String[] keys = keyColumns == null ? new String[] {columns.iterator().next()}
        : Arrays.stream(keyColumns.split(",")).map(String::trim).toArray(String[]::new);
    Path tmp;
    try {
      tmp = Files.createTempDirectory("batchserve-rows");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      // The Direct runner in this JVM, without its per-element encoding and mutation checks (our own
      // code's coders are tested elsewhere; here they would only slow a large training file down).
      Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner",
          "--enforceEncodability=false", "--enforceImmutability=false").create());
      ReadRecords.Result read = p.apply("Read", ReadRecords.of(input, f, new ArrayList<>(columns))
          .withKeyColumns(keys));
      read.records().apply("ToJson", ParDo.of(new ToJsonFn(new ArrayList<>(columns))))
          .apply("Write", TextIO.write().to(tmp.resolve("rows").toString()).withSuffix(".jsonl"));
      read.deadLetters().apply("Refused", ParDo.of(new DoFn<DeadLetter, Void>() {
        @ProcessElement
        public void process(@Element DeadLetter d) {
          throw new IllegalArgumentException("the data file has a record the reader refuses (" + d.getReason()
              + "): " + d.getRecord() + "; training data must be clean");
        }
      }));
      p.run().waitUntilFinish();
      List<Map<String, Object>> rows = new ArrayList<>();
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path file : files.sorted().collect(Collectors.toList())) {
          for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
              rows.add(toMap(JSON.readTree(line)));
            }
          }
        }
      }
      if (rows.isEmpty()) {
        throw new IllegalArgumentException(input + " has no records");
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (org.apache.beam.sdk.Pipeline.PipelineExecutionException e) {
      throw e.getCause() instanceof RuntimeException ? (RuntimeException) e.getCause() : e;
    } finally {
      deleteQuietly(tmp);
    }
  }

  private static Map<String, Object> toMap(JsonNode n) {
    Map<String, Object> m = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = n.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      m.put(e.getKey(), v.isNull() ? null : v.isIntegralNumber() ? (Object) v.asLong()
          : v.isNumber() ? (Object) v.asDouble() : v.isBoolean() ? (Object) v.asBoolean()
          : v.isArray() ? listOf(v) : v.asText());
    }
    return m;
  }

  private static List<Object> listOf(JsonNode array) {
    List<Object> l = new ArrayList<>();
    array.forEach(x -> l.add(x.isNumber() ? (Object) x.asDouble() : x.asText()));
    return l;
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }

  /** One record as a JSON object of the wanted columns; instants and dates as ISO text. */
  private static final class ToJsonFn extends DoFn<KV<String, Row>, String> {
    private static final long serialVersionUID = 1L;
    private final List<String> columns;

    ToJsonFn(List<String> columns) {
      this.columns = columns;
    }

    @ProcessElement
    public void process(@Element KV<String, Row> kv, OutputReceiver<String> out) {
      Row row = kv.getValue();
      ObjectNode n = JSON.createObjectNode();
      for (String c : columns) {
        if (!row.getSchema().hasField(c)) {
          continue;
        }
        Object v = row.getValue(c);
        if (v == null) {
          n.putNull(c);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
          n.put(c, ((Number) v).longValue());
        } else if (v instanceof BigDecimal) {
          n.put(c, (BigDecimal) v);
        } else if (v instanceof Number) {
          n.put(c, ((Number) v).doubleValue());
        } else if (v instanceof Boolean) {
          n.put(c, (Boolean) v);
        } else if (v instanceof org.joda.time.ReadableInstant) {
          n.put(c, java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis()).toString());
        } else if (v instanceof Iterable) {
          com.fasterxml.jackson.databind.node.ArrayNode arr = n.putArray(c);
          for (Object x : (Iterable<?>) v) {
            if (x instanceof Number) {
              arr.add(((Number) x).doubleValue());
            } else {
              arr.add(String.valueOf(x));
            }
          }
        } else {
          n.put(c, v.toString());
        }
      }
      out.output(n.toString());
    }
  }
}
