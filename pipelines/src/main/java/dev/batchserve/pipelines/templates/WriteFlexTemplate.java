package dev.batchserve.pipelines.templates;

import dev.batchserve.models.cli.Tools;
import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.pipelines.BatchScoringPipeline;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code make template}: writes the Flex Template build context of {@link BatchScoringPipeline} into
 * a folder: {@code metadata.json} (from {@link BatchScoringOptions}' annotations) and the
 * {@code Dockerfile} for Google's Java 17 launcher image ({@code docker/Dockerfile} is this file,
 * checked in; a test keeps the two equal). The bundled jar goes next to them.
 *
 * <pre>
 * WriteFlexTemplate --out=work/template
 * </pre>
 */
public final class WriteFlexTemplate {
  public static final String TEMPLATE_NAME = "batchserve batch scoring";
  public static final String TEMPLATE_DESCRIPTION = "Scores every key of a CSV or Parquet input with a saved model"
      + " (batched inference, one prediction or fallback per key) and publishes Parquet and JSON-lines files"
      + " with a manifest, all-or-nothing.";
  /** The shaded jar (`mvn -Pdataflow,bundle package`), copied next to the Dockerfile. */
  public static final String JAR = "batchserve-pipelines-bundled.jar";
  public static final String LAUNCHER_IMAGE = "gcr.io/dataflow-templates-base/java17-template-launcher-base";

  private WriteFlexTemplate() {}

  public static String metadataJson() {
    return FlexTemplateMetadata.of(BatchScoringOptions.class)
        .withName(TEMPLATE_NAME).withDescription(TEMPLATE_DESCRIPTION).toJson();
  }

  public static String dockerfile() {
    return "# Flex Template image of the batch-scoring job. Written by `make template`"
        + " (dev.batchserve.pipelines.templates.WriteFlexTemplate);\n"
        + "# build context: work/template/ (this file, metadata.json, " + JAR + ").\n"
        + "FROM " + LAUNCHER_IMAGE + "\n"
        + "ARG WORKDIR=/template\n"
        + "WORKDIR ${WORKDIR}\n"
        + "COPY " + JAR + " ${WORKDIR}/" + JAR + "\n"
        + "ENV FLEX_TEMPLATE_JAVA_MAIN_CLASS=\"" + BatchScoringPipeline.class.getName() + "\"\n"
        + "ENV FLEX_TEMPLATE_JAVA_CLASSPATH=\"${WORKDIR}/" + JAR + "\"\n"
        + "ENTRYPOINT [\"/opt/google/dataflow/java_template_launcher\"]\n";
  }

  public static void main(String[] args) {
    Tools.exitOnFailure(Cli.class, args);
  }

  /** The command on {@code args}, writing to {@code out}/{@code err}; returns the exit code ({@link Tools}). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Tools.execute(Cli.class, args, out, err);
  }

  /** The command line ({@link Tools}); {@code --help} lists the option. */
  @Command(name = "WriteFlexTemplate",
      description = "Writes the Flex Template build context (metadata.json, Dockerfile) of the batch-scoring job.")
  static final class Cli implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "work/template", paramLabel = "DIR",
        description = "The folder to write into (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Spec private CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      Files.createDirectories(out);
      Files.writeString(out.resolve("metadata.json"), metadataJson(), StandardCharsets.UTF_8);
      Files.writeString(out.resolve("Dockerfile"), dockerfile(), StandardCharsets.UTF_8);
      spec.commandLine().getOut().println("wrote " + out.resolve("metadata.json") + " and " + out.resolve("Dockerfile"));
      return 0;
    }
  }
}
