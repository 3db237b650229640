package dev.batchserve.tools.samples;

import dev.batchserve.transforms.features.FeatureSpec;
import dev.batchserve.transforms.features.InvalidPolicy;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;

/**
 * Deterministic sample data for the fraud-scoring example: one row of 30-day aggregates per account,
 * with a label drawn from a known logistic ground truth so that a model can learn it.
 *
 * <p>The same {@code (accounts, seed)} always gives the same rows, byte for byte, in CSV and Parquet.
 * About 2% of {@code amount_std_30d} values are missing (accounts with a single transaction), which
 * the feature spec imputes exactly as in training.
 *
 * <pre>{@code
 * List<Map<String, Object>> rows = FraudSample.generate(1000, 42);
 * FraudSample.writeCsv(rows, Path.of("accounts.csv"));
 * FraudSample.writeParquet(rows, Path.of("accounts.parquet"));
 * }</pre>
 */
public final class FraudSample {
  public static final String KEY = "account_id";
  public static final String LABEL = "is_fraud";
  /** Columns in file order. */
  public static final List<String> COLUMNS = List.of(
      KEY, "txn_count_1d", "txn_count_7d", "txn_count_30d", "amount_mean_30d", "amount_max_30d",
      "amount_std_30d", "distinct_countries_30d", "distinct_merchants_30d", "home_country", "geo_change",
      "account_age_days", LABEL);
  /**
   * The countries the accounts come from. Key, ids and countries are those of the fraud transactions
   * job ({@code dev.batchserve.pipelines.fraud.FraudAccounts}, which cannot depend on this module);
   * a test there holds the two to each other.
   */
  public static final List<String> COUNTRIES = List.of("US", "GB", "DE", "FR", "BR", "IN", "NG", "JP");

  private FraudSample() {}

  /** The account id of the {@code i}-th account: {@code acct-000042}. */
  public static String accountId(long i) {
    return String.format(Locale.ROOT, "acct-%06d", i);
  }

  /** {@code accounts} rows with typed values (Long, Double, String, Boolean; null where missing). */
  public static List<Map<String, Object>> generate(int accounts, long seed) {
    List<Map<String, Object>> rows = new ArrayList<>(accounts);
    forEachRow(accounts, seed, rows::add);
    return rows;
  }

  /** The same rows as {@link #generate}, one at a time, for samples too large to hold in memory. */
  public static void forEachRow(long accounts, long seed, java.util.function.Consumer<Map<String, Object>> sink) {
    SplittableRandom r = new SplittableRandom(seed);
    for (long i = 0; i < accounts; i++) {
      boolean risky = r.nextDouble() < 0.15;
      long age = 1 + r.nextInt(risky ? 400 : 3650);
      long t30 = 1 + r.nextInt(risky ? 120 : 60);
      long t7 = Math.min(t30, Math.round(t30 * (0.15 + r.nextDouble() * (risky ? 0.7 : 0.3))));
      long t1 = Math.min(t7, Math.round(t7 * r.nextDouble() * (risky ? 0.8 : 0.3)));
      double mean = round2(Math.exp(3 + r.nextDouble() * (risky ? 3.5 : 2.5)));
      double max = round2(mean * (1 + r.nextDouble() * (risky ? 6 : 2)));
      Double std = t30 == 1 || r.nextDouble() < 0.015 ? null : round2((max - mean) * (0.2 + 0.5 * r.nextDouble()));
      long countries = 1 + (risky ? r.nextInt(5) : (r.nextDouble() < 0.1 ? 1 : 0));
      long merchants = Math.max(1, Math.min(t30, 1 + r.nextInt((int) Math.min(40, t30 + 1))));
      String home = COUNTRIES.get(r.nextInt(COUNTRIES.size()));
      boolean geo = countries > 1 && r.nextDouble() < (risky ? 0.6 : 0.2);
      double z = -4.2 + 0.9 * Math.log1p(t1) + 0.6 * (countries - 1) + (geo ? 1.1 : 0)
          + 0.45 * Math.log1p(max / 100.0) - 0.0012 * age + ("NG".equals(home) ? 0.5 : 0);
      long label = r.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;

      Map<String, Object> row = new LinkedHashMap<>();
      row.put(KEY, accountId(i));
      row.put("txn_count_1d", t1);
      row.put("txn_count_7d", t7);
      row.put("txn_count_30d", t30);
      row.put("amount_mean_30d", mean);
      row.put("amount_max_30d", max);
      row.put("amount_std_30d", std);
      row.put("distinct_countries_30d", countries);
      row.put("distinct_merchants_30d", merchants);
      row.put("home_country", home);
      row.put("geo_change", geo);
      row.put("account_age_days", age);
      row.put(LABEL, label);
      sink.accept(row);
    }
  }

