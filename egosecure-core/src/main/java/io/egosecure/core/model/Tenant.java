package io.egosecure.core.model;

import java.time.Instant;
import java.util.Optional;

/**
 * One customer: its policies, agents, keys and revisions belong to it and to nothing else.
 *
 * @param distributor the distributor key that created it and may manage it; empty when an
 *     operator created it
 * @param polling the settings agents get in the {@code EgoSecure-Poll-Interval} headers
 */
public record Tenant(
    TenantId id,
    String name,
    Instant createdAt,
    Optional<AdminKeyId> distributor,
    PollingSettings polling) {
  public Tenant {
    Checks.notNull(id, "id");
    Checks.text(name, "name", Checks.MAX_NAME_LENGTH);
    createdAt = Checks.millis(createdAt, "createdAt");
    Checks.notNull(distributor, "distributor");
    Checks.notNull(polling, "polling");
  }

  public Tenant withPolling(PollingSettings polling) {
    return new Tenant(id, name, createdAt, distributor, polling);
  }
}
