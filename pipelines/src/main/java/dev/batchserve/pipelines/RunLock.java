package dev.batchserve.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.UUID;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job at a time per (output root, run id): {@code <root>/run_date=<date>/run_id=<id>/_LOCK}, created
 * atomically (create-if-absent) by the job driver before the run writes anything and removed when it
 * ends. A second run of the same run id fails at once with {@link Held}, naming the holder (host, pid,
 * since when) and the lock file. A lock left by a dead process on this host (same host name, that pid no
 * longer alive) is taken over with a warning. Only local roots can be locked this way; for other
 * file systems (gs://, s3://) the scheduler must not start one run id twice, and a warning says so.
 *
 * <pre>{@code
 * try (RunLock lock = RunLock.acquire("/data/predictions", run)) {
 *   ... run and publish ...
 * }
 * }</pre>
 */
public final class RunLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final String FILE = "_LOCK";

  /** Another live run of the same run id holds the lock. */
  public static final class Held extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Held(String message) {
      super(message);
    }
  }

  private final @Nullable Path file;
  private final String owner;
  /** The directories the lock created (deepest first), removed again if the run left them empty. */
  private final java.util.List<Path> created;

  private RunLock(@Nullable Path file, String owner, java.util.List<Path> created) {
    this.file = file;
    this.owner = owner;
    this.created = created;
  }

  /** The lock file of this run under this root. */
  public static String path(String root, RunInfo run) {
    return FileSink.runDirectory(root, run) + "/" + FILE;
  }

  /**
   * Takes the lock of {@code run} under {@code root}.
   *
   * @throws Held when a live run holds it
   */
  public static RunLock acquire(String root, RunInfo run) {
    String uri = path(root, run);
    Path file = localPath(uri);
    if (file == null) {
      LOG.warn("Run {}: {} is not on a local disk, so no lock is taken: make sure the scheduler never starts "
          + "run id {} twice at the same time (the last to publish would win)", run.runId(), uri, run.runId());
      return new RunLock(null, "", java.util.List.of());
    }
    String owner = owner(run);
    try {
      java.util.List<Path> created = new java.util.ArrayList<>();
      for (Path d = file.getParent(); d != null && !Files.exists(d); d = d.getParent()) {
        created.add(d);
      }
      Files.createDirectories(file.getParent());
      for (int tries = 0; ; tries++) {
        try {
          Files.write(file, owner.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE);
          return new RunLock(file, owner, created);
        } catch (FileAlreadyExistsException held) {
          String holder = readIfExists(file);
          if (holder == null) {
            continue; // released in between: try again
          }
          if (tries < 3 && isDeadOnThisHost(holder) && takeOver(file, holder)) {
            LOG.warn("Run {}: took over the lock {} left by a process that is no longer alive: {}",
                run.runId(), file, holder.trim());
            continue;
          }
          throw new Held(heldMessage(run, file, holder));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot take the lock " + file + " of run " + run.runId(), e);
    }
  }

  /** Removes the lock (if it is still this run's). */
  @Override
  public void close() {
    if (file == null) {
      return;
    }
    try {
      String now = readIfExists(file);
      if (owner.equals(now)) {
        Files.deleteIfExists(file);
        // A run refused before it wrote anything leaves no trace: the directories only the lock needed go.
        for (Path d : created) {
          try {
            Files.deleteIfExists(d);
          } catch (java.nio.file.DirectoryNotEmptyException e) {
            break;
          }
        }
      } else {
        LOG.warn("not removing {}: it is no longer this run's lock ({})", file, now);
      }
    } catch (IOException e) {
      LOG.warn("cannot remove the lock {}; delete it by hand before the next run of this run id", file, e);
    }
  }

  private static String heldMessage(RunInfo run, Path file, String holder) {
    String who = holder.trim();
    try {
      JsonNode h = JSON.readTree(holder);
      who = "pid " + h.path("pid").asText() + " on host " + h.path("host").asText() + " since "
          + h.path("since").asText();
    } catch (IOException e) {
      // not JSON: show it as it is
    }
    return "run " + run.runId() + " is already running (" + who + "): its lock " + file + " exists. Wait for "
        + "that run to finish; if it is dead (killed, its machine gone), delete " + file + " and run again.";
  }

  private static String owner(RunInfo run) {
    ObjectNode o = JSON.createObjectNode();
    o.put("run_id", run.runId());
    o.put("host", host());
    o.put("pid", ProcessHandle.current().pid());
    o.put("since", Instant.now().toString());
    o.put("token", UUID.randomUUID().toString());
    return o.toString() + "\n";
  }

  private static boolean isDeadOnThisHost(String holder) {
    try {
      JsonNode h = JSON.readTree(holder);
      if (!h.path("host").asText().equals(host()) || !h.path("pid").canConvertToLong()) {
        return false;
      }
      return ProcessHandle.of(h.path("pid").asLong()).map(ph -> !ph.isAlive()).orElse(true);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Moves the stale lock aside; if what was moved is not the stale lock read before (another run took
   * it over and locked in between), puts it back and reports failure.
   */
  private static boolean takeOver(Path file, String stale) throws IOException {
    Path aside = file.resolveSibling(FILE + ".stale-" + UUID.randomUUID());
    try {
      Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      return true; // gone already: try to create it
    }
    String moved = readIfExists(aside);
    if (stale.equals(moved)) {
      Files.deleteIfExists(aside);
      return true;
    }
    try {
      Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.warn("cannot put back the lock {} moved aside to {}", file, aside, e);
    }
    return false;
  }

  private static @Nullable String readIfExists(Path file) throws IOException {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      String env = System.getenv("HOSTNAME");
      return env == null ? "unknown-host" : env;
    }
  }

  /** The local path of a URI or plain path, or null when it is on another file system. */
  private static @Nullable Path localPath(String uri) {
    if (uri.startsWith("file:")) {
      return Path.of(URI.create(uri));
    }
    int colon = uri.indexOf("://");
    return colon > 0 ? null : Path.of(uri);
  }
}
