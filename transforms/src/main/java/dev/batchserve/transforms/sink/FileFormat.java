package dev.batchserve.transforms.sink;

import java.util.Locale;

/** File formats of {@link FileSink}. */
public enum FileFormat {
  PARQUET(".parquet"),
  JSONL(".jsonl");

  private final String suffix;

  FileFormat(String suffix) {
    this.suffix = suffix;
  }

  public String suffix() {
    return suffix;
  }

  /** The sub-directory of a run holding this format's shards. */
  public String directory() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code parquet} or {@code jsonl}, any case. */
  public static FileFormat parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("file format must be parquet or jsonl, but was '" + s + "'", e);
    }
  }
}
