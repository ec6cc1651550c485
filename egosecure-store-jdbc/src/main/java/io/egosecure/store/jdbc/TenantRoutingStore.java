package io.egosecure.store.jdbc;

import io.egosecure.core.NotFoundException;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.TenantTransaction;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-customer scheme: a catalog database holds tenants, admin keys and the server audit
 * log; each tenant's data lives in a database of its own. Behind the same {@link PolicyStore}
 * interface, so the server cannot tell the schemes apart.
 */
final class TenantRoutingStore implements PolicyStore {
  private static final Logger log = LoggerFactory.getLogger(TenantRoutingStore.class);

  private final JdbcPolicyStore catalog;
  private final TenantDatabases databases;
  private final ConcurrentMap<TenantId, JdbcPolicyStore> open = new ConcurrentHashMap<>();

  TenantRoutingStore(JdbcPolicyStore catalog, TenantDatabases databases) {
    this.catalog = catalog;
    this.databases = databases;
  }

  @Override
  public void createTenant(Tenant tenant, RevisionSnapshot initialRevision) {
    JdbcPolicyStore.checkInitial(initialRevision);
    if (catalog.tenant(tenant.id()).isPresent()) {
      throw new IllegalStateException("tenant " + tenant.id() + " exists");
    }
    // The tenant's database first, the catalog row last: a failure in between leaves a database
    // no one can reach rather than a tenant without data.
    databases.create(tenant.id());
    try {
      JdbcPolicyStore store = databases.open(tenant.id());
      open.put(tenant.id(), store);
      store.createTenant(tenant, initialRevision);
      catalog.createCatalogEntry(tenant);
    } catch (RuntimeException e) {
      closeQuietly(open.remove(tenant.id()));
      databases.drop(tenant.id());
      throw e;
    }
  }

  @Override
  public Optional<Tenant> tenant(TenantId id) {
    // The catalog knows the tenant exists; its own database has its current settings.
    return catalog.tenant(id).isEmpty() ? Optional.empty() : storeOf(id).tenant(id);
  }

  @Override
  public Page<Tenant> tenants(Optional<AdminKeyId> distributor, PageRequest page) {
    return catalog.tenants(distributor, page).map(t -> tenant(t.id()).orElse(t));
  }

  /**
   * Drops the tenant's database, then its catalog entry. In that order a failed drop leaves a
   * tenant that can be deleted again, never a database that nothing points to.
   */
  @Override
  public boolean deleteTenant(TenantId id) {
    if (catalog.tenant(id).isEmpty()) {
      return false;
    }
    closeQuietly(open.remove(id));
    databases.drop(id);
    return catalog.deleteTenant(id);
  }

  @Override
  public void createAdminKey(AdminKey key) {
    catalog.createAdminKey(key);
  }

  @Override
  public Optional<AdminKey> adminKey(AdminKeyId id) {
    return catalog.adminKey(id);
  }

  @Override
  public Page<AdminKey> adminKeys(Optional<TenantId> tenant, PageRequest page) {
    return catalog.adminKeys(tenant, page);
  }

  @Override
  public boolean deleteAdminKey(AdminKeyId id) {
    return catalog.deleteAdminKey(id);
  }

  @Override
  public void appendServerAudit(AuditEntry entry) {
    catalog.appendServerAudit(entry);
  }

  @Override
  public Page<AuditEntry> serverAudit(PageRequest page) {
    return catalog.serverAudit(page);
  }

  @Override
  public <T> T inTenant(TenantId tenant, Function<TenantTransaction, T> work) {
    return storeOf(tenant).inTenant(tenant, work);
  }

  /**
   * The tenant's store. The catalog is asked every time: it is the authority on which tenants
   * exist, so a tenant deleted through another node stops here too, and a request for an unknown
   * tenant never creates a database.
   */
  private JdbcPolicyStore storeOf(TenantId tenant) {
    if (catalog.tenant(tenant).isEmpty()) {
      closeQuietly(open.remove(tenant));
      throw new NotFoundException("tenant " + tenant);
    }
    return open.computeIfAbsent(tenant, databases::open);
  }

  @Override
  public void checkReachable() {
    catalog.checkReachable();
  }

  @Override
  public void close() {
    open.values().forEach(TenantRoutingStore::closeQuietly);
    open.clear();
    databases.close();
    catalog.close();
  }

  private static void closeQuietly(JdbcPolicyStore store) {
    if (store != null) {
      try {
        store.close();
      } catch (RuntimeException e) {
        log.warn("closing {} failed: {}", store, e.toString());
      }
    }
  }
}
