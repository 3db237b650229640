package dev.batchserve.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a top-k retrieval model directory holds, shared by whoever writes one (the exporter of
 * batchserve-training, {@code dev.batchserve.models.training.TopKExporter}) and whoever runs one (the
 * recommendations transform's adapter in batchserve-pipelines): the signature's tensor names
 * ({@value #USER}, {@value #EXCLUDE} in; {@value #ITEMS}, {@value #SCORES} out), the score penalty of an
 * excluded item, and the item ids file {@value #ITEM_IDS} (one id per catalog item, in index order).
 *
 * <pre>{@code
 * Map<String, float[][]> out = model.predictNamed(Map.of(TopKModelFiles.USER, user, TopKModelFiles.EXCLUDE, exclude));
 * List<String> ids = TopKModelFiles.readItemIds(modelDir);
 * String best = ids.get((int) out.get(TopKModelFiles.ITEMS)[0][0]);
 * }</pre>
 */
public final class TopKModelFiles {
  /** Input {@code [b, d]}: one user embedding per row. */
  public static final String USER = "user";
  /** Input {@code [b, N]}: 1 for an item the user must not get (e.g. already purchased), else 0. */
  public static final String EXCLUDE = "exclude";
  /** Output {@code [b, k]}: the item indices, best first, as float32. */
  public static final String ITEMS = "items";
  /** Output {@code [b, k]}: the items' scores. */
  public static final String SCORES = "scores";
  /** The item ids file beside the model, covered by the manifest. */
  public static final String ITEM_IDS = "item-ids.txt";
  /** An excluded item's score is lowered by this much; anything below -EXCLUDED/2 was excluded. */
  public static final float EXCLUDED = 1e30f;

  private TopKModelFiles() {}

  /** The item ids of a top-k model directory, in index order. */
  public static List<String> readItemIds(Path dir) {
    try {
      return Files.readAllLines(dir.resolve(ITEM_IDS), StandardCharsets.UTF_8).stream()
          .filter(s -> !s.isEmpty()).collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve(ITEM_IDS), e);
    }
  }
}
