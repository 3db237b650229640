package dev.batchserve.transforms.monitoring;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.containsString;
import static org.junit.Assert.assertThrows;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** PSI, Jensen-Shannon and L-infinity against values computed by hand. */
@RunWith(JUnit4.class)
public class DriftTest {
  private static final long[] HALVES = {50, 50};
  private static final long[] SKEWED = {90, 10};

  @Test
  public void psiByHand() {
    // shares e = (.5, .5), a = (.9, .1): .4 ln(.9/.5) - .4 ln(.1/.5) = 0.2351147 + 0.6437752
    assertThat(Drift.psi(HALVES, SKEWED), closeTo(0.8788898309, 1e-9));
    // counts are normalised: the same shares at another scale give the same PSI
    assertThat(Drift.psi(new long[] {1, 1}, new long[] {9, 1}), closeTo(0.8788898309, 1e-9));
  }

  @Test
  public void psiOfIdenticalSharesIsZero() {
    assertThat(Drift.psi(new long[] {10, 20, 30}, new long[] {1, 2, 3}), closeTo(0, 1e-12));
  }

  @Test
  public void psiFloorsEmptyBucketsAtEpsilon() {
    // e = (1, 0 -> 1e-4), a = (.5, .5): -.5 ln(.5) + (.5 - 1e-4) ln(.5 / 1e-4)
    assertThat(Drift.psi(new long[] {100, 0}, new long[] {50, 50}), closeTo(4.6043184667, 1e-9));
    assertThat(Drift.psi(new long[] {100, 0}, new long[] {50, 50}, 1e-2),
        closeTo(-0.5 * Math.log(0.5) + 0.49 * Math.log(0.5 / 0.01), 1e-12));
  }

  @Test
  public void jensenShannonByHand() {
    // m = (.7, .3); JS = .5 KL(e||m) + .5 KL(a||m), base 2 = .5 * 0.1257694 + .5 * 0.1678168
    assertThat(Drift.jensenShannon(HALVES, SKEWED), closeTo(0.1467931024, 1e-9));
    assertThat(Drift.jensenShannon(HALVES, SKEWED), closeTo(Drift.jensenShannon(SKEWED, HALVES), 1e-15));
    // disjoint supports: the maximum, 1 bit
    assertThat(Drift.jensenShannon(new long[] {5, 0}, new long[] {0, 7}), closeTo(1.0, 1e-12));
  }

  @Test
  public void lInfinityByHand() {
    assertThat(Drift.lInfinity(HALVES, SKEWED), closeTo(0.4, 1e-12));
    // (.6, .4, 0) vs (.5, .25, .25)
    assertThat(Drift.lInfinity(new long[] {6, 4, 0}, new long[] {2, 1, 1}), closeTo(0.25, 1e-12));
  }

  @Test
  public void rejectsMismatchedOrEmptyDistributions() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Drift.psi(new long[] {1, 2}, new long[] {1}));
    assertThat(e.getMessage(), containsString("same, non-zero number of buckets, but had 2 and 1"));
    e = assertThrows(IllegalArgumentException.class, () -> Drift.lInfinity(new long[] {0, 0}, new long[] {1, 1}));
    assertThat(e.getMessage(), containsString("at least one observation"));
    e = assertThrows(IllegalArgumentException.class, () -> Drift.psi(HALVES, SKEWED, 0));
    assertThat(e.getMessage(), containsString("epsilon must be in (0, 1), but was 0.0"));
  }
}
