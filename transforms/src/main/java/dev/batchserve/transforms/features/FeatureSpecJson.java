package dev.batchserve.transforms.features;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The spec file format: Jackson reads and writes the fields of {@link FeatureSpec}, {@link
 * Feature}, {@link Imputation}, {@link Step} (its {@code "kind"} picks the subclass), {@link
 * FeatureStats}, {@link Histogram} and {@link Cross} in declaration order, nulls omitted, with
 * two-space indents and {@code \n} line ends, so a spec file is byte-identical whichever OS wrote
 * it and a spec read and written again is the same file. Unknown fields are refused; an explicit
 * {@code null} for a list or a policy means its default.
 *
 * <pre>{@code
 * FeatureSpec spec = FeatureSpecJson.parse(FeatureSpecJson.readText("gs://bucket/models/v7/feature_spec.json"));
 * }</pre>
 */
final class FeatureSpecJson {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter PRETTY;

  static {
    JSON.setVisibility(PropertyAccessor.ALL, Visibility.NONE);
    JSON.setVisibility(PropertyAccessor.FIELD, Visibility.ANY);
    JSON.setVisibility(PropertyAccessor.CREATOR, Visibility.ANY);
    JSON.setSerializationInclusion(JsonInclude.Include.NON_NULL);
    JSON.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    JSON.configOverride(List.class).setSetterInfo(JsonSetter.Value.forValueNulls(Nulls.SKIP));
    JSON.configOverride(InvalidPolicy.class).setSetterInfo(JsonSetter.Value.forValueNulls(Nulls.SKIP));
    DefaultPrettyPrinter printer = new DefaultPrettyPrinter();
    // A fixed "\n" so the file is byte-identical whichever OS wrote it.
    DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
    printer.indentObjectsWith(indenter);
    printer.indentArraysWith(indenter);
    PRETTY = JSON.writer(printer);
  }

  private FeatureSpecJson() {}

  /** Stable pretty JSON of {@code spec}. */
  static String write(FeatureSpec spec) {
    try {
      return PRETTY.writeValueAsString(spec);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write feature spec as JSON", e);
    }
  }

  /** Parses {@code json} into a spec whose fields are as written (not checked yet). */
  static FeatureSpec parse(String json) {
    try {
      return JSON.readValue(json, FeatureSpec.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a valid feature spec JSON: " + e.getMessage(), e);
    }
  }

  /** A deep copy of {@code spec} (through its JSON, so it holds exactly what a saved file holds). */
  static FeatureSpec copy(FeatureSpec spec) {
    try {
      return JSON.readValue(JSON.writeValueAsString(spec), FeatureSpec.class);
    } catch (IOException e) {
      throw new IllegalStateException("cannot copy feature spec", e);
    }
  }

  /** The text of a spec file at a local path or any Beam filesystem URI. */
  static String readText(String uri) {
    Path missingDir = missingLocalDirectory(uri);
    if (missingDir != null) {
      throw new IllegalArgumentException("cannot read feature spec from " + uri + ": the directory " + missingDir
          + " does not exist (a wrong model directory? check --model, or pass the spec's path)");
    }
    try {
      ResourceId resource = FileSystems.matchSingleFileSpec(uri).resourceId();
      try (ReadableByteChannel channel = FileSystems.open(resource);
          InputStream in = Channels.newInputStream(channel)) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read feature spec from " + uri, e);
    }
  }

  /** The directory of a local {@code uri} when it does not exist; null for remote URIs and existing directories. */
  private static @Nullable Path missingLocalDirectory(String uri) {
    String path = uri.startsWith("file:") ? uri.substring("file:".length()) : uri;
    if (path.contains("://") || path.contains("*") || path.contains("?")) {
      return null;
    }
    Path dir = Path.of(path).toAbsolutePath().getParent();
    return dir == null || Files.isDirectory(dir) ? null : dir;
  }

  /** Writes {@code json} to a local path or any Beam filesystem URI. */
  static void writeText(String uri, String json) {
    ResourceId resource = FileSystems.matchNewResource(uri, false);
    try (WritableByteChannel channel = FileSystems.create(resource, "application/json");
        OutputStream out = Channels.newOutputStream(channel)) {
      out.write(json.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write feature spec to " + uri, e);
    }
  }
}
