package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import dev.batchserve.transforms.values.Reasons;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.commons.csv.CSVRecord;
import org.joda.time.Instant;

/**
 * Parses whole CSV files ({@link CsvRecords}): each file's header maps its columns to the schema by
 * name; each record is output with its position (file index, line) as its timestamp.
 */
final class CsvFileFn extends KeyingFn<FileIO.ReadableFile> {
  private static final long serialVersionUID = 1L;
  /** File index and line share a millisecond timestamp: 21 and 32 bits, below Beam's maximum. */
  static final int MAX_FILES = 1 << 21;
  private static final long MAX_LINE = (1L << 32) - 1;

  private final Schema schema;
  private final char delimiter;
  private final List<String> files;
  private final String pattern;
  private transient CsvFile csv;

  CsvFileFn(Schema schema, RecordKeys keys, char delimiter, List<String> files, String pattern) {
    super(keys);
    this.pattern = pattern;
    this.schema = schema;
    this.delimiter = delimiter;
    this.files = files;
  }

  /** The timestamp of the record starting at {@code line} of the file at {@code fileIndex}. */
  static Instant position(int fileIndex, long line) {
    checkArgument(line <= MAX_LINE, "line %s is past the %s lines a CSV file may have", line, MAX_LINE);
    return new Instant(((long) fileIndex << 32) | line);
  }

  @Setup
  public void setup() {
    csv = new CsvFile(delimiter);
  }

  @ProcessElement
  public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) throws IOException {
    String path = file.getMetadata().resourceId().toString();
    int fileIndex = Collections.binarySearch(files, path);
    if (fileIndex < 0) {
      throw new IllegalStateException("CSV file " + path + " matches '" + pattern + "' now but did not when the"
          + " run was built, so its header was not checked: build the run again (files matched then: "
          + files.size() + ")");
    }
    CsvFile.Opener opener = () -> {
      try {
        return Channels.newInputStream(file.open());
      } catch (IOException e) {
        throw new IOException("cannot open CSV file " + path + ": " + e, e);
      }
    };
    csv.read(opener, new CsvFile.Visitor() {
      int[] columns; // schema field -> this file's column
      int[] keyIndexes; // key column -> this file's column
      int width;

      @Override
      public void record(long line, CSVRecord record) {
        if (columns == null) {
          mapHeader(record);
          return;
        }
        if (record.size() == 1 && record.get(0).isEmpty()) {
          return; // a blank line is not a record
        }
        read.inc();
        String at = path + ":" + line + ": ";
        // The key first: a record rejected for any reason keeps its key when the key can be read.
        String key = null;
        String keyProblem = null;
        String keyField = null;
        String keyMessage = null;
        List<String> parts = new ArrayList<>(keyIndexes.length);
        for (int i = 0; i < keyIndexes.length && keyProblem == null; i++) {
          keyField = keys.columns().get(i);
          String raw = keyIndexes[i] < record.size() ? record.get(keyIndexes[i]) : null;
          String part = raw == null ? null : csv.decode(raw);
          if (raw == null || raw.isBlank()) {
            keyProblem = Reasons.MISSING_KEY;
          } else if (part == null) {
            keyProblem = Reasons.INVALID_UTF8;
          } else {
            try {
              parts.add(keys.keyText(keyField, part));
            } catch (RecordKeys.UnreadableKey e) {
              keyProblem = Reasons.UNPARSABLE_KEY;
              keyMessage = e.getMessage();
            }
          }
        }
        if (keyProblem == null) {
          key = CompositeKey.of(parts);
        }
        if (record.size() != width) {
          reject(out, key, csv.render(record), null, Reasons.WRONG_COLUMN_COUNT,
              at + "the header has " + width + " columns, the record has " + record.size());
          return;
        }
        if (keyProblem != null) {
          reject(out, null, csv.render(record), keyField, keyProblem, at + (Reasons.MISSING_KEY.equals(keyProblem)
              ? "the key column '" + keyField + "' is empty"
              : keyMessage != null ? keyMessage
              : "the key column '" + keyField + "' has bytes that are not valid UTF-8"));
          return;
        }
        Object[] values = new Object[columns.length];
        for (int i = 0; i < columns.length; i++) {
          String raw = record.get(columns[i]);
          if (raw.isEmpty()) {
            continue;
          }
          String v = csv.decode(raw);
          if (v == null) {
            String field = schema.getField(i).getName();
            reject(out, key, csv.render(record), field, Reasons.INVALID_UTF8,
                at + "column '" + field + "' has bytes that are not valid UTF-8");
            return;
          }
          values[i] = v;
        }
        out.get(RECORDS).outputWithTimestamp(KV.of(key, Row.withSchema(schema).attachValues(Arrays.asList(values))),
            position(fileIndex, line));
      }

      @Override
      public void malformed(long line, String text, String message) {
        if (columns == null) {
          throw new IllegalArgumentException("CSV file " + path + " has a malformed header: " + message);
        }
        read.inc();
        reject(out, null, text, null, Reasons.MALFORMED_LINE, path + ":" + line + ": " + message);
      }

      private void mapHeader(CSVRecord header) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
          String raw = header.get(i);
          String name = csv.decode(i == 0 && raw.startsWith("\u00EF\u00BB\u00BF") ? raw.substring(3) : raw);
          names.add(name == null ? "" : name.trim());
        }
        width = names.size();
        columns = new int[schema.getFieldCount()];
        for (int i = 0; i < columns.length; i++) {
          columns[i] = indexOf(names, schema.getField(i).getName());
        }
        keyIndexes = new int[keys.columns().size()];
        for (int i = 0; i < keyIndexes.length; i++) {
          keyIndexes[i] = indexOf(names, keys.columns().get(i));
        }
      }

      private int indexOf(List<String> names, String column) {
        int i = names.indexOf(column);
        if (i < 0) {
          throw new IllegalStateException("CSV file " + path + " has no column '" + column + "' (its columns: "
              + names + "); it had when the run was built: was the file replaced during the run?");
        }
        return i;
      }
    });
  }
}
