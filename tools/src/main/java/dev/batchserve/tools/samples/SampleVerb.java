package dev.batchserve.tools.samples;

import dev.batchserve.models.cli.LauncherVerb;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code batchserve sample}: writes the fraud sample ({@link GenerateFraudSample}); found by the
 * launcher through {@code META-INF/services/dev.batchserve.models.cli.LauncherVerb}.
 *
 * <pre>
 * bin/batchserve sample --out=work/sample/fraud --accounts=2000 --seed=42
 * </pre>
 */
public final class SampleVerb implements LauncherVerb {
  @Override
  public String name() {
    return "sample";
  }

  @Override
  public List<String> summary() {
    return List.of("sample [--out=DIR] [--accounts=N] [--seed=N]   write the fraud sample (CSV and Parquet)");
  }

  @Override
  public int run(String[] args, PrintStream out, PrintStream err) {
    return GenerateFraudSample.run(args, out, err);
  }
}
