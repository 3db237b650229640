package dev.batchserve.transforms.keys;

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
 */
public enum DuplicateKeyPolicy {
  ERROR,
  LAST_WINS
}
