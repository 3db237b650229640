package com.example.churn;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.keys.Fallback;
import dev.batchserve.transforms.keys.KeyedPrediction;
import dev.batchserve.transforms.values.Prediction;
import dev.batchserve.transforms.values.RunInfo;
import java.util.Locale;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * A user's own transform built on batchserve's {@link KeyedPrediction}: customer CSV lines
 * ({@code customer_id,tenure_months,monthly_spend,support_tickets}) in, one {@code customer_id,score,source}
 * line per active customer out. Customers without a usable record get the fallback score, so a
 * downstream CRM import always sees every active customer exactly once.
 *
 * <pre>{@code
 * PCollection<String> lines = customers.apply(new ChurnScoring(spec, "gs://models/churn/4", run)
 *     .withActiveCustomers(active));
 * }</pre>
 */
public class ChurnScoring extends PTransform<PCollection<String>, PCollection<String>> {
  public static final Schema SCHEMA = Schema.builder()
      .addNullableField("tenure_months", FieldType.STRING)
      .addNullableField("monthly_spend", FieldType.STRING)
      .addNullableField("support_tickets", FieldType.STRING)
      .build();

  private final FeatureSpec spec;
  private final String modelUri;
  private final RunInfo run;
  private final PCollection<String> activeCustomers;

  public ChurnScoring(FeatureSpec spec, String modelUri, RunInfo run) {
    this(spec, modelUri, run, null);
  }

  private ChurnScoring(FeatureSpec spec, String modelUri, RunInfo run, PCollection<String> activeCustomers) {
    this.spec = spec;
    this.modelUri = modelUri;
    this.run = run;
    this.activeCustomers = activeCustomers;
  }

  /** Every active customer gets exactly one line, scored or fallback. */
  public ChurnScoring withActiveCustomers(PCollection<String> active) {
    return new ChurnScoring(spec, modelUri, run, active);
  }

  @Override
  public PCollection<String> expand(PCollection<String> lines) {
    PCollection<KV<String, Row>> keyed = lines
        .apply("Parse", ParDo.of(new ParseFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(SCHEMA)));
    KeyedPrediction<String> predict = KeyedPrediction.<String>of(spec, modelUri)
        .withRunInfo(run)
        .withFallback(Fallback.constant(0.5f))
        .withMaxBatchSize(128);
    if (activeCustomers != null) {
      predict = predict.withExpectedKeys(activeCustomers);
    }
    return keyed.apply("Score", predict).predictions()
        .apply("Format", ParDo.of(new FormatFn()));
  }

  static class ParseFn extends DoFn<String, KV<String, Row>> {
    @ProcessElement
    public void process(@Element String line, OutputReceiver<KV<String, Row>> out) {
      if (line.isBlank() || line.startsWith("customer_id")) {
        return; // header
      }
      String[] f = line.split(",", -1);
      out.output(KV.of(f[0], Row.withSchema(SCHEMA).addValues(f[1], f[2], f[3]).build()));
    }
  }

  static class FormatFn extends DoFn<KV<String, Prediction>, String> {
    @ProcessElement
    public void process(@Element KV<String, Prediction> kv, OutputReceiver<String> out) {
      Prediction p = kv.getValue();
      String source = p.getFallbackReason() == null ? "model" : "fallback:" + p.getFallbackReason();
      out.output(String.format(Locale.ROOT, "%s,%.4f,%s", kv.getKey(), p.getScores()[0], source));
    }
  }
}
