package dev.batchserve.transforms.serving;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.time.Instant;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.JUnit4;

/** {@link Age}: counted from the publish, never negative, written for people and in whole seconds. */
@RunWith(JUnit4.class)
public class AgeTest {
  private static final Instant PUBLISHED = Instant.parse("2026-11-29T03:00:00Z");

  @Test
  public void countsFromThePublishInWholeSeconds() {
    Age age = Age.since(PUBLISHED, PUBLISHED.plus(Duration.ofMinutes(192)).plusMillis(999));
    assertThat(age.seconds(), equalTo(11_520L));
    assertThat(age.human(), equalTo("3h 12m"));
  }

  @Test
  public void aPublishAheadOfTheReadersClockIsAgeZero() {
    Age age = Age.since(PUBLISHED, PUBLISHED.minusSeconds(30));
    assertThat(age.duration(), equalTo(Duration.ZERO));
    assertThat(age.seconds(), equalTo(0L));
    assertThat(age.human(), equalTo("0s"));
  }

  @Test
  public void humanLeavesOutZeroParts() {
    assertThat(Age.human(Duration.ofSeconds(42)), equalTo("42s"));
    assertThat(Age.human(Duration.ofHours(36).plusSeconds(1)), equalTo("1d 12h 1s"));
    assertThat(Age.human(Duration.ofDays(2)), equalTo("2d"));
    assertThat(Age.human(Duration.ofMinutes(-5)), equalTo("0s"));
  }
}
