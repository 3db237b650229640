package dev.batchserve.transforms.keys;

/**
 * What {@link KeyedPrediction} does when several input records carry the same entity key.
 *
 * <ul>
 *   <li>{@link #ERROR}: none of them is trusted: every record of the key goes to the dead letters
 *       ({@code duplicate_key}) and the key gets its fallback with that reason.
 *   <li>{@link #LAST_WINS}: the record with the latest event timestamp wins (ties broken by the
 *       prediction's encoded bytes, so the choice is deterministic); the others go to the dead letters
 *       as {@code duplicate_key_superseded}.
 * </ul>
 */
public enum DuplicateKeyPolicy {
  ERROR,
  LAST_WINS
}
