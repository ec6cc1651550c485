package io.egosecure.core;

import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.TenantId;
import java.util.Objects;
import java.util.Optional;

/**
 * An authenticated console caller, from {@link PolicyServer#authenticateAdmin}. Every admin
 * operation takes one, and {@link PolicyServer} decides from it alone what the caller may see.
 *
 * @param tenantId the one tenant of a {@link Role#TENANT_ADMIN}; empty for other roles
 */
public record Principal(AdminKeyId keyId, String name, Role role, Optional<TenantId> tenantId) {
  public Principal {
    Objects.requireNonNull(keyId, "keyId == null");
    Objects.requireNonNull(name, "name == null");
    Objects.requireNonNull(role, "role == null");
    Objects.requireNonNull(tenantId, "tenantId == null");
  }

  /** How audit entries name this caller: {@code admin-key/<id>}. */
  public String actor() {
    return "admin-key/" + keyId.value();
  }
}
