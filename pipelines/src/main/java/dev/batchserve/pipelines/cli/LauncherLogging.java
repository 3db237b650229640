package dev.batchserve.pipelines.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * The launcher's logging (the pipelines log through SLF4J's {@code java.util.logging} binding):
 * everything at INFO and above, stack traces included, goes to one log file per command; the
 * terminal gets only the job's own INFO lines ({@code dev.batchserve.pipelines}) and batchserve's warnings (one line each, no stack trace) unless
 * {@code verbose}, when every logger's INFO reaches the terminal too. Flink, Beam, Hadoop and
 * TensorFlow's Java logging stay in the file.
 *
 * <pre>{@code
 * Path log = LauncherLogging.configure(Path.of("work/logs"), false);
 * }</pre>
 */
public final class LauncherLogging {
  /** The logger of the launcher's own failure records: file only. */
  static final Logger FAILURES = Logger.getLogger("batchserve.launcher");
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private LauncherLogging() {}

  /**
   * Routes java.util.logging as described above; returns the log file, {@code
   * <logDir>/batchserve-<UTC time>-<pid>.log}.
   */
  public static Path configure(Path logDir, boolean verbose) {
    Path file = logDir.resolve("batchserve-" + STAMP.format(Instant.now()) + "-" + ProcessHandle.current().pid() + ".log");
    try {
      Files.createDirectories(logDir);
      LogManager.getLogManager().reset();
      Logger root = Logger.getLogger("");
      root.setLevel(Level.INFO);
      FileHandler fileHandler = new FileHandler(file.toString(), false);
      fileHandler.setFormatter(new FileFormat());
      fileHandler.setLevel(Level.ALL);
      fileHandler.setEncoding("UTF-8");
      root.addHandler(fileHandler);
      Handler terminal = new TerminalHandler();
      if (verbose) {
        root.addHandler(terminal);
      } else {
        Logger own = Logger.getLogger("dev.batchserve");
        own.setLevel(Level.INFO);
        // The job's own progress (pipelines) and every warning reach the terminal; the library's
        // INFO lines (model loaded, closed, ...) only the log file.
        terminal.setFilter(r -> r.getLevel().intValue() >= Level.WARNING.intValue()
            || (r.getLoggerName() != null && r.getLoggerName().startsWith("dev.batchserve.pipelines")));
        own.addHandler(terminal);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(fileHandler::close, "close-log"));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the log file " + file + "; set BATCHSERVE_LOG_DIR to a writable directory", e);
    }
  }

  /** The terminal: one line per record, stderr, no stack trace (the file has it). */
  private static final class TerminalHandler extends StreamHandler {
    TerminalHandler() {
      super(System.err, new Formatter() {
        @Override
        public String format(LogRecord r) {
          String m = formatMessage(r);
          if (r.getThrown() != null) {
            m = m + ": " + r.getThrown();
          }
          String level = r.getLevel().intValue() >= Level.WARNING.intValue() ? r.getLevel().getName() + " " : "";
          return level + m + System.lineSeparator();
        }
      });
      setLevel(Level.INFO);
    }

    @Override
    public synchronized void publish(LogRecord record) {
      super.publish(record);
      flush();
    }

    @Override
    public synchronized void close() {
      flush(); // never closes System.err
    }
  }

  /** The file: time, level, logger, message, then the stack trace. */
  private static final class FileFormat extends Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_INSTANT;

    @Override
    public String format(LogRecord r) {
      StringBuilder b = new StringBuilder()
          .append(TIME.format(r.getInstant())).append(' ')
          .append(r.getLevel().getName()).append(' ')
          .append(r.getLoggerName()).append(" [").append(Thread.currentThread().getName()).append("] ")
          .append(formatMessage(r)).append(System.lineSeparator());
      if (r.getThrown() != null) {
        StringWriter w = new StringWriter();
        r.getThrown().printStackTrace(new PrintWriter(w));
        b.append(w);
      }
      return b.toString();
    }
  }
}
