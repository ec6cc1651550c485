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

  /**
   * As {@link #delay}, but never longer than {@code failingFor} (or the initial delay, if that is
   * longer): retries of something that has failed for {@code failingFor} spread over about that
   * long. After a short outage a fleet is back about as fast as it went, instead of over the
   * doubled windows its failed attempts built up (an agent that failed four times in a 4 s outage
   * would otherwise wait up to 8 s more).
   */
  Duration delay(int attempt, Duration failingFor) {
    long ceiling = Math.min(ceiling(attempt).toNanos(), Math.max(initial.toNanos(), failingFor.toNanos()));
    return Duration.ofNanos((long) (random.nextDouble() * ceiling));
  }

  /** The longest the {@code attempt}-th retry may wait. */
  Duration ceiling(int attempt) {
    int doublings = Math.min(Math.max(attempt, 1) - 1, 40);
    long nanos = initial.toNanos() << Math.min(doublings, Long.numberOfLeadingZeros(initial.toNanos()) - 1);
    return nanos <= 0 || nanos > cap.toNanos() ? cap : Duration.ofNanos(nanos);
  }
}
