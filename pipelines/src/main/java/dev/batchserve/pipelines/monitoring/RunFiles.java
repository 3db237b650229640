package dev.batchserve.pipelines.monitoring;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Small whole-file reads and writes through Beam {@link FileSystems} (local, gs://, s3://...). */
final class RunFiles {
  private RunFiles() {}

  static String join(String dir, String name) {
    return (dir.endsWith("/") ? dir : dir + "/") + name;
  }

  /** The file's text, or null when it does not exist. */
  static @Nullable String readIfExists(String uri) {
    try {
      MatchResult m = FileSystems.match(uri, EmptyMatchTreatment.ALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        return null;
      }
      try (InputStream in = Channels.newInputStream(FileSystems.open(m.metadata().get(0).resourceId()))) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + uri, e);
    }
  }

  static boolean exists(String glob) {
    try {
      MatchResult m = FileSystems.match(glob, EmptyMatchTreatment.ALLOW);
      return m.status() == MatchResult.Status.OK && !m.metadata().isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + glob, e);
    }
  }

  static void write(String uri, String text) {
    try (OutputStream out = Channels.newOutputStream(
        FileSystems.create(FileSystems.matchNewResource(uri, false), "text/plain"))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + uri, e);
    }
  }

  static List<String> lines(String text) {
    return text.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
  }
}
