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
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Command line for model directories (plain paths, {@code file:} URIs, or any URI a registered
 * {@link dev.batchserve.models.ModelLocation} handles), with two subcommands:
 *
 * <ul>
 *   <li>{@code inspect <dir>}: verifies and loads the model, prints {@code {"manifest": ...,
 *       "signature": ...}} as JSON; exit 0, or 1 with the reason on stderr.
 *   <li>{@code verify <dir>}: checks every file against the manifest; exit 0 and one line on
 *       stdout, or 1 naming the offending file on stderr.
 * </ul>
 *
 * Usage errors (no or an unknown subcommand, a missing directory argument, an unknown option) exit
 * with 2; {@code --help} prints the usage and exits 0 ({@link Tools}).
 *
 * <pre>{@code
 * java -cp batchserve-models.jar dev.batchserve.models.cli.ModelCli verify /models/churn/3
 * int code = ModelCli.run(new String[] {"inspect", dir}, System.out, System.err);
 * }</pre>
 */
@Command(name = "ModelCli", exitCodeOnInvalidInput = ModelCli.USAGE,
    synopsisHeading = "usage: ",
    customSynopsis = {"ModelCli inspect <model-dir-or-uri>", "       ModelCli verify <model-dir-or-uri>"},
    description = "Shows or checks a model directory (a path, file: URI or any registered model location).",
    subcommands = {ModelCli.Inspect.class, ModelCli.Verify.class})
public final class ModelCli implements Callable<Integer> {
  /** Success. */
  public static final int OK = 0;
  /** The model is invalid or cannot be loaded. */
  public static final int INVALID = 1;
  /** Wrong arguments. */
  public static final int USAGE = 2;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec private CommandSpec spec;

  private ModelCli() {}

  /** Runs the command and exits the JVM with its code. */
  public static void main(String[] args) {
    Tools.exit(ModelCli.class, args);
  }

  /** Runs the command, writing to {@code out}/{@code err}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(ModelCli.class, args, out, err);
  }

  /** No subcommand: the usage, as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return USAGE;
  }

  /** {@code inspect DIR}. */
  @Command(name = "inspect", exitCodeOnInvalidInput = USAGE,
      description = "Verifies and loads the model; prints its manifest and signature as JSON (exit 0, or 1).")
  static final class Inspect implements Callable<Integer> {
    @Parameters(paramLabel = "<model-dir-or-uri>", description = "The model directory or URI.")
    private String dir;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() {
      return guarded(spec, () -> inspect(dir, spec.commandLine().getOut()));
    }
  }

  /** {@code verify DIR}. */
  @Command(name = "verify", exitCodeOnInvalidInput = USAGE,
      description = "Checks every file of the model against its manifest (exit 0, or 1 naming the file).")
  static final class Verify implements Callable<Integer> {
    @Parameters(paramLabel = "<model-dir-or-uri>", description = "The model directory or URI.")
    private String dir;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() {
      return guarded(spec, () -> verify(dir, spec.commandLine().getOut()));
    }
  }

  /** Runs one subcommand; a model that cannot be read or loaded is {@link #INVALID}, with the reason. */
  private static int guarded(CommandSpec spec, java.util.function.IntSupplier command) {
    PrintWriter err = spec.commandLine().getErr();
    try {
      return command.getAsInt();
    } catch (ModelLoadException | ModelIntegrityException e) {
      err.println(spec.name() + " failed: " + e.getMessage());
      return INVALID;
    } catch (RuntimeException e) {
      // Unexpected, but a CLI should still say what went wrong rather than dump only a trace.
      err.println(spec.name() + " failed: " + e);
      return INVALID;
    }
  }

  private static int verify(String uri, PrintWriter out) {
    Path dir = ModelFetcher.localize(uri);
    ModelManifest manifest = ModelManifest.read(dir);
    manifest.verify(dir);
    out.println("OK " + dir + ": " + manifest.getName() + " version " + manifest.getVersion()
        + ", " + manifest.getFiles().size() + " files verified");
    return OK;
  }

  private static int inspect(String uri, PrintWriter out) {
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