  /**
   * The feature template of the fraud model (fitted on training rows by {@link FeatureSpec#fit} or
   * {@code AnalyzeFeatures}).
   */
  public static FeatureSpec template() {
    return FeatureSpec.builder()
        .integer("txn_count_1d").range(0, 100_000).log1p().zscore()
        .integer("txn_count_7d").range(0, 100_000).log1p().zscore()
        .integer("txn_count_30d").range(0, 100_000).log1p().zscore()
        .numeric("amount_mean_30d").range(0, 1e9).log1p().zscore()
        .numeric("amount_max_30d").range(0, 1e9).log1p().zscore()
        .numeric("amount_std_30d").optional().range(0, 1e9).imputeMedian().withMissingIndicator().log1p().zscore()
        .integer("distinct_countries_30d").range(0, 300).minMax()
        .integer("distinct_merchants_30d").range(0, 100_000).log1p().zscore()
        .categorical("home_country").vocabulary().oneHot(1).onInvalid(InvalidPolicy.KEEP)
        .bool("geo_change").passthrough()
        .integer("account_age_days").range(0, 36_500).zscore()
        .build();
  }

  /** Writes the rows as CSV with a header line (missing values as empty fields). */
  public static void writeCsv(List<Map<String, Object>> rows, Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
          CSVPrinter csv = new CSVPrinter(w, CSVFormat.RFC4180.builder().setRecordSeparator('\n').build())) {
        csv.printRecord(COLUMNS);
        for (Map<String, Object> row : rows) {
          List<Object> values = new ArrayList<>(COLUMNS.size());
          for (String c : COLUMNS) {
            Object v = row.get(c);
            values.add(v == null ? "" : v);
          }
          csv.printRecord(values);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** The Avro schema of the Parquet sample. */
  public static Schema avroSchema() {
    // The namespace the sample files have always had (it is part of each Parquet file's schema).
    return SchemaBuilder.record("FraudAccount").namespace("dev.batchserve.pipelines.fraud").fields()
        .requiredString(KEY)
        .requiredLong("txn_count_1d").requiredLong("txn_count_7d").requiredLong("txn_count_30d")
        .requiredDouble("amount_mean_30d").requiredDouble("amount_max_30d").optionalDouble("amount_std_30d")
        .requiredLong("distinct_countries_30d").requiredLong("distinct_merchants_30d")
        .requiredString("home_country").requiredBoolean("geo_change").requiredLong("account_age_days")
        .requiredLong(LABEL)
        .endRecord();
  }

  /** Writes {@code accounts} generated rows as one Parquet file without holding them in memory. */
  public static void writeParquet(long accounts, long seed, Path file) {
    writeParquet(file, sink -> forEachRow(accounts, seed, sink));
  }

  /** Writes the rows as one Parquet file (snappy), typed by {@link #avroSchema()}. */
  public static void writeParquet(List<Map<String, Object>> rows, Path file) {
    writeParquet(file, rows::forEach);
  }

  private static void writeParquet(Path file,
      java.util.function.Consumer<java.util.function.Consumer<Map<String, Object>>> rows) {
    Schema schema = avroSchema();
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.deleteIfExists(file);
      try (ParquetWriter<GenericRecord> w = AvroParquetWriter.<GenericRecord>builder(
              HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(file.toAbsolutePath().toUri()), new Configuration()))
          .withSchema(schema)
          .withCompressionCodec(CompressionCodecName.SNAPPY)
          .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
          .build()) {
        rows.accept(row -> {
          GenericRecord rec = new GenericData.Record(schema);
          row.forEach(rec::put);
          try {
            w.write(rec);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      }
      // Hadoop's local file system leaves a .crc checksum file beside the output: not part of the data.
      Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
    } catch (IOException | UncheckedIOException e) {
      throw new UncheckedIOException("cannot write " + file, e instanceof IOException ? (IOException) e
          : ((UncheckedIOException) e).getCause());
    }
  }

  private static double round2(double v) {
    return Math.round(v * 100.0) / 100.0;
  }
}
