package dev.batchserve.transforms.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * The one function that builds an entity key from its key columns' values, for every source
 * ({@link ReadRecords}: CSV, JSON lines, Parquet, JDBC, BigQuery), and its inverse.
 *
 * <p>The parts are the key columns' text ({@link RecordKeys#keyText}: a timestamp as its canonical
 * instant text, {@code 2001-01-01T00:01:00Z}, whatever the source encoding). A single key column's
 * text is the key, byte for byte: never trimmed or otherwise rewritten. A
 * composite key joins its parts with {@code |} after escaping, in each part, {@code \} as
 * {@code \\} and {@code |} as {@code \|}, so that distinct tuples always give distinct keys:
 * {@code ("acct-p|US", "US")} is {@code acct-p\|US|US} and {@code ("acct-p", "US|US")} is
 * {@code acct-p|US\|US}. A key of plain parts (no {@code \} or {@code |}) reads as before:
 * {@code ("u1", "i9")} is {@code u1|i9}.
 *
 * <pre>{@code
 * String key = CompositeKey.of(List.of("acct-7", "US"));   // "acct-7|US"
 * List<String> parts = CompositeKey.parts(key, 2);          // ["acct-7", "US"]
 * }</pre>
 */
public final class CompositeKey {
  /** Joins the parts of a composite key. */
  public static final char SEPARATOR = '|';
  /** Escapes {@code \} and {@code |} inside a part. */
  public static final char ESCAPE = '\\';

  private CompositeKey() {}

  /** The key of {@code parts}: the part itself when there is one, else the escaped parts joined. */
  public static String of(List<String> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) {
        sb.append(SEPARATOR);
      }
      String part = parts.get(i);
      for (int j = 0; j < part.length(); j++) {
        char c = part.charAt(j);
        if (c == SEPARATOR || c == ESCAPE) {
          sb.append(ESCAPE);
        }
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * The parts of a key built by {@link #of} from {@code count} columns; fails, naming the key, when it
   * was not built that way.
   */
  public static List<String> parts(String key, int count) {
    if (count == 1) {
      return List.of(key);
    }
    List<String> parts = new ArrayList<>(count);
    StringBuilder part = new StringBuilder();
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c == ESCAPE) {
        if (i + 1 == key.length()) {
          throw new IllegalArgumentException("key '" + key + "' ends with an unpaired escape '\\'");
        }
        part.append(key.charAt(++i));
      } else if (c == SEPARATOR) {
        parts.add(part.toString());
        part.setLength(0);
      } else {
        part.append(c);
      }
    }
    parts.add(part.toString());
    if (parts.size() != count) {
      throw new IllegalArgumentException(
          "key '" + key + "' has " + parts.size() + " parts, but " + count + " key columns were named");
    }
    return parts;
  }
}
