package dev.batchserve.transforms.sink;

import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
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
public final class PublishedRun implements POutput {
  private final Pipeline pipeline;
  private final PCollection<String> published;
  private final TupleTag<String> tag = new TupleTag<>();

  PublishedRun(Pipeline pipeline, PCollection<String> published) {
    this.pipeline = pipeline;
    this.published = published;
  }

  /** One element once the run is published: the run id (stores) or the run directory (files). */
  public PCollection<String> published() {
    return published;
  }

  @Override
  public Pipeline getPipeline() {
    return pipeline;
  }

  @Override
  public Map<TupleTag<?>, PValue> expand() {
    return Map.of(tag, published);
  }

  @Override
  public void finishSpecifyingOutput(String transformName, PInput input, PTransform<?, ?> transform) {}
}
