package dev.batchserve.models;

/**
 * Thrown when a model cannot be loaded: unreadable manifest, unknown or unavailable format, a
 * signature that is missing or does not match the manifest, or an engine failure while loading.
 *
 * <pre>{@code
 * try (Model model = Models.load(dir)) {
 *   ...
 * } catch (ModelLoadException e) {
 *   // e.g. "signature 'predict' not found in /models/churn/3; available signatures: [serving_default]"
 * }
 * }</pre>
 */
public class ModelLoadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message saying what is wrong with the model. */
  public ModelLoadException(String message) {
    super(message);
  }

  /** Creates the exception with the underlying failure. */
  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
