package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5), new Random(7));

  @Test
  void doublesTheCeilingUpToTheCap() {
    assertThat(backoff.ceiling(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(backoff.ceiling(2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(backoff.ceiling(5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(backoff.ceiling(9)).isEqualTo(Duration.ofSeconds(256));
    assertThat(backoff.ceiling(10)).isEqualTo(Duration.ofMinutes(5));
    assertThat(backoff.ceiling(1_000)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void spreadsDelaysOverTheWholeWindow() {
    Duration min = Duration.ofDays(1);
    Duration max = Duration.ZERO;
    for (int i = 0; i < 2_000; i++) {
      Duration delay = backoff.delay(4);
      assertThat(delay).isBetween(Duration.ZERO, Duration.ofSeconds(8));
      min = delay.compareTo(min) < 0 ? delay : min;
      max = delay.compareTo(max) > 0 ? delay : max;
    }
    // Full jitter: the fleet is spread from nearly nothing to nearly the ceiling.
    assertThat(min).isLessThan(Duration.ofMillis(100));
    assertThat(max).isGreaterThan(Duration.ofMillis(7_900));
  }

  @Test
  void aRetryNeverWaitsLongerThanTheFailureHasLastedNorLessThanTheInitialWindowAllows() {
    Duration longest = Duration.ZERO;
    Duration longestEarly = Duration.ZERO;
    for (int i = 0; i < 2_000; i++) {
      Duration delay = backoff.delay(5, Duration.ofSeconds(3));
      assertThat(delay).as("failing for 3 s, ceiling 16 s").isBetween(Duration.ZERO, Duration.ofSeconds(3));
      longest = delay.compareTo(longest) > 0 ? delay : longest;
      Duration early = backoff.delay(3, Duration.ofMillis(10));
      assertThat(early).as("failing for 10 ms: the initial 1 s still applies").isBetween(Duration.ZERO, Duration.ofSeconds(1));
      longestEarly = early.compareTo(longestEarly) > 0 ? early : longestEarly;
      assertThat(backoff.delay(2, Duration.ofHours(1))).as("a long failure: the doubling rules").isLessThanOrEqualTo(Duration.ofSeconds(2));
    }
    assertThat(longest).isGreaterThan(Duration.ofMillis(2_900));
    assertThat(longestEarly).isGreaterThan(Duration.ofMillis(900));
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new Random()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new Random()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
