package dev.batchserve.pipelines.monitoring;

import dev.batchserve.transforms.monitoring.RunQuality;
import org.apache.beam.sdk.transforms.DoFn;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * {@code <run>/_QUALITY.json}: the run's {@link RunQuality}, written by the pipeline before the
 * circuit breaker judges it, so the driver can report on a tripped run too.
 *
 * <pre>{@code
 * quality.apply("WriteQuality", ParDo.of(new QualityFile.WriteFn(runDir)));
 * RunQuality q = QualityFile.read(runDir); // null when the run never got that far
 * }</pre>
 */
public final class QualityFile {
  public static final String NAME = "_QUALITY.json";

  private QualityFile() {}

  public static @Nullable RunQuality read(String runDir) {
    String text = RunFiles.readIfExists(RunFiles.join(runDir, NAME));
    return text == null ? null : RunQuality.fromJson(text);
  }

  /** Writes the quality (idempotently: a retry rewrites the same bytes) and passes it on. */
  public static final class WriteFn extends DoFn<RunQuality, RunQuality> {
    private static final long serialVersionUID = 1L;
    private final String runDir;

    public WriteFn(String runDir) {
      this.runDir = runDir;
    }

    @ProcessElement
    public void process(@Element RunQuality q, OutputReceiver<RunQuality> out) {
      RunFiles.write(RunFiles.join(runDir, NAME), q.toJson());
      out.output(q);
    }
  }
}
