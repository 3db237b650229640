package dev.batchserve.pipelines.config;

import static dev.batchserve.pipelines.config.Problems.isBlank;
import static dev.batchserve.pipelines.config.Problems.lower;

import com.fasterxml.jackson.annotation.JsonFormat;
import dev.batchserve.pipelines.OutputShards;
import dev.batchserve.transforms.jdbc.JdbcEndpoint;
import dev.batchserve.transforms.jdbc.JdbcSink;
import dev.batchserve.transforms.redis.RedisEndpoint;
import dev.batchserve.transforms.redis.RedisSink;
import dev.batchserve.transforms.sink.FileFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One entry of a job file's {@code sinks}, as written; which fields apply depends on {@code type}:
 * {@code files} ({@code root}, {@code formats}, {@code numShards}), {@code redis} ({@code host},
 * {@code port}, {@code prefix}, {@code ttl}), {@code jdbc} ({@code url}, {@code table}, {@code view},
 * {@code viewColumns}) or {@code bigquery} ({@code table}, {@code tempLocation}). Each value is
 * checked by the sink that takes it ({@link FileFormat#parse}, {@link OutputShards#checkNumShards},
 * {@link RedisEndpoint#of}, {@link RedisSink#checkKeyPrefix}, {@link JdbcEndpoint#of},
 * {@link JdbcSink#checkTable}, {@link JdbcSink#checkView}).
 *
 * <pre>
 * sinks:
 *   - {type: files, root: predictions/fraud, formats: [parquet, jsonl], numShards: 4}
 *   - {type: redis, host: localhost, port: 6379, prefix: fraud, ttl: 36h}
 * </pre>
 */
public record JobSink(
    @Nullable String type,
    @Nullable String root,
    @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY) @Nullable List<String> formats,
    @Nullable Integer numShards,
    @Nullable String host,
    @Nullable Integer port,
    @Nullable String prefix,
    @Nullable String ttl,
    @Nullable String url,
    @Nullable String table,
    @Nullable String view,
    @Nullable Map<String, String> viewColumns,
    @Nullable String tempLocation) {

  /** The sink type, trimmed and lower case; null when unset. */
  public @Nullable String kind() {
    return lower(type);
  }

  /** A files sink's formats; parquet and jsonl when unset. */
  public List<FileFormat> fileFormats() {
    if (formats == null) {
      return List.of(FileFormat.PARQUET, FileFormat.JSONL);
    }
    List<FileFormat> out = new ArrayList<>();
    for (String f : formats) {
      out.add(FileFormat.parse(String.valueOf(f)));
    }
    return out;
  }

  /** A Redis sink's port, 6379 when unset. */
  public int redisPort() {
    return port == null ? 6379 : port;
  }

  /** A Redis sink's TTL, or null for the store's default. */
  public @Nullable Duration ttlDuration() {
    return ttl == null ? null : JobConfig.parseDuration(ttl);
  }

  /** A jdbc view's columns (view column to prediction field, in order); empty when unset. */
  public Map<String, String> viewColumnsOrEmpty() {
    return viewColumns == null ? Map.of() : viewColumns;
  }

  void validate(String at, Problems p) {
    String k = kind();
    if (k == null) {
      p.add(at + ".type is required: files, redis, jdbc or bigquery");
      return;
    }
    switch (k) {
      case "files":
        if (isBlank(root)) {
          p.add(at + ".root is required for a files sink");
        }
        if (formats != null) {
          if (formats.isEmpty()) {
            p.add(at + ".formats must name at least one format");
          }
          for (int i = 0; i < formats.size(); i++) {
            String f = formats.get(i);
            p.check(at + ".formats[" + i + "]", () -> FileFormat.parse(String.valueOf(f)));
          }
        }
        if (numShards != null) {
          p.check(at + ".numShards", () -> OutputShards.checkNumShards(numShards));
        }
        p.notUsed(at, "a files sink", "host", host, "port", port, "prefix", prefix, "ttl", ttl, "url", url,
            "table", table, "view", view, "viewColumns", viewColumns, "tempLocation", tempLocation);
        break;
      case "redis":
        if (isBlank(host)) {
          p.add(at + ".host is required for a redis sink");
        }
        p.check(at + ".port", () -> RedisEndpoint.of("localhost", redisPort()));
        if (prefix != null) {
          p.check(at + ".prefix", () -> RedisSink.checkKeyPrefix(prefix));
        }
        p.duration(at + ".ttl", ttl);
        p.notUsed(at, "a redis sink", "root", root, "formats", formats, "numShards", numShards, "url", url,
            "table", table, "view", view, "viewColumns", viewColumns, "tempLocation", tempLocation);
        break;
      case "jdbc":
        p.check(at + ".url", () -> JdbcEndpoint.of(url));
        p.check(at + ".table", () -> JdbcSink.checkTable(table));
        if ((view == null) != (viewColumns == null)) {
          p.add(at + (view == null ? ".viewColumns needs view (the view's name)" : ".view needs viewColumns"));
        }
        if (view != null) {
          // Without viewColumns (reported above), the name is still checked, on a one-column view.
          p.run(at + ".view", () -> JdbcSink.checkView(view, viewColumns == null ? Map.of("key", "key") : viewColumns));
        }
        p.notUsed(at, "a jdbc sink", "root", root, "formats", formats, "numShards", numShards, "host", host,
            "port", port, "prefix", prefix, "ttl", ttl, "tempLocation", tempLocation);
        break;
      case "bigquery":
        if (isBlank(table) || !JobSource.isBigQueryTable(table)) {
          p.add(at + ".table must be [project:]dataset.table, but was " + (table == null ? "unset" : "'" + table + "'"));
        }
        p.notUsed(at, "a bigquery sink", "root", root, "formats", formats, "numShards", numShards, "host", host,
            "port", port, "prefix", prefix, "ttl", ttl, "url", url, "view", view, "viewColumns", viewColumns);
        break;
      default:
        p.add(at + ".type must be one of files, redis, jdbc, bigquery, but was '" + type + "'");
    }
  }
}
