package io.egosecure.core.model;

import java.time.Instant;
import java.util.Optional;

/**
 * A console's credential. Operators and distributors hold server-wide keys; a tenant admin's key
 * names its one tenant.
 *
 * @param tenantId present exactly when {@code role} is {@link Role#TENANT_ADMIN}
 */
public record AdminKey(
    AdminKeyId id,
    String name,
    Role role,
    Optional<TenantId> tenantId,
    SecretHash secretHash,
    Instant createdAt) {
  public AdminKey {
    Checks.notNull(id, "id");
    Checks.text(name, "name", Checks.MAX_NAME_LENGTH);
    Checks.notNull(role, "role");
    Checks.notNull(tenantId, "tenantId");
    if (role == Role.AGENT) {
      throw new IllegalArgumentException("an admin key cannot have the role AGENT");
    }
    if ((role == Role.TENANT_ADMIN) != tenantId.isPresent()) {
      throw new IllegalArgumentException(
          "a TENANT_ADMIN key names its tenant and no other key does; was " + role + " " + tenantId);
    }
    Checks.notNull(secretHash, "secretHash");
    createdAt = Checks.millis(createdAt, "createdAt");
  }
}
