package io.egosecure.core;

import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.TenantId;
import java.util.Objects;
import java.util.Optional;

/**
 * An authenticated console caller. Only {@link PolicyServer#authenticateAdmin} makes one, so
 * holding a {@code Principal} means its key was checked; every admin operation takes one and
 * decides from it alone what the caller may see.
 */
public final class Principal {
  private final AdminKeyId keyId;
  private final String name;
  private final Role role;
  private final Optional<TenantId> tenantId;

  Principal(AdminKeyId keyId, String name, Role role, Optional<TenantId> tenantId) {
    this.keyId = Objects.requireNonNull(keyId, "keyId == null");
    this.name = Objects.requireNonNull(name, "name == null");
    this.role = Objects.requireNonNull(role, "role == null");
    this.tenantId = Objects.requireNonNull(tenantId, "tenantId == null");
  }

  /** The admin key the caller authenticated with. */
  public AdminKeyId keyId() {
    return keyId;
  }

  /** The key's name. */
  public String name() {
    return name;
  }

  public Role role() {
    return role;
  }

  /** The one tenant of a {@link Role#TENANT_ADMIN}; empty for other roles. */
  public Optional<TenantId> tenantId() {
    return tenantId;
  }

  /** How audit entries name this caller: {@code admin-key/<id>}. */
  public String actor() {
    return "admin-key/" + keyId.value();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Principal that
        && keyId.equals(that.keyId) && name.equals(that.name) && role == that.role
        && tenantId.equals(that.tenantId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, name, role, tenantId);
  }

  @Override
  public String toString() {
    return "Principal[" + keyId + ", " + role + tenantId.map(t -> ", tenant " + t).orElse("") + "]";
  }
}
