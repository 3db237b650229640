package dev.batchserve.pipelines.fraud;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * Writes the fraud scoring sample as {@code accounts.csv} and {@code accounts.parquet}.
 *
 * <pre>
 * java ... GenerateFraudSample --out=work/sample/fraud [--accounts=2000] [--seed=42]
 * </pre>
 */
public final class GenerateFraudSample {
  private GenerateFraudSample() {}

  public static void main(String[] args) {
    Path out = Paths.get("work/sample/fraud");
    int accounts = 2000;
    long seed = 42;
    for (String a : args) {
      String[] kv = a.replaceFirst("^--", "").split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("arguments are --name=value, but got '" + a + "'");
      }
      switch (kv[0]) {
        case "out": out = Paths.get(kv[1]); break;
        case "accounts": accounts = Integer.parseInt(kv[1]); break;
        case "seed": seed = Long.parseLong(kv[1]); break;
        default: throw new IllegalArgumentException("unknown argument --" + kv[0] + " (known: --out, --accounts, --seed)");
      }
    }
    List<Map<String, Object>> rows = FraudSample.generate(accounts, seed);
    FraudSample.writeCsv(rows, out.resolve("accounts.csv"));
    FraudSample.writeParquet(rows, out.resolve("accounts.parquet"));
    System.out.printf("Wrote %d sample accounts (seed %d) to %s/accounts.{csv,parquet}%n", accounts, seed, out);
  }
}
