package dev.batchserve.pipelines.config;

import dev.batchserve.pipelines.BatchScoringOptions;
import dev.batchserve.transforms.values.RunInfo;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * For tests: the options a job sets, each read back through its getter and shown as
 * {@code --name=value}, in the order the job set them; a typed value in the text form the command
 * line takes (its JSON form: {@code FileFormat} as {@code jsonl}, a list joined by commas).
 */
public final class SetOptions {
  private SetOptions() {}

  /** The options {@code job} sets on new options, as {@code --name=value}. */
  public static List<String> of(JobConfig job, @Nullable RunInfo run) {
    BatchScoringOptions o = PipelineOptionsFactory.as(BatchScoringOptions.class);
    return of(o, job.applyTo(o, run, Set.of()));
  }

  /** {@code names}' values in {@code o}, as {@code --name=value}. */
  public static List<String> of(BatchScoringOptions o, List<String> names) {
    List<String> out = new ArrayList<>();
    for (String name : names) {
      try {
        Method getter = BatchScoringOptions.class.getMethod(
            "get" + Character.toUpperCase(name.charAt(0)) + name.substring(1));
        out.add("--" + name + "=" + dev.batchserve.pipelines.OptionArgs.text(getter.invoke(o)));
      } catch (ReflectiveOperationException e) {
        throw new AssertionError("no option " + name, e);
      }
    }
    return out;
  }
}
