package dev.batchserve.transforms.values;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The output of a transform with several collections (predictions, dead letters, counts...): Beam's
 * {@link POutput} plumbing written once. A subclass registers each collection under a tag in its
 * constructor and keeps its own typed accessors; {@link #expand()} gives Beam the registered
 * collections in the order they were registered.
 *
 * <p>Why not Beam's {@code WithFailures.Result}: it holds exactly one output and one failure
 * collection, and its subclasses are generated (AutoValue); our results carry three or more
 * collections (counts, skipped records, feature profiles) and keep their own accessor names.
 *
 * <pre>{@code
 * public static final class Result extends TransformResult {
 *   private final PCollection<KV<String, Row>> rows;
 *   private final PCollection<DeadLetter> deadLetters;
 *
 *   Result(PCollection<KV<String, Row>> rows, PCollection<DeadLetter> deadLetters) {
 *     super(rows.getPipeline());
 *     this.rows = output("rows", rows);
 *     this.deadLetters = output("deadLetters", deadLetters);
 *   }
 *
 *   public PCollection<KV<String, Row>> rows() { return rows; }
 *   public PCollection<DeadLetter> deadLetters() { return deadLetters; }
 * }
 * }</pre>
 */
public abstract class TransformResult implements POutput {
  private final Pipeline pipeline;
  private final Map<TupleTag<?>, PValue> outputs = new LinkedHashMap<>();

  /** A result of {@code pipeline} with no collection registered yet. */
  protected TransformResult(Pipeline pipeline) {
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
  }

  /**
   * Registers {@code collection} under {@code tag} (e.g. the tag it had in the step's
   * {@code PCollectionTuple}) and returns it, for a field assignment.
   *
   * @throws IllegalArgumentException when {@code tag} is already registered
   */
  protected final <T> PCollection<T> output(TupleTag<T> tag, PCollection<T> collection) {
    Objects.requireNonNull(tag, "tag");
    Objects.requireNonNull(collection, "collection");
    if (outputs.putIfAbsent(tag, collection) != null) {
      throw new IllegalArgumentException("output tag " + tag + " is registered twice: give each output its own tag");
    }
    return collection;
  }

  /** Registers {@code collection} under a new tag with the id {@code name} and returns it. */
  protected final <T> PCollection<T> output(String name, PCollection<T> collection) {
    return output(new TupleTag<T>(name), collection);
  }

  @Override
  public final Pipeline getPipeline() {
    return pipeline;
  }

  /** The registered collections by tag, in the order they were registered. */
  @Override
  public final Map<TupleTag<?>, PValue> expand() {
    return Collections.unmodifiableMap(outputs);
  }

  /** Nothing to finish: every registered collection was finished by the step that produced it. */
  @Override
  public void finishSpecifyingOutput(String transformName, PInput input, PTransform<?, ?> transform) {}
}
