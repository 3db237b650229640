package dev.batchserve.transforms.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;

/** The files of a file source, matched and opened at construction (to check headers and footers). */
final class InputFiles {
  private InputFiles() {}

  /** The files {@code pattern} matches, in sorted path order (the order of their positions). */
  static List<String> matched(String pattern) {
    try {
      MatchResult m = FileSystems.match(pattern, EmptyMatchTreatment.DISALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        throw new IllegalArgumentException("no input file matches '" + pattern + "'");
      }
      List<String> files = new ArrayList<>();
      for (MatchResult.Metadata md : m.metadata()) {
        files.add(md.resourceId().toString());
      }
      Collections.sort(files);
      return files;
    } catch (IOException e) {
      throw new IllegalArgumentException("no input file matches '" + pattern + "': " + e.getMessage(), e);
    }
  }

  /** A file's bytes, decompressed as its extension says (Beam's {@code Compression.AUTO}). */
  static InputStream openDecompressed(String file) throws IOException {
    try {
      return Channels.newInputStream(Compression.detect(file)
          .readDecompressed(FileSystems.open(FileSystems.matchNewResource(file, false))));
    } catch (IOException e) {
      throw new IOException("cannot open " + file + ": " + e, e);
    }
  }
}
