package dev.batchserve.tools.samples;

import static org.apache.beam.vendor.guava.v32_1_2_jre.com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Deterministic data for the recommendations example: an item catalog ({@code items x 64}
 * embeddings with a popularity), and users with an embedding and past purchases; about 5% of users
 * are new (no embedding: cold start) and get the popularity list. The recommendations demo job
 * (batchserve-examples), the tests of the recommendations transform and its benchmark use it.
 *
 * <p>Embedding components are multiples of 1/8 in [-1, 1], so every dot product is a multiple of
 * 1/64 below 64 and exact in float32: TensorFlow's matMul and a plain-Java loop give bit-identical
 * scores whatever their summation order, and rankings (ties broken by the lower item index, as
 * {@code topK} does) can be checked exactly. Users and items depend only on {@code (seed, index)}.
 *
 * <pre>{@code
 * RecommendSample.Catalog catalog = RecommendSample.catalog(10_000, 7);
 * List<Row> users = RecommendSample.users(1_000, 10_000, 7);  // rows of USER_SCHEMA
 * }</pre>
 */
public final class RecommendSample {
  public static final int DIM = 64;
  public static final int MAX_PURCHASES = 20;
  /**
   * A user: id, embedding (null for a new user) and purchased item ids; the recommendations
   * transform's user schema ({@code dev.batchserve.pipelines.recommend.Recommend.USER_SCHEMA}, in
   * batchserve-pipelines, above this module), which a test there holds this one to.
   */
  public static final Schema USER_SCHEMA = Schema.builder()
      .addStringField("user_id")
      .addNullableField("embedding", FieldType.array(FieldType.FLOAT))
      .addArrayField("purchased", FieldType.STRING)
      .build();

  private RecommendSample() {}

  public static String itemId(int i) {
    return String.format(Locale.ROOT, "item-%06d", i);
  }

  public static String userId(int i) {
    return String.format(Locale.ROOT, "user-%07d", i);
  }

  /** The item catalog: ids, embeddings and popularity (purchase share, descending with the index on average). */
  public static final class Catalog {
    public final List<String> ids;
    public final float[][] embeddings;
    public final float[] popularity;

    Catalog(List<String> ids, float[][] embeddings, float[] popularity) {
      this.ids = ids;
      this.embeddings = embeddings;
      this.popularity = popularity;
    }

    /** The {@code k} most popular item ids (ties: lower index first). */
    public List<String> mostPopular(int k) {
      Integer[] order = order();
      List<String> out = new ArrayList<>();
      for (int i = 0; i < Math.min(k, order.length); i++) {
        out.add(ids.get(order[i]));
      }
      return out;
    }

    /** Popularity scores of {@link #mostPopular}. */
    public float[] mostPopularScores(int k) {
      Integer[] order = order();
      float[] out = new float[Math.min(k, order.length)];
      for (int i = 0; i < out.length; i++) {
        out[i] = popularity[order[i]];
      }
      return out;
    }

    private Integer[] order() {
      Integer[] order = new Integer[ids.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> popularity[a] != popularity[b] ? Float.compare(popularity[b], popularity[a]) : Integer.compare(a, b));
      return order;
    }
  }

  private static float[] embedding(SplittableRandom r, int dim) {
    float[] e = new float[dim];
    for (int d = 0; d < dim; d++) {
      e[d] = (r.nextInt(17) - 8) / 8f;
    }
    return e;
  }

  /** {@code items} items of {@link #DIM} dimensions; item {@code i} depends on {@code (seed, i)} only. */
  public static Catalog catalog(int items, long seed) {
    return catalog(items, DIM, seed);
  }

  /**
   * {@code items} items of {@code dim} dimensions (benchmarks vary it); with {@code dim = DIM} the
   * same catalog as {@link #catalog(int, long)}.
   */
  public static Catalog catalog(int items, int dim, long seed) {
    checkArgument(items > 0, "items must be > 0, but was %s", items);
    checkArgument(dim > 0, "dim must be > 0, but was %s", dim);
    List<String> ids = new ArrayList<>(items);
    float[][] emb = new float[items][];
    float[] pop = new float[items];
    double total = 0;
    for (int i = 0; i < items; i++) {
      SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ (i + 1L) * 0xBF58476D1CE4E5B9L);
      ids.add(itemId(i));
      emb[i] = embedding(r, dim);
      // Zipf-like: a long tail, with noise so the order is not just the index.
      pop[i] = (float) (1.0 / Math.pow(i + 1, 0.8) * (0.5 + r.nextDouble()));
      total += pop[i];
    }
    for (int i = 0; i < items; i++) {
      pop[i] = (float) (pop[i] / total);
    }
    return new Catalog(ids, emb, pop);
  }

  /** User {@code i} for a catalog of {@code items} items of {@link #DIM} dimensions. */
  public static Row user(int i, int items, long seed) {
    return user(i, items, DIM, seed);
  }

  /** User {@code i} for a catalog of {@code items} items of {@code dim} dimensions. */
  public static Row user(int i, int items, int dim, long seed) {
    SplittableRandom r = new SplittableRandom(seed * 0xD6E8FEB86659FD93L ^ (i + 1L) * 0x94D049BB133111EBL);
    boolean cold = r.nextDouble() < 0.05;
    @Nullable List<Float> embedding = null;
    Set<String> purchased = new LinkedHashSet<>();
    if (!cold) {
      float[] e = embedding(r, dim);
      embedding = new ArrayList<>(dim);
      for (float v : e) {
        embedding.add(v);
      }
      int n = r.nextInt(Math.min(MAX_PURCHASES, items) + 1);
      while (purchased.size() < n) {
        // Popular items are bought more: the square of a uniform favours low indices.
        double u = r.nextDouble();
        purchased.add(itemId((int) (u * u * items)));
      }
    }
    return Row.withSchema(USER_SCHEMA).addValues(userId(i), embedding, new ArrayList<>(purchased)).build();
  }

  /** Users {@code 0..users-1}. */
  public static List<Row> users(int users, int items, long seed) {
    List<Row> out = new ArrayList<>(users);
    for (int i = 0; i < users; i++) {
      out.add(user(i, items, seed));
    }
    return out;
  }
}
