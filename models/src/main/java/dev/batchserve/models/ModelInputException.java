package dev.batchserve.models;

/**
 * Thrown when a batch given to {@link Model#predict} does not fit the model: wrong feature count,
 * ragged or null rows, NaN or infinite values, or unknown input names. The message names the
 * offending row and feature so that the bad record can be found.
 *
 * <pre>{@code
 * try {
 *   model.predict(batch);
 * } catch (ModelInputException e) {
 *   deadLetters.add(e.getMessage()); // e.g. "row 2, feature 'amount' (index 1) is NaN"
 * }
 * }</pre>
 */
public class ModelInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the offending row and feature. */
  public ModelInputException(String message) {
    super(message);
  }
}
