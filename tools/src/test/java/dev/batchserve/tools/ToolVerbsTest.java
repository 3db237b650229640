package dev.batchserve.tools;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.batchserve.models.cli.LauncherVerb;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.Test;

/**
 * The verbs batchserve-tools registers for the launcher: found through ServiceLoader, each with its
 * help, and {@code train} dispatching on {@code --input} (own data) vs none (the demo model).
 */
public class ToolVerbsTest {
  private static Map<String, LauncherVerb> verbs() {
    return ServiceLoader.load(LauncherVerb.class).stream().map(ServiceLoader.Provider::get)
        .collect(Collectors.toMap(LauncherVerb::name, v -> v));
  }

  private static String help(String verb, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    List<String> a = new ArrayList<>(List.of(args));
    a.add("--help");
    assertThat(verb + " " + a, verbs().get(verb).run(a.toArray(new String[0]), out, out), is(0));
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void theServiceFileRegistersSampleTrainAndFlink() {
    List<String> names = new ArrayList<>();
    ServiceLoader.load(LauncherVerb.class).forEach(v -> names.add(v.name()));
    assertThat(names, contains("sample", "train", "flink"));
    for (LauncherVerb v : verbs().values()) {
      assertThat(v.name(), v.summary().get(0), containsString(v.name() + " "));
    }
  }

  @Test
  public void trainWithInputTrainsOnTheUsersFileAndWithoutItTheDemoModel() {
    String own = help("train", "--input=x.csv");
    assertThat(own, containsString("--label"));
    assertThat(own, not(containsString("--accounts")));
    String demo = help("train");
    assertThat(demo, containsString("--accounts"));
    assertThat(demo, not(containsString("--label")));
  }

  @Test
  public void sampleAndFlinkPrintTheirOptions() {
    assertThat(help("sample"), containsString("--accounts"));
    assertThat(help("flink", "up"), containsString("--taskManagers"));
  }

  @Test
  public void aUsageErrorIsNotZero() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    assertThat(verbs().get("sample").run(new String[] {"--noSuchOption=1"}, out, out), not(is(0)));
    assertThat(bytes.toString(StandardCharsets.UTF_8), containsString("--noSuchOption"));
  }
}
