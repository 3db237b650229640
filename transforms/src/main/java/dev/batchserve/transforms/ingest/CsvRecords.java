package dev.batchserve.transforms.ingest;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.List;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.PBegin;

/**
 * CSV files with a header line ({@link ReadRecords#csv}), as rows of nullable strings, typed later by
 * the feature spec.
 *
 * <p>CSV is read per file with an RFC 4180 parser over the whole file (so quoted fields may hold
 * delimiters, quotes and newlines), streamed, decompressed by the file's extension ({@code .gz},
 * {@code .bz2}, {@code .zst}, {@code .zip}, {@code .deflate}) and decoded strictly as UTF-8. Each file's
 * own header maps its columns to the schema by name (the first file's header, in sorted path order),
 * so files may order their columns differently or have extra ones. Each record is stamped with its
 * position as its element timestamp, ordered by file (sorted path order) and then line, which is what
 * {@code DuplicateKeyPolicy.LAST_WINS} compares. A file is read by one worker from start to end: a
 * file with quoted newlines cannot be split, so split very large inputs into several files. A record
 * with the wrong number of columns, a malformed record or bytes that are not UTF-8 is a dead letter
 * with {@code file:line} at the start of its detail, and its key when the key columns can be read.
 *
 * <pre>{@code
 * ReadRecords.Result in = p.apply(ReadRecords.csv("/data/accounts-*.csv").withDelimiter(';')
 *     .withKeyColumns("account_id"));
 * }</pre>
 */
public final class CsvRecords extends RecordSource<CsvRecords> {
  private static final long serialVersionUID = 1L;
  private final String pattern;
  private char delimiter = ',';

  CsvRecords(String pattern) {
    this.pattern = pattern;
  }

  private CsvRecords(CsvRecords from) {
    super(from);
    this.pattern = from.pattern;
    this.delimiter = from.delimiter;
  }

  @Override
  protected CsvRecords copy() {
    return new CsvRecords(this);
  }

  /** CSV delimiter (default {@code ,}): an ASCII character other than a quote, CR or LF. */
  public CsvRecords withDelimiter(char d) {
    checkArgument(d > 0 && d < 0x80 && d != '"' && d != '\r' && d != '\n',
        "the CSV delimiter must be an ASCII character other than a quote, CR or LF, but was '%s'", d);
    CsvRecords c = copy();
    c.delimiter = d;
    return c;
  }

  @Override
  protected ReadRecords.Result read(PBegin begin, RecordKeys keys) {
    List<String> files = InputFiles.matched(pattern);
    String first = files.get(0);
    checkArgument(files.size() <= CsvFileFn.MAX_FILES,
        "'%s' matches %s files; at most %s can be read in one run", pattern, files.size(), CsvFileFn.MAX_FILES);
    CsvFile csv = new CsvFile(delimiter);
    Schema schema = TextSchema.of(csv.header(first, () -> InputFiles.openDecompressed(first)), first);
    keys.checkIn(schema, first);
    // Every file's own header is checked now, so that a file lacking a column is refused before
    // the run starts rather than read with another file's column order.
    for (String file : files.subList(1, files.size())) {
      List<String> header = csv.header(file, () -> InputFiles.openDecompressed(file));
      for (String column : schema.getFieldNames()) {
        checkArgument(header.contains(column),
            "CSV file %s has no column '%s', which %s has (its columns: %s): every file of '%s' needs the"
                + " columns of the first file (in any order)", file, column, first, header, pattern);
      }
    }
    return ReadRecords.Result.of(begin
        // Matched again at run time: a file that was not checked at construction (a template run
        // later) fails the run in ParseCsv rather than being read unchecked or left out silently.
        .apply("MatchCsv", FileIO.match().filepattern(pattern).withEmptyMatchTreatment(EmptyMatchTreatment.DISALLOW))
        .apply("OpenCsv", FileIO.readMatches().withCompression(Compression.AUTO))
        .apply("ParseCsv", new CsvFileFn(schema, keys, delimiter, files, pattern).parDo()), schema);
  }
}
