package dev.batchserve.pipelines.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.batchserve.transforms.monitoring.PredictionDistribution;
import dev.batchserve.transforms.monitoring.RunQuality;
import dev.batchserve.transforms.sink.FileSink;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The latest published run under an output root (the one {@code _LATEST} points at, with its
 * {@code _SUCCESS}): its id, the prediction distribution from its {@code _REPORT.json}, and its
 * JSON-lines predictions for the key-level comparison.
 *
 * <pre>{@code
 * PreviousRun prev = PreviousRun.latest("/data/predictions/fraud", run); // null on the first run
 * PCollection<KV<String, Double>> scores = prev.readScores(p);
 * }</pre>
 */
public final class PreviousRun {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String runId;
  private final String directory;
  private final @Nullable PredictionDistribution distribution;
  private final boolean hasJsonl;
  private final @Nullable Long records;
  // The one read of the previous run's files per pipeline, and the scores derived from it.
  private @Nullable Pipeline readIn;
  private @Nullable PCollection<KV<String, Prediction>> read;
  private @Nullable Pipeline scoresIn;
  private @Nullable PCollection<KV<String, Double>> scores;

  private PreviousRun(String runId, String directory, @Nullable PredictionDistribution distribution,
      boolean hasJsonl, @Nullable Long records) {
    this.records = records;
    this.runId = runId;
    this.directory = directory;
    this.distribution = distribution;
    this.hasJsonl = hasJsonl;
  }

  /**
   * The run {@code <root>/_LATEST} names, or null when there is none, it is incomplete (no
   * {@code _SUCCESS}), or it is {@code current} itself (a re-run is not compared with itself).
   */
  public static @Nullable PreviousRun latest(String root, RunInfo current) {
    String dir = FileSink.latestDirectory(root);
    if (dir == null) {
      return null;
    }
    String runId = FileSink.runIdOf(dir);
    if (runId.equals(current.runId())) {
      return null;
    }
    if (!RunFiles.exists(RunFiles.join(dir, FileSink.SUCCESS))) {
      return null;
    }
    PredictionDistribution distribution = null;
    String report = RunFiles.readIfExists(RunFiles.join(dir, RunReport.JSON_FILE));
    if (report != null) {
      try {
        JsonNode predictions = JSON.readTree(report).path("quality").path("predictions");
        if (predictions.isObject()) {
          distribution = RunQuality.distributionFromJson(predictions.toString());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot parse the previous run's report in " + dir, e);
      }
    }
    boolean jsonl = RunFiles.exists(RunFiles.join(dir, "jsonl/part-*.jsonl"));
    Long records = null;
    String manifest = RunFiles.readIfExists(RunFiles.join(dir, FileSink.MANIFEST));
    if (manifest != null) {
      try {
        JsonNode n = JSON.readTree(manifest).path("records");
        records = n.isIntegralNumber() ? n.asLong() : null;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot parse the previous run's manifest in " + dir, e);
      }
    }
    return new PreviousRun(runId, dir, distribution, jsonl, records);
  }

  public String runId() {
    return runId;
  }

  public String directory() {
    return directory;
  }

  /** The previous run's prediction distribution, or null when it wrote no report. */
  public @Nullable PredictionDistribution distribution() {
    return distribution;
  }

  /** Its record count ({@code records} of its {@code _MANIFEST.json}), or null when it has none. */
  public @Nullable Long records() {
    return records;
  }

  /** Whether its JSON-lines predictions exist (needed for the key-level change rate). */
  public boolean hasScores() {
    return hasJsonl;
  }

  /** Its model scores (fallbacks left out) by key, read from its JSON-lines files. */
  /** The previous run's predictions by key, as published (for {@code Fallback.previousRun}). */
  /**
   * The previous run's predictions, read from its JSON lines once per pipeline: a second call with
   * the same pipeline (and {@link #readScores}) reuses the same read, so a job that uses the previous
   * run for fallbacks and for the change rate reads its files once.
   */
  public PCollection<KV<String, Prediction>> readPredictions(Pipeline p) {
    if (readIn != p) {
      read = p.apply("ReadPreviousPredictions", TextIO.read().from(RunFiles.join(directory, "jsonl/part-*.jsonl")))
          .apply("ParsePreviousPredictions", ParDo.of(new ParseFn()))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), Prediction.PredictionCoder.of()));
      readIn = p;
    }
    return read;
  }

  /** The previous run's model scores by key (fallbacks left out), from {@link #readPredictions}. */
  public PCollection<KV<String, Double>> readScores(Pipeline p) {
    if (scoresIn != p) {
      scores = readPredictions(p)
          .apply("PreviousScores", ParDo.of(new ScoreFn()))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of()));
      scoresIn = p;
    }
    return scores;
  }

  private static final class ParseFn extends DoFn<String, KV<String, Prediction>> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element String line, OutputReceiver<KV<String, Prediction>> out) {
      if (!line.isBlank()) {
        out.output(Prediction.fromJson(line));
      }
    }
  }

  private static final class ScoreFn extends DoFn<KV<String, Prediction>, KV<String, Double>> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element KV<String, Prediction> kv, OutputReceiver<KV<String, Double>> out) {
      Prediction p = kv.getValue();
      Double score = p.getScore();
      if (!p.isFallback() && score != null) {
        out.output(KV.of(kv.getKey(), score));
      }
    }
  }

}
