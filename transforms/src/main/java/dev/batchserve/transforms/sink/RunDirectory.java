package dev.batchserve.transforms.sink;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The file sink's layout under its root: where a run and its attempts live, which attempt a run's
 * {@code _CURRENT} and the root's {@code _LATEST} name, and when an attempt was published (see
 * {@link FileSink} for the layout; its public static methods delegate here).
 */
final class RunDirectory {
  static final String SUCCESS = "_SUCCESS";
  static final String MANIFEST = "_MANIFEST.json";
  static final String LATEST = "_LATEST";
  static final String CURRENT = "_CURRENT";
  static final String PUBLISHED = "_PUBLISHED.json";
  static final String ABORTED = "_ABORTED";
  static final String ATTEMPT_PREFIX = "attempt=";
  private static final java.util.regex.Pattern ATTEMPT_ID = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
  private static final java.time.format.DateTimeFormatter ATTEMPT_TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'", java.util.Locale.ROOT)
          .withZone(java.time.ZoneOffset.UTC);
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  private RunDirectory() {}

  /**
   * A new attempt id: the UTC start time and 6 random hex digits ({@code 20261128T020000.000Z-3fa9c1}),
   * so attempts of one run sort by start time and two starts in the same millisecond differ.
   */
  static String newAttemptId() {
    byte[] b = new byte[3];
    RANDOM.nextBytes(b);
    return ATTEMPT_TIME.format(java.time.Instant.now()) + "-" + HexFormat.of().formatHex(b);
  }

  static String checkAttemptId(String id) {
    checkArgument(id != null && ATTEMPT_ID.matcher(id).matches(),
        "an attempt id is 1-100 letters, digits, '.', '_' or '-' (not first), but was '%s'", id);
    return id;
  }

  /**
   * {@code <root>/run_date=<date>/run_id=<id>}: the run's directory, holding its attempts, its
   * {@code _CURRENT} pointer and the job's lock. A run's files are in the attempt {@code _CURRENT} names:
   * read them through {@link #publishedDirectory}.
   */
  static String runDirectory(String root, RunInfo run) {
    return trim(root) + "/" + runPath(run);
  }

  /** {@code <root>/run_date=<date>/run_id=<id>/attempt=<attempt id>}: where one attempt writes everything. */
  static String attemptDirectory(String root, RunInfo run, String attemptId) {
    return runDirectory(root, run) + "/" + ATTEMPT_PREFIX + checkAttemptId(attemptId);
  }

  /**
   * The directory of the run's published attempt (the one its {@code _CURRENT} names, with its
   * {@code _SUCCESS}), or null when the run was never published. A run published by a release before
   * attempts (files and {@code _SUCCESS} directly in the run's directory) is that directory.
   *
   * <pre>{@code
   * String dir = FileSink.publishedDirectory("/data/predictions", run); // .../run_id=R/attempt=...
   * }</pre>
   */
  static @Nullable String publishedDirectory(String root, RunInfo run) {
    String runDir = runDirectory(root, run);
    String current = SinkFiles.readSmall(runDir + "/" + CURRENT);
    String dir = current == null || current.trim().isEmpty() ? runDir : runDir + "/" + current.trim();
    return SinkFiles.exists(dir + "/" + SUCCESS) ? dir : null;
  }

  /**
   * The directory {@code <root>/_LATEST} names (the latest published attempt of any run), or null when
   * nothing was published. Readers trust it only with its {@code _SUCCESS}, which publishing wrote first.
   */
  static @Nullable String latestDirectory(String root) {
    String latest = SinkFiles.readSmall(trim(root) + "/" + LATEST);
    return latest == null || latest.trim().isEmpty() ? null : trim(root) + "/" + latest.trim();
  }

  /** The run id in a run's or attempt's path ({@code .../run_id=<id>[/attempt=...]}). */
  static String runIdOf(String path) {
    int i = path.lastIndexOf("run_id=");
    checkArgument(i >= 0, "'%s' is not a run's path: it has no run_id=<id> part", path);
    String rest = path.substring(i + "run_id=".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  static String trim(String root) {
    return root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
  }

  /** The run's path relative to the root, as written into {@code _LATEST}. */
  static String runPath(RunInfo run) {
    return "run_date=" + run.runDate() + "/run_id=" + run.runId();
  }

  /**
   * When the attempt in {@code dir} was published: the {@code published_at} of its
   * {@code _PUBLISHED.json}, else (an attempt published before that file existed) the modification time
   * of its {@code _SUCCESS}, which publishing wrote; null when it has neither.
   *
   * <pre>{@code
   * Instant at = FileSink.publishedAt(FileSink.latestDirectory("/data/predictions"));
   * }</pre>
   */
  static java.time.@Nullable Instant publishedAt(String dir) {
    String published = SinkFiles.readSmall(trim(dir) + "/" + PUBLISHED);
    if (published != null) {
      try {
        com.fasterxml.jackson.databind.JsonNode at = RunManifest.JSON.readTree(published).get("published_at");
        if (at != null && at.isTextual()) {
          return java.time.Instant.parse(at.asText());
        }
      } catch (IOException | java.time.format.DateTimeParseException e) {
        // fall back to _SUCCESS below
      }
    }
    try {
      List<MatchResult.Metadata> success = SinkFiles.match(trim(dir) + "/" + SUCCESS);
      long millis = success.isEmpty() ? 0 : success.get(0).lastModifiedMillis();
      return millis > 0 ? java.time.Instant.ofEpochMilli(millis) : null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + "/" + SUCCESS, e);
    }
  }

  /** Whether the run's {@code _CURRENT} or the root's {@code _LATEST} names this attempt of the run. */
  static boolean isServed(String root, RunInfo run, String attemptName) {
    String current = SinkFiles.readSmall(runDirectory(root, run) + "/" + CURRENT);
    if (current != null && current.trim().equals(attemptName)) {
      return true;
    }
    String latest = SinkFiles.readSmall(trim(root) + "/" + LATEST);
    return latest != null && latest.trim().equals(runPath(run) + "/" + attemptName);
  }

  /** The run's attempts ({@code attempt=<id>}), each with whether it has its {@code _SUCCESS}. */
  static Map<String, Boolean> attempts(ResourceId runDir) throws IOException {
    Map<String, Boolean> found = new TreeMap<>();
    String prefix = runDir.toString();
    for (MatchResult.Metadata m : SinkFiles.match(runDir + ATTEMPT_PREFIX + "*/**")) {
      String rel = m.resourceId().toString().substring(prefix.length());
      int slash = rel.indexOf('/');
      if (slash > 0 && rel.startsWith(ATTEMPT_PREFIX)) {
        String name = rel.substring(0, slash);
        boolean success = rel.equals(name + "/" + SUCCESS);
        found.merge(name, success, Boolean::logicalOr);
      }
    }
    return found;
  }
}
