package dev.batchserve.transforms.sink;

import dev.batchserve.transforms.values.TransformResult;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The output of every sink: one element emitted once the run is published (the store's atomic
 * switch has happened; for files, {@code _SUCCESS} and {@code _LATEST} are written): the run id for
 * stores, the run directory for files. A signal for {@code Wait.on}, e.g. before the run report.
 *
 * <pre>{@code
 * PublishedRun done = predictions.apply(SinkWithMetadata.<String>files("/data/predictions").withRunInfo(run));
 * report.apply(Wait.on(done.published()));
 * }</pre>
 */
public final class PublishedRun extends TransformResult {
  private final PCollection<String> published;

  PublishedRun(Pipeline pipeline, PCollection<String> published) {
    super(pipeline);
    this.published = output(new TupleTag<>(), published);
  }

  /** One element once the run is published: the run id (stores) or the run directory (files). */
  public PCollection<String> published() {
    return published;
  }
}
