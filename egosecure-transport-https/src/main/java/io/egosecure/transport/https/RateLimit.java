package io.egosecure.transport.https;

/**
 * A rate limit per caller: {@code perSecond} sustained, bursts of up to {@code burst}.
 * Past it the server answers 429 with {@code Retry-After}.
 */
public record RateLimit(double perSecond, int burst) {
  public RateLimit {
    if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
      throw new IllegalArgumentException("perSecond must be positive, was " + perSecond);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("burst cannot be less than 1, was " + burst);
    }
  }
}
