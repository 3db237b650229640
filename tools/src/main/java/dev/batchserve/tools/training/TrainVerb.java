package dev.batchserve.tools.training;

import dev.batchserve.models.cli.LauncherVerb;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code batchserve train}: with {@code --input=FILE}, trains the built-in model on the user's
 * labelled file ({@link TrainOwnModel}); without it, trains the fraud demo model
 * ({@link TrainFraudModel}). Found by the launcher through
 * {@code META-INF/services/dev.batchserve.models.cli.LauncherVerb}.
 *
 * <pre>
 * bin/batchserve train --input=data/train.csv --template=t.json --label=churned --modelDir=work/models/churn/1 --name=churn
 * bin/batchserve train --modelDir=work/models/fraud-mlp/1 --accounts=20000 --seed=7 --version=1
 * </pre>
 */
public final class TrainVerb implements LauncherVerb {
  @Override
  public String name() {
    return "train";
  }

  @Override
  public List<String> summary() {
    return List.of(
        "train --input=FILE --label=COL --modelDir=DIR --name=N (--template=T.json | --spec=S.json)",
        "      [--model=linear|mlp] [--hidden=16] [--export=linear|onnx|tensorflow] [--version=V] [--epochs=40]",
        "                  train the built-in linear or MLP model on your labelled file; writes model, spec, manifest",
        "train [--modelDir=DIR] [--accounts=N] [--seed=N] [--version=V]   (no --input) the demo fraud TF model");
  }

  @Override
  public int run(String[] args, PrintStream out, PrintStream err) {
    if (Arrays.stream(args).anyMatch(a -> a.startsWith("--input=") || a.equals("--input"))) {
      return TrainOwnModel.run(args, out, err);
    }
    return TrainFraudModel.run(args, out, err);
  }
}
