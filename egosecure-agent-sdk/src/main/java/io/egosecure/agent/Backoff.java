package io.egosecure.agent;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the n-th retry waits a uniformly random time between zero
 * and {@code min(cap, initial · 2^(n-1))}, so a fleet that lost its server together does not come
 * back together.
 */
final class Backoff {
  private final Duration initial;
  private final Duration cap;
  private final RandomGenerator random;

  Backoff(Duration initial, Duration cap, RandomGenerator random) {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial backoff must be positive, was " + initial);
    }
    if (cap.compareTo(initial) < 0) {
      throw new IllegalArgumentException("backoff cap " + cap + " is below the initial " + initial);
    }
    this.initial = initial;
    this.cap = cap;
    this.random = Objects.requireNonNull(random, "random == null");
  }

  /** @param attempt 1 for the first retry */
  Duration delay(int attempt) {
    return Duration.ofNanos((long) (random.nextDouble() * ceiling(attempt).toNanos()));
  }

  /** The longest the {@code attempt}-th retry may wait. */
  Duration ceiling(int attempt) {
    int doublings = Math.min(Math.max(attempt, 1) - 1, 40);
    long nanos = initial.toNanos() << Math.min(doublings, Long.numberOfLeadingZeros(initial.toNanos()) - 1);
    return nanos <= 0 || nanos > cap.toNanos() ? cap : Duration.ofNanos(nanos);
  }
}
