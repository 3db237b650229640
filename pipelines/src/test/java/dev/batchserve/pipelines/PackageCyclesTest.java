package dev.batchserve.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * No cycle between the packages of {@code dev.batchserve} (issue #19): reads the production sources
 * of every module of the repository ({@code <module>/src/main/java}, nested modules such as
 * {@code transforms/io-redis} and {@code examples/jobs} too; not {@code examples/consumer}, a user's
 * project outside the reactor) and follows every reference to a
 * {@code dev.batchserve} package, whether imported (also static) or written out in the code. Comments
 * and strings do not count, so a Javadoc {@code {@link}} does not make an edge.
 */
public class PackageCyclesTest {
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
  /** A package named in the code: the lower-case segments before a class name (or a {@code .*}). */
  private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.batchserve(?:\\.[a-z_][a-z0-9_]*)+");

  @Test
  public void noCycleBetweenPackages() throws IOException {
    Map<String, Map<String, Set<String>>> graph = packageGraph(repositoryRoot());
    assertThat("packages read (is the repository root right?)", graph.size(), greaterThan(20));
    assertThat("dev.batchserve.transforms.sink is read", graph.keySet(), hasItem("dev.batchserve.transforms.sink"));
    for (String module : List.of("dev.batchserve.models.training", "dev.batchserve.tools.flink",
        "dev.batchserve.examples.churn")) {
      assertThat(module + " is read (training/, tools/, examples/jobs)", graph.keySet(), hasItem(module));
    }
    List<String> cycles = new ArrayList<>();
    for (Set<String> component : cycles(graph)) {
      StringBuilder b = new StringBuilder("cycle between " + component + ":");
      for (String from : component) {
        for (Map.Entry<String, Set<String>> to : graph.getOrDefault(from, Map.of()).entrySet()) {
          if (component.contains(to.getKey())) {
            b.append("\n  ").append(from).append(" -> ").append(to.getKey()).append(" (in ").append(to.getValue()).append(')');
          }
        }
      }
      cycles.add(b.toString());
    }
    assertThat("move the class that makes one of these edges, or depend on an interface in the lower package",
        cycles, empty());
  }

  @Test
  public void findsACycleAndOnlyThat() {
    Map<String, Map<String, Set<String>>> g = new TreeMap<>();
    edge(g, "a.ingest", "a.sink");
    edge(g, "a.sink", "a.join");
    edge(g, "a.join", "a.ingest");
    edge(g, "a.keys", "a.join");
    edge(g, "a.join", "a.values");
    List<Set<String>> found = cycles(g);
    assertThat(found, contains(Set.of("a.ingest", "a.join", "a.sink")));
  }

  @Test
  public void readsImportsStaticImportsAndWrittenOutNamesButNotComments() throws IOException {
    Path dir = Files.createTempDirectory("package-cycles");
    Path src = dir.resolve("m/src/main/java/dev/batchserve/x");
    Files.createDirectories(src);
    Files.writeString(src.resolve("A.java"), "package dev.batchserve.x;\n"
        + "import dev.batchserve.y.B;\n"
        + "import static dev.batchserve.z.C.D;\n"
        + "/** {@link dev.batchserve.comment.E} */\n"
        + "class A { Object o = dev.batchserve.w.F.of(); String s = \"dev.batchserve.string.G\"; }\n");
    Map<String, Map<String, Set<String>>> g = packageGraph(dir);
    assertThat(g.get("dev.batchserve.x").keySet(),
        contains("dev.batchserve.w", "dev.batchserve.y", "dev.batchserve.z"));
  }

  private static void edge(Map<String, Map<String, Set<String>>> g, String from, String to) {
    g.computeIfAbsent(from, k -> new TreeMap<>()).computeIfAbsent(to, k -> new TreeSet<>()).add("test");
  }

  /** The repository's root: the parent of this module's directory (Maven runs tests there). */
  private static Path repositoryRoot() {
    Path module = Paths.get("").toAbsolutePath();
    Path root = module.getParent();
    assertTrue("expected to run in the pipelines module of the repository, but ran in " + module,
        Files.isDirectory(root.resolve("transforms/src/main/java")));
    return root;
  }

  /** package -> referenced package -> the files that reference it, over every {@code src/main/java} under {@code root}. */
  static Map<String, Map<String, Set<String>>> packageGraph(Path root) throws IOException {
    Map<String, Map<String, Set<String>>> graph = new TreeMap<>();
    List<Path> sources;
    try (Stream<Path> walk = Files.walk(root)) {
      sources = walk.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> root.relativize(p).toString().replace('\\', '/').contains("src/main/java/"))
          .filter(p -> {
            String rel = root.relativize(p).toString().replace('\\', '/');
            return !rel.startsWith("examples/consumer/") && !rel.contains("/target/");
          })
          .collect(Collectors.toList());
    }
    for (Path file : sources) {
      String code = withoutCommentsAndStrings(Files.readString(file, StandardCharsets.UTF_8));
      Matcher p = PACKAGE.matcher(code);
      if (!p.find()) {
        continue;
      }
      String pkg = p.group(1);
      graph.computeIfAbsent(pkg, k -> new TreeMap<>());
      Matcher r = REFERENCE.matcher(code);
      r.region(p.end(), code.length());
      while (r.find()) {
        if (!r.group().equals(pkg)) {
          graph.get(pkg).computeIfAbsent(r.group(), k -> new TreeSet<>()).add(file.getFileName().toString());
        }
      }
    }
    return graph;
  }

  private static String withoutCommentsAndStrings(String code) {
    return code.replaceAll("(?s)/\\*.*?\\*/", " ")
        .replaceAll("//[^\\n]*", " ")
        .replaceAll("\"(?:\\\\.|[^\"\\\\\\n])*\"", "\"\"");
  }

  /** The strongly connected components of more than one package (Tarjan), each sorted. */
  static List<Set<String>> cycles(Map<String, Map<String, Set<String>>> graph) {
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<Set<String>> found = new ArrayList<>();
    int[] counter = {0};
    for (String v : graph.keySet()) {
      if (!index.containsKey(v)) {
        connect(v, graph, index, low, stack, onStack, found, counter);
      }
    }
    return found;
  }

  private static void connect(String v, Map<String, Map<String, Set<String>>> graph, Map<String, Integer> index,
      Map<String, Integer> low, Deque<String> stack, Set<String> onStack, List<Set<String>> found, int[] counter) {
    index.put(v, counter[0]);
    low.put(v, counter[0]);
    counter[0]++;
    stack.push(v);
    onStack.add(v);
    for (String w : graph.getOrDefault(v, Map.of()).keySet()) {
      if (!index.containsKey(w)) {
        connect(w, graph, index, low, stack, onStack, found, counter);
        low.put(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.contains(w)) {
        low.put(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v).equals(index.get(v))) {
      Set<String> component = new TreeSet<>();
      String w;
      do {
        w = stack.pop();
        onStack.remove(w);
        component.add(w);
      } while (!w.equals(v));
      if (component.size() > 1) {
        found.add(component);
      }
    }
  }
}
