package io.egosecure.core.testing;

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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A real store that counts calls, to prove a path (the 304 poll) never reaches it, and
 * transactions, to prove work is grouped.
 */
public final class CountingStore implements PolicyStore {
  private final PolicyStore delegate;
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong transactions = new AtomicLong();
  private volatile Runnable gate = () -> { };

  public CountingStore(PolicyStore delegate) {
    this.delegate = delegate;
  }

  public long calls() {
    return calls.get();
  }

  /** Tenant transactions begun so far. */
  public long transactions() {
    return transactions.get();
  }

  /**
   * Runs {@code gate} before each tenant transaction from now on, on the calling thread: a test
   * holds the store busy there while work queues up behind it.
   */
  public void beforeEachTransaction(Runnable gate) {
    this.gate = gate;
  }

  @Override
  public void createTenant(Tenant tenant, RevisionSnapshot initialRevision) {
    calls.incrementAndGet();
    delegate.createTenant(tenant, initialRevision);
  }

  @Override
  public Optional<Tenant> tenant(TenantId id) {
    calls.incrementAndGet();
    return delegate.tenant(id);
  }

  @Override
  public Page<Tenant> tenants(Optional<AdminKeyId> distributor, PageRequest page) {
    calls.incrementAndGet();
    return delegate.tenants(distributor, page);
  }

  @Override
  public boolean deleteTenant(TenantId id) {
    calls.incrementAndGet();
    return delegate.deleteTenant(id);
  }

  @Override
  public void createAdminKey(AdminKey key) {
    calls.incrementAndGet();
    delegate.createAdminKey(key);
  }

  @Override
  public Optional<AdminKey> adminKey(AdminKeyId id) {
    calls.incrementAndGet();
    return delegate.adminKey(id);
  }

  @Override
  public Page<AdminKey> adminKeys(Optional<TenantId> tenant, PageRequest page) {
    calls.incrementAndGet();
    return delegate.adminKeys(tenant, page);
  }

  @Override
  public boolean deleteAdminKey(AdminKeyId id) {
    calls.incrementAndGet();
    return delegate.deleteAdminKey(id);
  }

  @Override
  public void appendServerAudit(AuditEntry entry) {
    calls.incrementAndGet();
    delegate.appendServerAudit(entry);
  }

  @Override
  public Page<AuditEntry> serverAudit(PageRequest page) {
    calls.incrementAndGet();
    return delegate.serverAudit(page);
  }

  @Override
  public <T> T inTenant(TenantId tenant, Function<TenantTransaction, T> work) {
    calls.incrementAndGet();
    transactions.incrementAndGet();
    gate.run();
    return delegate.inTenant(tenant, work);
  }

  @Override
  public void checkReachable() {
    calls.incrementAndGet();
    delegate.checkReachable();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
