package dev.batchserve.models.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.batchserve.models.Model;
import dev.batchserve.models.ModelFetcher;
import dev.batchserve.models.ModelIntegrityException;
import dev.batchserve.models.ModelLoadException;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.ModelSignature;
import dev.batchserve.models.Models;
import dev.batchserve.models.TensorInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Command line for model directories (plain paths, {@code file:} URIs, or any URI a registered
 * {@link dev.batchserve.models.ModelLocation} handles):
 *
 * <ul>
 *   <li>{@code inspect <dir>}: verifies and loads the model, prints {@code {"manifest": ...,
 *       "signature": ...}} as JSON; exit 0, or 1 with the reason on stderr.
 *   <li>{@code verify <dir>}: checks every file against the manifest; exit 0 and one line on
 *       stdout, or 1 naming the offending file on stderr.
 * </ul>
 *
 * Usage errors exit with 2.
 *
 * <pre>{@code
 * java -cp batchserve-models.jar dev.batchserve.models.cli.ModelCli verify /models/churn/3
 * int code = ModelCli.run(new String[] {"inspect", dir}, System.out, System.err);
 * }</pre>
 */
public final class ModelCli {
  /** Success. */
  public static final int OK = 0;
  /** The model is invalid or cannot be loaded. */
  public static final int INVALID = 1;
  /** Wrong arguments. */
  public static final int USAGE = 2;

  private static final String USAGE_TEXT =
      "usage: ModelCli inspect <model-dir-or-uri>\n"
          + "       ModelCli verify <model-dir-or-uri>";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelCli() {}

  /** Runs the command and exits the JVM with its code. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command, writing to {@code out}/{@code err}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length != 2) {
      err.println(USAGE_TEXT);
      return USAGE;
    }
    try {
      switch (args[0]) {
        case "inspect":
          return inspect(args[1], out);
        case "verify":
          return verify(args[1], out);
        default:
          err.println("unknown command '" + args[0] + "'");
          err.println(USAGE_TEXT);
          return USAGE;
      }
    } catch (ModelLoadException | ModelIntegrityException e) {
      err.println(args[0] + " failed: " + e.getMessage());
      return INVALID;
    } catch (RuntimeException e) {
      // Unexpected, but a CLI should still say what went wrong rather than dump only a trace.
      err.println(args[0] + " failed: " + e);
      return INVALID;
    }
  }

  private static int verify(String uri, PrintStream out) {
    Path dir = ModelFetcher.localize(uri);
    ModelManifest manifest = ModelManifest.read(dir);
    manifest.verify(dir);
    out.println("OK " + dir + ": " + manifest.getName() + " version " + manifest.getVersion()
        + ", " + manifest.getFiles().size() + " files verified");
    return OK;
  }

  private static int inspect(String uri, PrintStream out) throws RuntimeException {
    Path dir = ModelFetcher.localize(uri);
    ModelManifest manifest = ModelManifest.read(dir);
    ModelSignature signature;
    try (Model model = Models.load(dir, manifest, dev.batchserve.models.ModelOptions.defaults())) {
      signature = model.signature();
    }
    ObjectNode root = MAPPER.createObjectNode();
    try {
      root.set("manifest", MAPPER.readTree(manifest.toJson()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ObjectNode sig = root.putObject("signature");
    sig.put("name", signature.getName());
    sig.set("inputs", tensors(signature.getInputs()));
    sig.set("outputs", tensors(signature.getOutputs()));
    try {
      out.println(MAPPER.writeValueAsString(root));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return OK;
  }

  private static ArrayNode tensors(List<TensorInfo> infos) {
    ArrayNode array = MAPPER.createArrayNode();
    for (TensorInfo info : infos) {
      ObjectNode node = array.addObject();
      node.put("name", info.getName());
      node.put("dtype", info.getDtype());
      long[] shape = info.getShape();
      if (shape == null) {
        node.putNull("shape");
      } else {
        ArrayNode dims = node.putArray("shape");
        for (long d : shape) {
          dims.add(d);
        }
      }
    }
    return array;
  }
}
