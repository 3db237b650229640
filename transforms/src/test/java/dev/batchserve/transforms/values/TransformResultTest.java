package dev.batchserve.transforms.values;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.Assert.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.TupleTag;
import org.junit.Rule;
import org.junit.Test;

/** The shared POutput plumbing: what a result registers is what Beam sees, in order, once per tag. */
public class TransformResultTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final class Pair extends TransformResult {
    private final PCollection<String> left;
    private final PCollection<String> right;

    Pair(PCollection<String> left, TupleTag<String> leftTag, PCollection<String> right, TupleTag<String> rightTag) {
      super(left.getPipeline());
      this.left = output(leftTag, left);
      this.right = output(rightTag, right);
    }
  }

  /** A composite transform whose output is a subclass: Beam accepts it and its collections run. */
  private static final class MakePair extends PTransform<PBegin, Pair> {
    @Override
    public Pair expand(PBegin input) {
      return new Pair(input.apply("Left", Create.of("a")), new TupleTag<>("left"),
          input.apply("Right", Create.of("b")), new TupleTag<>("right"));
    }
  }

  @Test
  public void expandGivesTheRegisteredCollectionsInOrder() {
    TupleTag<String> leftTag = new TupleTag<>("left");
    TupleTag<String> rightTag = new TupleTag<>("right");
    Pair pair = new Pair(p.apply("Left", Create.of("a")), leftTag, p.apply("Right", Create.of("b")), rightTag);

    assertThat(new ArrayList<>(pair.expand().keySet()), contains(leftTag, rightTag));
    List<PValue> values = new ArrayList<>(pair.expand().values());
    assertThat(values.get(0), sameInstance(pair.left));
    assertThat(values.get(1), sameInstance(pair.right));
    assertThat(pair.getPipeline(), sameInstance(p));
    p.run();
  }

  @Test
  public void aTagRegisteredTwiceFailsNamingIt() {
    TupleTag<String> tag = new TupleTag<>("twice");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Pair(p.apply("Left", Create.of("a")), tag, p.apply("Right", Create.of("b")), tag));
    assertThat(e.getMessage(), containsString("twice"));
    p.enableAbandonedNodeEnforcement(false);
  }

  @Test
  public void aSubclassIsTheOutputOfAComposite() {
    Pair pair = p.apply("MakePair", new MakePair());
    PAssert.that(pair.left).containsInAnyOrder("a");
    PAssert.that(pair.right).containsInAnyOrder("b");
    p.run();
  }
}
