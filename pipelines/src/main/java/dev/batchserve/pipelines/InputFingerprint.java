package dev.batchserve.pipelines;

import dev.batchserve.transforms.ingest.ReadRecords;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What a partition of a {@code --partitions} run was computed from, as one sha256: every input file
 * (path, size, last-modified time and, where the file system has one, its checksum, as Beam's
 * {@link MatchResult.Metadata} gives them), the contents of the model manifest and of the feature
 * spec, and the options that change the predictions or how keys are split (key columns, input format
 * and query, fallback, duplicate-key policy, output formats, number of partitions). A committed
 * partition whose fingerprint differs from the current run's was computed from something else and is
 * processed again.
 *
 * <p>A JDBC or BigQuery source is fingerprinted by its URL/table and query text only: rows changed
 * behind the same query are not seen. A file rewritten in place with the same size and modification
 * time (and no checksum from its file system) is not seen either.
 *
 * <pre>{@code
 * InputFingerprint now = InputFingerprint.of(options);
 * boolean same = now.sha256().equals(storedFingerprint);
 * }</pre>
 */
final class InputFingerprint {
  private final String sha256;
  private final String description;

  private InputFingerprint(String sha256, String description) {
    this.sha256 = sha256;
    this.description = description;
  }

  /** The fingerprint of the run {@code o} describes; reads the input listing, model manifest and spec. */
  static InputFingerprint of(BatchScoringOptions o) {
    List<String> lines = new ArrayList<>();
    lines.add("batchserve partition input fingerprint v1");
    String format = o.getInputFormat() == null ? "" : o.getInputFormat().optionName();
    lines.add("input=" + o.getInput());
    lines.add("inputFormat=" + format);
    lines.add("inputQuery=" + o.getInputQuery());
    if (isFiles(o)) {
      for (MatchResult.Metadata m : files(o.getInput())) {
        lines.add("file=" + m.resourceId() + " bytes=" + m.sizeBytes() + " modified=" + m.lastModifiedMillis()
            + (m.checksum() == null ? "" : " checksum=" + m.checksum()));
      }
    }
    String model = o.getModel().endsWith("/") ? o.getModel().substring(0, o.getModel().length() - 1) : o.getModel();
    lines.add("model=" + model + " manifest=" + contentHash(model + "/model-manifest.json"));
    String spec = o.getFeatureSpec().isEmpty() ? model + "/feature-spec.json" : o.getFeatureSpec();
    lines.add("featureSpec=" + spec + " sha256=" + contentHash(spec));
    if (!o.getSegmentModels().isEmpty()) {
      // Only when set, as pass-through columns: each segment model's manifest and spec count too.
      lines.add("segmentColumn=" + o.getSegmentColumn().trim() + " segmentKeySeparator=" + o.getSegmentKeySeparator());
      for (java.util.Map.Entry<String, String> m : o.getSegmentModels().entrySet()) {
        String dir = m.getValue().endsWith("/") ? m.getValue().substring(0, m.getValue().length() - 1) : m.getValue();
        lines.add("segmentModel=" + m.getKey() + "=" + dir + " manifest=" + contentHash(dir + "/model-manifest.json")
            + " featureSpec sha256=" + contentHash(dir + "/feature-spec.json"));
      }
    }
    // The options' text forms, as the command line gave them when they were strings.
    lines.add("keyColumns=" + names(o.getKeyColumns()));
    lines.add("fallback=" + o.getFallback().spec());
    lines.add("duplicateKeys=" + o.getDuplicateKeys().optionName());
    if (!o.getPassThroughColumns().isEmpty()) {
      // Only when set, so that the fingerprints of runs without pass-through columns are unchanged.
      lines.add("passThroughColumns=" + names(o.getPassThroughColumns()));
    }
    lines.add("formats=" + o.getFormats().stream().map(dev.batchserve.transforms.sink.FileFormat::directory)
        .collect(java.util.stream.Collectors.joining(",")));
    lines.add("partitions=" + o.getPartitions());
    String description = String.join("\n", lines) + "\n";
    return new InputFingerprint(sha256(description.getBytes(StandardCharsets.UTF_8)), description);
  }

  /** Parses what {@link #toString()} wrote; null when {@code text} is null or empty. */
  static @Nullable InputFingerprint parse(@Nullable String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    int nl = text.indexOf('\n');
    return nl < 0 ? new InputFingerprint(text.trim(), "")
        : new InputFingerprint(text.substring(0, nl).trim(), text.substring(nl + 1));
  }

  /** The hex sha256 over {@link #description()}. */
  String sha256() {
    return sha256;
  }

  /** What was hashed, one item a line (for a person comparing two fingerprints). */
  String description() {
    return description;
  }

  /** The stored form: the sha256 on the first line, then the description. */
  @Override
  public String toString() {
    return sha256 + "\n" + description;
  }

  private static String names(List<String> names) {
    return String.join(",", names).replace(" ", "");
  }

  private static boolean isFiles(BatchScoringOptions o) {
    if (o.getInputFormat() != null) {
      return o.getInputFormat().isFile();
    }
    // As ReadRecords.Format.fromPattern tells them apart; an unknown extension fails later, in the build.
    String input = o.getInput().toLowerCase(Locale.ROOT);
    return !input.startsWith("jdbc:") && !input.startsWith(ReadRecords.Format.BIGQUERY_PREFIX);
  }

  private static List<MatchResult.Metadata> files(String pattern) {
    try {
      MatchResult m = FileSystems.match(pattern, EmptyMatchTreatment.ALLOW);
      List<MatchResult.Metadata> out = new ArrayList<>(
          m.status() == MatchResult.Status.OK ? m.metadata() : List.of());
      out.sort(Comparator.comparing(md -> md.resourceId().toString()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the input files '" + pattern + "' to fingerprint them", e);
    }
  }

  /** The sha256 of the file's bytes, or {@code absent} when it does not exist. */
  private static String contentHash(String uri) {
    try {
      MatchResult m = FileSystems.match(uri, EmptyMatchTreatment.ALLOW);
      if (m.status() != MatchResult.Status.OK || m.metadata().isEmpty()) {
        return "absent";
      }
      try (InputStream in = Channels.newInputStream(FileSystems.open(m.metadata().get(0).resourceId()))) {
        return sha256(in.readAllBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + uri + " to fingerprint it", e);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }
}
