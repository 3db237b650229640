package dev.batchserve.transforms.inference;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.junit.Assert.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntToLongFunction;
import org.junit.Test;

/** The hill climb of {@link AdaptiveBatchSize}, fed synthetic latencies (no clock involved). */
public class AdaptiveBatchSizeTest {

  /** A fixed call overhead, a cost per record, and a cliff beyond 64 records (quadratic). */
  private static long cliffAt64(int n) {
    long beyond = Math.max(0, n - 64);
    return 200_000L + 1_000L * n + beyond * beyond * 1_000L;
  }

  /** Feeds {@code batches} full batches and returns the size after each measured size. */
  private static List<Integer> run(AdaptiveBatchSize a, int batches, IntToLongFunction latency) {
    List<Integer> sizes = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      if (a.observe(a.size(), latency.applyAsLong(a.size()))) {
        sizes.add(a.size());
      }
    }
    return sizes;
  }

  @Test
  public void growsWhileTheTimePerRecordFallsThenSettlesOnTheBest() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(8, 1024);
    assertThat(a.size(), is(8));
    // 8 -> 16 -> 32 -> 64 -> 128 (worse per record) -> back to 64, three batches per size.
    assertThat(run(a, 15, AdaptiveBatchSizeTest::cliffAt64), contains(16, 32, 64, 128, 64));
    assertThat(a.isSettled(), is(true));
    assertThat(run(a, 149, AdaptiveBatchSizeTest::cliffAt64), empty());
    assertThat(a.size(), is(64));
    // After 50 settled measurements the climb is tried again: 128 is still worse.
    assertThat(run(a, 4, AdaptiveBatchSizeTest::cliffAt64), contains(128, 64));
  }

  /** Like {@link #cliffAt64}, with the cliff beyond 128 records. */
  private static long cliffAt128(int n) {
    long beyond = Math.max(0, n - 128);
    return 200_000L + 1_000L * n + beyond * beyond * 1_000L;
  }

  @Test
  public void theRetriedClimbFindsALargerSizeWhenTheCliffMoves() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(8, 1024);
    run(a, 15, AdaptiveBatchSizeTest::cliffAt64);
    assertThat(a.size(), is(64));
    assertThat(run(a, 156, AdaptiveBatchSizeTest::cliffAt128), contains(128, 256, 128));
    assertThat(a.size(), is(128));
  }

  @Test
  public void halvesAndClimbsAgainWhenTheLatencyRises() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(8, 1024);
    run(a, 15, AdaptiveBatchSizeTest::cliffAt64);
    // The machine gets three times slower: 64 is no longer as fast as measured, so the size halves
    // and the climb from 32 finds 64 again.
    assertThat(run(a, 12, n -> 3 * cliffAt64(n)), contains(32, 64, 128, 64));
    assertThat(a.size(), is(64));
  }

  @Test
  public void aFasterMachineKeepsTheSize() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(8, 1024);
    run(a, 15, AdaptiveBatchSizeTest::cliffAt64);
    assertThat(run(a, 30, n -> cliffAt64(n) / 2), empty());
    assertThat(a.size(), is(64));
  }

  @Test
  public void onlyAFixedOverheadGrowsToTheMaximumAndStaysInBounds() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(10, 100);
    assertThat(run(a, 100, n -> 1_000_000L + n), contains(20, 40, 80, 100));
    assertThat(a.isSettled(), is(true));
    assertThat(a.size(), is(100));
  }

  @Test
  public void theFastestOfThreeBatchesCountsAndOtherSizesAreIgnored() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(8, 64);
    // A partial batch (end of bundle, byte cap) is not a measurement of the current size.
    assertThat(a.observe(5, 1), is(false));
    assertThat(a.observe(8, 80_000_000), is(false)); // a GC pause
    assertThat(a.observe(8, 8_000), is(false));
    assertThat(a.observe(8, 90_000_000), is(true));  // third sample: the 8 us one counts
    assertThat(a.size(), is(16));
    // 16 records in 16 us (1 us/record) is not 10% better than 8 records in 8 us: back to 8.
    a.observe(16, 16_000);
    a.observe(16, 16_000);
    assertThat(a.observe(16, 16_000), is(true));
    assertThat(a.size(), is(8));
  }

  @Test
  public void equalBoundsFixTheSize() {
    AdaptiveBatchSize a = new AdaptiveBatchSize(32, 32);
    run(a, 20, AdaptiveBatchSizeTest::cliffAt64);
    assertThat(a.size(), is(32));
  }

  @Test
  public void boundsAreChecked() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveBatchSize(8, 4));
    assertThat(e.getMessage(), containsString("min 8, max 4"));
  }
}
