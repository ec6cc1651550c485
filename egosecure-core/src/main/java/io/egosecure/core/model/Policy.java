package io.egosecure.core.model;

import java.time.Instant;

/**
 * A policy as the server keeps it: the administrator's {@link PolicySpec} plus the id and the
 * optimistic {@code version} the server assigns. Edits are drafts until the next publish.
 *
 * @param version starts at 1 and grows by one with every change; {@code If-Match} names it
 */
public record Policy(PolicyId id, PolicySpec spec, long version, Instant updatedAt) {
  public Policy {
    Checks.notNull(id, "id");
    Checks.notNull(spec, "spec");
    if (version < 1) {
      throw new IllegalArgumentException("version starts at 1, was " + version);
    }
    updatedAt = Checks.millis(updatedAt, "updatedAt");
  }
}
