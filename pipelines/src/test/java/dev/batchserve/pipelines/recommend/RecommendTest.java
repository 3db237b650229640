package dev.batchserve.pipelines.recommend;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.Assert.assertTrue;

import dev.batchserve.models.training.TopKExporter;
import dev.batchserve.tools.samples.RecommendSample;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.values.DeadLetter;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class RecommendTest {
  @ClassRule public static final TemporaryFolder TMP = new TemporaryFolder();
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final int ITEMS = 300;
  private static final int K = 100;
  private static final RunInfo RUN = RunInfo.of("recs", LocalDate.parse("2026-11-28"), RunInfo.Interval.DAILY);
  private static RecommendSample.Catalog catalog;
  private static Path modelDir;
  private static Path tinyModelDir;

  @BeforeClass
  public static void export() {
    catalog = RecommendSample.catalog(ITEMS, 7);
    modelDir = TMP.getRoot().toPath().resolve("models/recs/1");
    TopKExporter.export(catalog.embeddings, catalog.ids, K, modelDir, "recs-topk", "1");
    tinyModelDir = TMP.getRoot().toPath().resolve("models/tiny/1");
    TopKExporter.export(Arrays.copyOf(catalog.embeddings, 10), catalog.ids.subList(0, 10), 5, tinyModelDir, "tiny", "1");
  }

  /** The reference: every dot product in plain Java, sorted by score (ties: lower index), purchases removed. */
  static List<String> bruteForce(Row user, float[][] items, List<String> ids, int k) {
    Collection<Float> e = user.getArray("embedding");
    float[] u = new float[e.size()];
    int d = 0;
    for (Float v : e) {
      u[d++] = v;
    }
    Set<String> bought = new HashSet<>(user.<String>getArray("purchased"));
    List<Integer> order = new ArrayList<>();
    float[] s = new float[items.length];
    for (int i = 0; i < items.length; i++) {
      float dot = 0;
      for (int j = 0; j < u.length; j++) {
        dot += u[j] * items[i][j];
      }
      s[i] = dot;
      if (!bought.contains(ids.get(i))) {
        order.add(i);
      }
    }
    order.sort((a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < Math.min(k, order.size()); i++) {
      out.add(ids.get(order.get(i)) + "=" + s[order.get(i)]);
    }
    return out;
  }

  private static List<String> itemsWithScores(Prediction pr) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < pr.getItems().size(); i++) {
      out.add(pr.getItems().get(i) + "=" + pr.getScores()[i]);
    }
    return out;
  }

  private static Row user(String id, float[] embedding, String... purchased) {
    List<Float> e = null;
    if (embedding != null) {
      e = new ArrayList<>();
      for (float v : embedding) {
        e.add(v);
      }
    }
    return Row.withSchema(Recommend.USER_SCHEMA).addValues(id, e, List.of(purchased)).build();
  }

  @Test
  public void exactTopKWithPurchasesExcludedAndPopularityForNewUsers() {
    List<Row> users = new ArrayList<>(RecommendSample.users(150, ITEMS, 7));
    // Hand-checked: a user equal to item 5 would get item 5 first, but bought it; another bought the top 3.
    users.add(user("likes-item-5", catalog.embeddings[5], catalog.ids.get(5), "not-in-catalog"));
    Row probe = user("probe", catalog.embeddings[9]);
    List<String> top3 = bruteForce(probe, catalog.embeddings, catalog.ids, 3);
    users.add(user("bought-top-3", catalog.embeddings[9],
        top3.get(0).split("=")[0], top3.get(1).split("=")[0], top3.get(2).split("=")[0]));
    users.add(user("new-user", null));
    users.add(user("bad-embedding", new float[] {1f, 2f}));
    Map<String, List<String>> expected = new HashMap<>();
    Set<String> cold = new HashSet<>();
    List<KV<String, Row>> input = new ArrayList<>();
    for (Row u : users) {
      input.add(KV.of(u.getString("user_id"), u));
      if (u.getValue("embedding") == null) {
        cold.add(u.getString("user_id"));
      } else if (u.<Float>getArray("embedding").size() == RecommendSample.DIM) {
        expected.put(u.getString("user_id"), bruteForce(u, catalog.embeddings, catalog.ids, K));
      }
    }
    assertThat(cold.size(), greaterThan(1)); // the generator's new users and the hand-made one
    // Without the purchases, the 4th best item of item 9's embedding is first.
    assertThat(expected.get("bought-top-3").get(0), is(bruteForce(probe, catalog.embeddings, catalog.ids, 4).get(3)));
    List<String> popular = catalog.mostPopular(K);
    float[] popularScores = catalog.mostPopularScores(K);

    Recommend.Result r = p.apply(Create.of(input).withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(Recommend.USER_SCHEMA))))
        .apply(Recommend.withModel(modelDir.toString()).withRunInfo(RUN).withMaxBatchSize(16)
            .withColdStart(Fallback.popularity(popular, popularScores)));
    PAssert.that(r.predictions()).satisfies(out -> {
      Map<String, Prediction> byUser = new HashMap<>();
      for (KV<String, Prediction> kv : out) {
        assertTrue("twice: " + kv.getKey(), byUser.put(kv.getKey(), kv.getValue()) == null);
      }
      assertThat(byUser.size(), is(expected.size() + cold.size()));
      for (Map.Entry<String, List<String>> e : expected.entrySet()) {
        Prediction pr = byUser.get(e.getKey());
        assertThat(e.getKey(), itemsWithScores(pr), is(e.getValue()));
        assertThat(pr.getItems().size(), is(K));
        assertThat(pr.getFallbackReason(), nullValue());
        assertThat(pr.getModelName(), is("recs-topk"));
        assertThat(pr.getRunId(), is("recs-daily-20261128"));
      }
      assertTrue(!byUser.get("likes-item-5").getItems().contains(catalog.ids.get(5)));
      for (String t : top3) {
        assertTrue(!byUser.get("bought-top-3").getItems().contains(t.split("=")[0]));
      }
      for (String c : cold) {
        Prediction pr = byUser.get(c);
        assertThat(pr.getItems(), is(popular));
        assertThat(pr.getFallbackReason(), is("cold_start"));
        assertThat(pr.getModelName(), is("fallback-popularity"));
        assertTrue(Arrays.equals(pr.getScores(), popularScores));
      }
      return null;
    });
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<String> keys = new ArrayList<>();
      for (DeadLetter d : dead) {
        keys.add(d.getKey() + ":" + d.getReason() + ":" + d.getField());
      }
      assertThat(keys, is(List.of("bad-embedding:wrong_feature_count:embedding")));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /** The prediction {@link #bruteForce} says the model makes for {@code u}. */
  private static Prediction expectedPrediction(Row u) {
    List<String> items = new ArrayList<>();
    List<String> ranked = bruteForce(u, catalog.embeddings, catalog.ids, K);
    float[] scores = new float[ranked.size()];
    for (int i = 0; i < ranked.size(); i++) {
      String[] itemAndScore = ranked.get(i).split("=");
      items.add(itemAndScore[0]);
      scores[i] = Float.parseFloat(itemAndScore[1]);
    }
    return Prediction.builder().items(items).scores(scores).model("recs-topk", "1")
        .predictionTimestampMillis(RUN.predictionTimestamp().toEpochMilli()).runId(RUN.runId()).build();
  }

  @Test
  public void aUserTheModelRefusesIsOneDeadLetterAndTheRestOfItsBatchIsRecommended() {
    List<KV<String, Row>> input = new ArrayList<>();
    List<KV<String, Prediction>> expected = new ArrayList<>();
    for (Row u : RecommendSample.users(40, ITEMS, 7)) {
      if (u.getValue("embedding") != null && input.size() < 11) {
        input.add(KV.of(u.getString("user_id"), u));
        expected.add(KV.of(u.getString("user_id"), expectedPrediction(u)));
      }
    }
    // A NaN in the embedding passes Recommend's own checks (the size is right); TensorFlow refuses it.
    float[] nan = catalog.embeddings[3].clone();
    nan[10] = Float.NaN;
    input.add(5, KV.of("nan-user", user("nan-user", nan, catalog.ids.get(1))));
    // One element unpacked by one ParDo: all twelve users reach the model in one bundle, so in one batch.
    Recommend.Result r = p
        .apply(Create.of(List.of(input)).withCoder(org.apache.beam.sdk.coders.ListCoder.of(
            KvCoder.of(StringUtf8Coder.of(), RowCoder.of(Recommend.USER_SCHEMA)))))
        .apply(org.apache.beam.sdk.transforms.Flatten.iterables())
        .apply(Recommend.withModel(modelDir.toString()).withRunInfo(RUN).withMaxBatchSize(64));
    PAssert.that(r.predictions()).containsInAnyOrder(expected);
    PAssert.that(r.deadLetters()).satisfies(dead -> {
      List<String> all = new ArrayList<>();
      for (DeadLetter d : dead) {
        all.add(String.join("|", d.getStep(), d.getKey(), d.getRecord(), String.valueOf(d.getField()), d.getReason(),
            d.getDetail()));
      }
      assertThat(all, is(List.of(String.join("|", "inference", "nan-user",
          DeadLetter.vectorRecord(TopKAdapter.Bound.row(nan, new int[] {1}).toArray()), "null", "inference_error",
          "dev.batchserve.models.ModelInputException: input 'user': row 0, feature index 10 is NaN"))));
      return null;
    });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    // The batch of 12 failed, then each half holding the NaN user: [0, 6), [3, 6), [4, 6) and [5].
    long failedBatches = 0;
    for (org.apache.beam.sdk.metrics.MetricResult<Long> c : result.metrics().queryMetrics(
        org.apache.beam.sdk.metrics.MetricsFilter.builder().addNameFilter(org.apache.beam.sdk.metrics.MetricNameFilter
            .named(dev.batchserve.transforms.inference.BatchInfer.METRICS_NAMESPACE, "failed_batches")).build())
        .getCounters()) {
      failedBatches += c.getAttempted();
    }
    assertThat(failedBatches, is(5L));
  }

  @Test
  public void aUserWhoBoughtMostOfTheCatalogGetsOnlyWhatIsLeft() {
    // 10 items, k = 5; 7 bought: only the 3 others, in score order.
    Row u = user("collector", catalog.embeddings[0], catalog.ids.subList(0, 7).toArray(new String[0]));
    List<String> expected = bruteForce(u, Arrays.copyOf(catalog.embeddings, 10), catalog.ids.subList(0, 10), 5);
    assertThat(expected.size(), is(3));
    Recommend.Result r = p.apply(Create.of(KV.of("collector", u))
            .withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(Recommend.USER_SCHEMA))))
        .apply(Recommend.withModel(tinyModelDir.toString()).withRunInfo(RUN));
    PAssert.that(r.predictions()).satisfies(out -> {
      Prediction pr = out.iterator().next().getValue();
      assertThat(itemsWithScores(pr), is(expected));
      return null;
    });
    p.run().waitUntilFinish();
  }

  @Test
  public void aModelThatIsNotTopKFailsNamingWhatItHas() {
    Path linear = TMP.getRoot().toPath().resolve("models/linear/1");
    dev.batchserve.models.training.LinearExporter.export(
        new dev.batchserve.models.linear.LinearModelFile(new float[][] {{1f, 2f}}, new float[] {0f}, "identity"),
        linear, dev.batchserve.models.ModelManifest.builder().name("linear").version("1").build());
    p.apply(Create.of(KV.of("u", user("u", catalog.embeddings[0])))
            .withCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(Recommend.USER_SCHEMA))))
        .apply(Recommend.withModel(linear.toString()).withRunInfo(RUN));
    Throwable e = org.junit.Assert.assertThrows(RuntimeException.class, () -> p.run().waitUntilFinish());
    StringBuilder messages = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      messages.append(t.getMessage()).append('\n');
    }
    assertThat(messages.toString(), org.hamcrest.Matchers.containsString(
        "is not a top-k model exported by TopKExporter (inputs user, exclude; outputs items, scores), but has inputs"));
  }

  @Test
  public void theGeneratorsUserRowsAreTheTransformsUserRows() {
    // batchserve-tools (below this module) cannot name Recommend.USER_SCHEMA: it keeps its own copy.
    assertThat(RecommendSample.USER_SCHEMA, is(Recommend.USER_SCHEMA));
  }
}
