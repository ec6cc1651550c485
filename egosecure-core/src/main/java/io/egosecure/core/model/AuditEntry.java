package io.egosecure.core.model;

import java.time.Instant;
import java.util.Optional;

/**
 * One admin change: who did what to which resource, when. Written in the same transaction as
 * the change it records.
 *
 * @param tenantId the tenant the change belongs to; empty for server-wide changes (admin keys,
 *     creating and deleting tenants appear in the server-wide log)
 * @param action a stable dotted name such as {@code policy.update}
 * @param target the resource, such as {@code policy/p-123}
 */
public record AuditEntry(
    Instant at, String actor, String action, String target, Optional<TenantId> tenantId) {
  public AuditEntry {
    at = Checks.millis(at, "at");
    Checks.notNull(actor, "actor");
    Checks.notNull(action, "action");
    Checks.notNull(target, "target");
    Checks.notNull(tenantId, "tenantId");
  }
}
