package io.egosecure.transport.https;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Token buckets per key (an agent, an admin key, an enrollment token's hash): each holds up to
 * {@code burst} requests and refills at {@code perSecond}. Idle full buckets are dropped so the
 * map stays as large as the set of active callers.
 */
final class RateLimiter {
  private static final int SWEEP_EVERY = 10_000;

  private final double perSecond;
  private final double burst;
  private final Clock clock;
  private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final AtomicInteger sinceSweep = new AtomicInteger();

  RateLimiter(RateLimit limit, Clock clock) {
    this.perSecond = limit.perSecond();
    this.burst = limit.burst();
    this.clock = clock;
  }

  /**
   * Takes one request from {@code key}'s bucket.
   *
   * @return empty if allowed; otherwise how long until the next request would be
   */
  Optional<Duration> acquire(String key) {
    long now = clock.millis();
    Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(burst, now));
    Optional<Duration> wait;
    synchronized (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.updated) / 1000.0 * perSecond);
      bucket.updated = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        wait = Optional.empty();
      } else {
        long millis = (long) Math.ceil((1 - bucket.tokens) / perSecond * 1000);
        wait = Optional.of(Duration.ofMillis(millis));
      }
    }
    if (sinceSweep.incrementAndGet() % SWEEP_EVERY == 0) {
      sweep(now);
    }
    return wait;
  }

  int trackedKeys() {
    return buckets.size();
  }

  private void sweep(long now) {
    buckets.entrySet().removeIf(entry -> {
      Bucket bucket = entry.getValue();
      synchronized (bucket) {
        return bucket.tokens + (now - bucket.updated) / 1000.0 * perSecond >= burst;
      }
    });
  }

  private static final class Bucket {
    double tokens;
    long updated;

    Bucket(double tokens, long updated) {
      this.tokens = tokens;
      this.updated = updated;
    }
  }
}
