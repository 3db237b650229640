package dev.batchserve.transforms.sink;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
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

  /**
   * The sub-directory of a run holding this format's shards; also the format's name in options and
   * job files, and its JSON form.
   */
  @JsonValue
  public String directory() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code parquet} or {@code jsonl}, any case (also how Jackson and pipeline options read one). */
  @JsonCreator
  public static FileFormat parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
      throw new IllegalArgumentException("file format must be parquet or jsonl, but was '" + s + "'");
    }
  }
}
