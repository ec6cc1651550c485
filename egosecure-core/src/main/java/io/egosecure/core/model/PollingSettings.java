package io.egosecure.core.model;

import io.egosecure.core.ValidationException;
import java.time.Duration;

/**
 * How often a tenant's agents poll, and how much random spread each adds so a fleet does not
 * poll in lock-step.
 *
 * @param interval between {@link #MIN_INTERVAL} and {@link #MAX_INTERVAL}, in whole seconds
 * @param jitterPercent 0 to {@link #MAX_JITTER_PERCENT}: each poll waits {@code interval ± jitter%}
 */
public record PollingSettings(Duration interval, int jitterPercent) {
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(5);
  public static final Duration MAX_INTERVAL = Duration.ofDays(1);
  public static final int MAX_JITTER_PERCENT = 50;

  /** 60 seconds, 10 % jitter. */
  public static final PollingSettings DEFAULT = new PollingSettings(Duration.ofSeconds(60), 10);

  public PollingSettings {
    Checks.notNull(interval, "intervalSeconds");
    if (interval.compareTo(MIN_INTERVAL) < 0
        || interval.compareTo(MAX_INTERVAL) > 0
        || interval.toNanosPart() != 0) {
      throw new ValidationException(
          "intervalSeconds",
          "must be whole seconds from "
              + MIN_INTERVAL.toSeconds()
              + " to "
              + MAX_INTERVAL.toSeconds()
              + ", was "
              + interval);
    }
    if (jitterPercent < 0 || jitterPercent > MAX_JITTER_PERCENT) {
      throw new ValidationException(
          "jitterPercent", "must be 0 to " + MAX_JITTER_PERCENT + ", was " + jitterPercent);
    }
  }
}
