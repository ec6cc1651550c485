package io.egosecure.core.spi;

import io.egosecure.core.NotFoundException;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the server keeps its state. Server-wide records (tenants, admin keys, the server audit
 * log) have methods of their own; everything that belongs to one tenant is reached only through
 * {@link #inTenant}, which hands out a transaction bound to that tenant. That is the one place
 * tenant scope is enforced in a store: no method can read or write two tenants at once.
 *
 * <pre>{@code
 * PolicyStore store = PolicyStore.inMemory();
 * long revision = store.inTenant(tenantId, tx -> tx.latestRevision().number());
 * }</pre>
 *
 * <p>Every implementation passes the contract suite {@code PolicyStoreContract} of this module's
 * test-jar. Implementations are thread-safe. Failures of the underlying database surface as
 * {@link io.egosecure.core.StoreUnavailableException}, never as driver exceptions.
 */
public interface PolicyStore extends AutoCloseable {

  /** A thread-safe store in this JVM's heap, for tests, demos and embedding. Nothing survives. */
  static PolicyStore inMemory() {
    return new InMemoryPolicyStore();
  }

  /**
   * Creates a tenant with its first revision (revision 0, no policies), atomically; in a
   * database-per-tenant store this provisions the tenant's database too.
   *
   * @throws IllegalStateException if a tenant with that id exists
   */
  void createTenant(Tenant tenant, RevisionSnapshot initialRevision);

  Optional<Tenant> tenant(TenantId id);

  /**
   * The tenants ordered by id.
   *
   * @param distributor only the tenants of this distributor key; empty for all
   */
  Page<Tenant> tenants(Optional<AdminKeyId> distributor, PageRequest page);

  /**
   * Deletes the tenant and everything it owns, its admin keys included.
   *
   * @return whether the tenant existed
   */
  boolean deleteTenant(TenantId id);

  /** Saves a new admin key. */
  void createAdminKey(AdminKey key);

  Optional<AdminKey> adminKey(AdminKeyId id);

  /**
   * Admin keys ordered by id.
   *
   * @param tenant a tenant's TENANT_ADMIN keys; empty for the server-wide (operator and
   *     distributor) keys
   */
  Page<AdminKey> adminKeys(Optional<TenantId> tenant, PageRequest page);

  /** @return whether the key existed */
  boolean deleteAdminKey(AdminKeyId id);

  /** Appends to the server-wide audit log; the entry names no tenant. */
  void appendServerAudit(AuditEntry entry);

  /** The server-wide audit log, newest first. */
  Page<AuditEntry> serverAudit(PageRequest page);

  /**
   * Runs {@code work} in one transaction on one tenant's data. Transactions on the same tenant
   * are serialised, so a read-then-write (the next revision number, an optimistic version) is
   * safe; if {@code work} throws, nothing it wrote is kept and the exception propagates.
   *
   * @throws NotFoundException if the tenant does not exist
   */
  <T> T inTenant(TenantId tenant, Function<TenantTransaction, T> work);

  /**
   * Checks that the store answers, for readiness probes.
   *
   * @throws io.egosecure.core.StoreUnavailableException if it does not
   */
  void checkReachable();

  /** Releases connections and files. Calls after this fail. */
  @Override
  void close();
}
