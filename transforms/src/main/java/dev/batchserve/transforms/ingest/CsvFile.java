package dev.batchserve.transforms.ingest;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads one CSV file as RFC 4180 records, streamed (never the whole file in memory), each with the
 * line it starts on.
 *
 * <p>The bytes are parsed as ISO-8859-1, one char per byte: the CSV structure ({@code ,} {@code "}
 * CR LF) is ASCII and no byte of a multi-byte UTF-8 sequence is ASCII, so records split exactly as
 * over the UTF-8 text, and each field is then decoded strictly as UTF-8 by {@link #decode}, which
 * reports invalid bytes instead of turning them into U+FFFD. A record the parser cannot read (a
 * character after a closing quote, a quote never closed) is reported with the line it starts on, and
 * reading goes on at the next line, from a fresh parser.
 */
final class CsvFile {
  /** Opens the file's (decompressed) bytes from the start. */
  interface Opener {
    InputStream open() throws IOException;
  }

  /** What reading a file reports, in file order. */
  interface Visitor {
    void record(long line, CSVRecord record) throws IOException;

    void malformed(long line, String text, String message) throws IOException;
  }

  private static final int MAX_MALFORMED_TEXT = 64 * 1024;

  private final CSVFormat format;
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);

  CsvFile(char delimiter) {
    this.format = format(delimiter);
  }

  static CSVFormat format(char delimiter) {
    return CSVFormat.RFC4180.builder().setDelimiter(delimiter).build();
  }

  /** The header of a file: its first record, decoded strictly, a UTF-8 byte-order mark removed. */
  List<String> header(String file, Opener opener) {
    List<String> names = new ArrayList<>();
    try {
      read(opener, new Visitor() {
        @Override
        public void record(long line, CSVRecord record) {
          throw new HeaderRead(record);
        }

        @Override
        public void malformed(long line, String text, String message) {
          throw new IllegalArgumentException(
              "CSV file " + file + " has a malformed header line: " + message + " (" + text + ")");
        }
      });
    } catch (HeaderRead h) {
      for (int i = 0; i < h.record.size(); i++) {
        String raw = h.record.get(i);
        if (i == 0 && raw.startsWith("\u00EF\u00BB\u00BF")) {
          raw = raw.substring(3);
        }
        String name = decode(raw);
        if (name == null) {
          throw new IllegalArgumentException("CSV file " + file + " has a header column " + (i + 1)
              + " that is not valid UTF-8: read CSV files as UTF-8 (re-encode the file)");
        }
        names.add(name);
      }
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the header of " + file + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("CSV file " + file + " is empty: a header line is required");
  }

  /** Thrown to stop reading after the header. */
  private static final class HeaderRead extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient CSVRecord record;

    HeaderRead(CSVRecord record) {
      super(null, null, false, false);
      this.record = record;
    }
  }

  /** Reads every record of the file, in order; a malformed one is reported and skipped. */
  void read(Opener opener, Visitor visitor) throws IOException {
    long skipped = 0;
    while (true) {
      try (InputStream in = new BufferedInputStream(opener.open(), 1 << 16)) {
        if (!skipLines(in, skipped)) {
          return;
        }
        CSVParser parser = new CSVParser(new InputStreamReader(in, StandardCharsets.ISO_8859_1), format);
        Iterator<CSVRecord> records = parser.iterator();
        while (true) {
          long line = skipped + parser.getCurrentLineNumber() + 1;
          CSVRecord record;
          try {
            // next() without hasNext() parses exactly one record, so the line count above is exact.
            record = records.next();
          } catch (NoSuchElementException e) {
            return;
          } catch (UncheckedIOException | IllegalStateException e) {
            // Only the line the record starts on is given up: a quote left open would otherwise take
            // every line up to the next quote (or the end of the file) with it.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            visitor.malformed(line, lines(opener, line, line),
                String.valueOf(cause.getMessage()) + "; reading goes on at line " + (line + 1));
            skipped = line;
            break;
          }
          visitor.record(line, record);
        }
      }
    }
  }

  /** Skips {@code n} lines (CR, LF or CRLF each end one); false when the stream ends first. */
  private static boolean skipLines(InputStream in, long n) throws IOException {
    long left = n;
    while (left > 0) {
      int b = in.read();
      if (b < 0) {
        return false;
      }
      if (b == '\n') {
        left--;
      } else if (b == '\r') {
        left--;
        in.mark(1);
        if (in.read() != '\n') {
          in.reset();
        }
      }
    }
    return true;
  }

  /** Lines {@code from..to} of the file, for a dead letter (invalid UTF-8 shown as U+FFFD). */
  private static String lines(Opener opener, long from, long to) throws IOException {
    try (InputStream in = new BufferedInputStream(opener.open(), 1 << 16)) {
      if (!skipLines(in, from - 1)) {
        return "";
      }
      java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
      long line = from;
      int b;
      while ((b = in.read()) >= 0 && text.size() < MAX_MALFORMED_TEXT) {
        if (b == '\r' || b == '\n') {
          if (b == '\r') {
            in.mark(1);
            if (in.read() != '\n') {
              in.reset();
            }
          }
          if (line++ == to) {
            break;
          }
          text.write('\n');
        } else {
          text.write(b);
        }
      }
      return text.toString(StandardCharsets.UTF_8);
    }
  }

  /** A field read as ISO-8859-1 decoded as UTF-8, or null when its bytes are not valid UTF-8. */
  @Nullable String decode(String latin1) {
    int n = latin1.length();
    int i = 0;
    while (i < n && latin1.charAt(i) < 0x80) {
      i++;
    }
    if (i == n) {
      return latin1; // ASCII: the same text in both
    }
    try {
      CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1)));
      return chars.toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** A field for display: invalid UTF-8 shown as U+FFFD. */
  static String lenient(String latin1) {
    for (int i = 0; i < latin1.length(); i++) {
      if (latin1.charAt(i) >= 0x80) {
        return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
      }
    }
    return latin1;
  }

  /** The record as CSV text, for a dead letter: fields quoted only where RFC 4180 needs it. */
  String render(CSVRecord record) {
    char delimiter = format.getDelimiterString().charAt(0);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < record.size(); i++) {
      if (i > 0) {
        sb.append(delimiter);
      }
      String v = lenient(record.get(i));
      if (v.indexOf(delimiter) >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0) {
        sb.append('"').append(v.replace("\"", "\"\"")).append('"');
      } else {
        sb.append(v);
      }
    }
    return sb.toString();
  }
}
