package io.egosecure.core;

import io.egosecure.core.model.Role;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.PolicyStore;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The one place that decides what an admin caller may see and do. A tenant the caller may not
 * see is answered exactly like a tenant that does not exist.
 */
final class Access {
  private final PolicyStore store;

  Access(PolicyStore store) {
    this.store = store;
  }

  /** Fails with 403 unless the caller's role is one of {@code allowed}. */
  static void requireRole(Principal caller, Role first, Role... more) {
    Set<Role> allowed = EnumSet.of(first, more);
    if (!allowed.contains(caller.role())) {
      throw new ForbiddenException(
          "the role " + caller.role() + " may not do this; it takes " + allowed);
    }
  }

  /** The tenant, if the caller may see it; otherwise the same 404 as for a missing tenant. */
  Tenant visibleTenant(Principal caller, TenantId id) {
    Optional<Tenant> tenant =
        canSee(caller, id) ? store.tenant(id).filter(t -> owns(caller, t)) : Optional.empty();
    return tenant.orElseThrow(() -> new NotFoundException("tenant " + id));
  }

  /** Fails with 404 unless the caller may see the tenant, then with 403 unless its role fits. */
  Tenant visibleTenant(Principal caller, TenantId id, Role first, Role... more) {
    Tenant tenant = visibleTenant(caller, id);
    requireRole(caller, first, more);
    return tenant;
  }

  private static boolean canSee(Principal caller, TenantId id) {
    return switch (caller.role()) {
      case OPERATOR, DISTRIBUTOR -> true;
      case TENANT_ADMIN -> caller.tenantId().equals(Optional.of(id));
      case AGENT -> false;
    };
  }

  private static boolean owns(Principal caller, Tenant tenant) {
    return caller.role() != Role.DISTRIBUTOR
        || tenant.distributor().equals(Optional.of(caller.keyId()));
  }
}
