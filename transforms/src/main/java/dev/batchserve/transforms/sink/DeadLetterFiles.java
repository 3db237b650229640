package dev.batchserve.transforms.sink;

import dev.batchserve.transforms.values.DeadLetter;
import java.io.IOException;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes a run's dead letters as JSON lines into {@code <attempt>/_staging/dead_letters/} with one
 * grouping, and yields {@code (file, lines)} for each file written: the publish moves the files and
 * sums the lines, so the dead letters are written and counted by one shuffle (Beam's {@code FileIO}
 * write needed four, and a count one more).
 *
 * <p>One file, {@code part-00000-of-00001.jsonl}, as before; the lines are in no particular order. A
 * retried bundle rewrites the same file. With no dead letters nothing is grouped, so nothing is written
 * here: the publish then writes the empty file itself ({@link #writeEmpty}), so that every run lists one.
 */
final class DeadLetterFiles extends PTransform<PCollection<DeadLetter>, PCollection<KV<String, Long>>> {
  private static final long serialVersionUID = 1L;
  static final String FILE_NAME = "part-00000-of-00001.jsonl";

  private final String attemptDir;

  private DeadLetterFiles(String attemptDir) {
    this.attemptDir = attemptDir;
  }

  /** Writes into {@code <attemptDir>/_staging/dead_letters/}. */
  static DeadLetterFiles into(String attemptDir) {
    return new DeadLetterFiles(attemptDir);
  }

  @Override
  public PCollection<KV<String, Long>> expand(PCollection<DeadLetter> deadLetters) {
    return deadLetters
        .apply("AsJsonLines", MapElements
            .into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.strings()))
            .via(d -> KV.of(0, d.toJson())))
        .setCoder(KvCoder.of(VarIntCoder.of(), StringUtf8Coder.of()))
        .apply("GroupIntoFile", GroupByKey.create())
        .apply("WriteFile", ParDo.of(new WriteFn(attemptDir)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
  }

  static ResourceId file(String attemptDir) {
    return FileSystems.matchNewResource(attemptDir + "/_staging/dead_letters", true)
        .resolve(FILE_NAME, StandardResolveOptions.RESOLVE_FILE);
  }

  /** Writes the empty dead-letter file of a run without dead letters; returns its name. */
  static String writeEmpty(String attemptDir) throws IOException {
    ResourceId file = file(attemptDir);
    FileSystems.create(file, "application/octet-stream").close();
    return file.toString();
  }

  private static final class WriteFn extends DoFn<KV<Integer, Iterable<String>>, KV<String, Long>> {
    private final String attemptDir;

    WriteFn(String attemptDir) {
      this.attemptDir = attemptDir;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<String>> lines, OutputReceiver<KV<String, Long>> out)
        throws IOException {
      ResourceId file = file(attemptDir);
      FileIO.Sink<String> sink = TextIO.sink();
      long n = 0;
      try (FilesShardWriter.CloseOnce channel =
          new FilesShardWriter.CloseOnce(FileSystems.create(file, "application/octet-stream"))) {
        sink.open(channel);
        for (String line : lines.getValue()) {
          sink.write(line);
          n++;
        }
        sink.flush();
      }
      SinkFiles.removeIfAborted(attemptDir, List.of(file), "dead letters");
      out.output(KV.of(file.toString(), n));
    }
  }
}
