package dev.batchserve.transforms.keys;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What {@link KeyedPrediction} does when several input records carry the same entity key. Duplicates
 * are settled on the input records, before features and inference, so their dead letters carry the
 * input record itself.
 *
 * <ul>
 *   <li>{@link #ERROR}: none of them is trusted: every record of the key goes to the dead letters
 *       ({@code duplicate_key}) and the key gets its fallback with that reason.
 *   <li>{@link #LAST_WINS}: the record with the latest element timestamp wins; the others go to the
 *       dead letters as {@code duplicate_key_superseded}. {@code ReadRecords} stamps each CSV record
 *       with its position, so for CSV input "last" means the greatest position: the later file in
 *       sorted path order, and within a file the later line. Records with equal timestamps (sources
 *       without positions: Parquet, JSON lines, JDBC, BigQuery) are ordered by their encoded bytes, so
 *       the choice is deterministic but not an order of the source.
 * </ul>
 *
 * <pre>{@code
 * rows.apply(KeyedPrediction.<String>of(spec, model).withRunInfo(run)
 *     .withDuplicateKeyPolicy(DuplicateKeyPolicy.LAST_WINS));
 * }</pre>
 *
 * <p>Options and job files name a policy {@code error} or {@code last_wins} ({@link #parse}, any case).
 */
public enum DuplicateKeyPolicy {
  ERROR,
  LAST_WINS;

  /** {@code error} or {@code last_wins}: the policy's name in options and job files, and its JSON form. */
  @JsonValue
  public String optionName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The policy {@code s} names, any case: {@code error} or {@code last_wins}; also how Jackson and
   * pipeline options read one.
   *
   * @throws IllegalArgumentException naming the accepted values, for any other text
   */
  @JsonCreator
  public static DuplicateKeyPolicy parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      // No cause: Jackson (pipeline options) reports the root cause's message, which is this one.
      throw new IllegalArgumentException("duplicateKeys must be one of error, last_wins, but was '" + s + "'");
    }
  }
}
