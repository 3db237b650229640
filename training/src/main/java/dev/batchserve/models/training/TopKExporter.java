package dev.batchserve.models.training;

import dev.batchserve.models.ModelFormat;
import dev.batchserve.models.ModelManifest;
import dev.batchserve.models.OutputKind;
import dev.batchserve.models.TopKModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Exports a top-k retrieval model as a TensorFlow SavedModel, from Java: the item catalog is a
 * variable {@code [N, d]}; the signature {@code serving_default} takes {@code user [b, d]} and
 * {@code exclude [b, N]} (1 for an item the user must not get, e.g. already purchased) and returns
 * {@code items [b, k]} (item indices, as float32) and {@code scores [b, k]}: {@code topK(matMul(user,
 * catalog^T) - 1e30 * exclude, k)}. Excluded items score about -1e30, so they rank last; a caller
 * drops them (they appear only when fewer than k items are allowed). The item ids, in index order,
 * are written to {@code item-ids.txt} beside the model and covered by the manifest. The names, the
 * penalty and the ids file are {@link TopKModelFiles}'s, which the model's readers use too.
 *
 * <pre>{@code
 * TopKExporter.export(catalog.embeddings, catalog.ids, 100, Path.of("/models/recs/1"), "recs-topk", "1");
 * }</pre>
 */
public final class TopKExporter {
  private static final String USER = TopKModelFiles.USER;
  private static final String EXCLUDE = TopKModelFiles.EXCLUDE;
  private static final String ITEMS = TopKModelFiles.ITEMS;
  private static final String SCORES = TopKModelFiles.SCORES;
  private static final String ITEM_IDS = TopKModelFiles.ITEM_IDS;
  private static final float EXCLUDED = TopKModelFiles.EXCLUDED;

  private TopKExporter() {}

  private static void checkArgument(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, format, args));
    }
  }

  /** Writes the SavedModel, the item ids file and the manifest into {@code dir} (empty or absent). */
  public static ModelManifest export(float[][] catalog, List<String> itemIds, int k, Path dir, String name, String version) {
    checkArgument(catalog.length > 0, "the catalog must have items");
    checkArgument(itemIds.size() == catalog.length,
        "itemIds and catalog must have the same length, but were %s and %s", itemIds.size(), catalog.length);
    checkArgument(k >= 1 && k <= catalog.length, "k must be in [1, %s] (the catalog size), but was %s", catalog.length, k);
    for (String id : itemIds) {
      checkArgument(id != null && !id.isEmpty() && !id.contains("\n"), "item ids must be non-empty single-line text, but one was '%s'", id);
    }
    try {
      if (Files.exists(dir)) {
        try (var entries = Files.list(dir)) {
          checkArgument(entries.findAny().isEmpty(), "export directory %s must be empty or absent", dir);
        }
      }
      int d = catalog[0].length;
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        Placeholder<TFloat32> user = tf.withName(USER).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, d)));
        Placeholder<TFloat32> exclude = tf.withName(EXCLUDE).placeholder(TFloat32.class,
            Placeholder.shape(Shape.of(-1, catalog.length)));
        Operand<TFloat32> items = tf.withName("catalog").variable(tf.constant(catalog));
        Operand<TFloat32> scores = tf.linalg.matMul(user, items, MatMul.transposeB(true));
        Operand<TFloat32> masked = tf.math.sub(scores, tf.math.mul(exclude, tf.constant(EXCLUDED)));
        TopK<TFloat32, TInt32> top = tf.nn.topK(masked, tf.constant(k), TInt32.class, TopK.sorted(true));
        Operand<TFloat32> indices = tf.withName(ITEMS).dtypes.cast(top.indices(), TFloat32.class);
        Operand<TFloat32> values = tf.withName(SCORES).identity(top.values());
        try (Session session = new Session(graph)) {
          session.initialize();
          Signature signature = Signature.builder().key(ModelManifest.DEFAULT_SIGNATURE)
              .input(USER, user).input(EXCLUDE, exclude).output(ITEMS, indices).output(SCORES, values).build();
          Files.createDirectories(dir);
          SavedModelBundle.exporter(dir.toString()).withTags("serve")
              .withFunction(SessionFunction.create(signature, session)).export();
        }
      }
      Files.writeString(dir.resolve(ITEM_IDS), String.join("\n", itemIds) + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export the top-k model to " + dir, e);
    }
    ModelManifest manifest = ModelManifest.builder()
        .name(name)
        .version(version)
        .format(ModelFormat.TF_SAVED_MODEL)
        .outputKind(OutputKind.SCORE)
        .createdAt(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
        .metadata(Map.of("k", Integer.toString(k), "items", Integer.toString(catalog.length),
            "dim", Integer.toString(catalog[0].length), "item_ids", ITEM_IDS))
        .files(ModelManifest.hashFiles(dir))
        .build();
    manifest.write(dir);
    return manifest;
  }

  /** The item ids of an exported model directory, in index order ({@link TopKModelFiles#readItemIds}). */
  public static List<String> readItemIds(Path dir) {
    return TopKModelFiles.readItemIds(dir);
  }
}
