package dev.batchserve.models;

/**
 * Thrown when a model directory does not match its {@code model-manifest.json}: a listed file is
 * missing, its size or sha256 differs, or the directory holds a file the manifest does not list.
 * The message names the file.
 *
 * <pre>{@code
 * try {
 *   ModelManifest.read(dir).verify(dir);
 * } catch (ModelIntegrityException e) {
 *   // e.g. "model file variables/variables.index: size mismatch, expected 123, found 120"
 * }
 * }</pre>
 */
public class ModelIntegrityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message names the offending file. */
  public ModelIntegrityException(String message) {
    super(message);
  }

  /** Creates the exception with the I/O failure that prevented the check. */
  public ModelIntegrityException(String message, Throwable cause) {
    super(message, cause);
  }
}
