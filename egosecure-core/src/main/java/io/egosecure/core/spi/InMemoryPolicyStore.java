package io.egosecure.core.spi;

import io.egosecure.core.NotFoundException;
import io.egosecure.core.internal.Pages;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * {@link PolicyStore#inMemory()}: maps under locks. A tenant transaction holds its tenant's lock
 * and keeps an undo log, so a callback that throws leaves nothing behind.
 */
final class InMemoryPolicyStore implements PolicyStore {
  private final Object catalogLock = new Object();
  private final Map<TenantId, TenantData> tenants = new TreeMap<>();
  private final Map<AdminKeyId, AdminKey> adminKeys = new TreeMap<>();
  private final List<Sequenced> serverAudit = new ArrayList<>();
  private volatile boolean closed;

  @Override
  public void createTenant(Tenant tenant, RevisionSnapshot initialRevision) {
    Objects.requireNonNull(tenant, "tenant == null");
    if (initialRevision.number() != 0 || !initialRevision.policies().isEmpty()) {
      throw new IllegalArgumentException("a tenant starts at revision 0 with no policies");
    }
    synchronized (catalogLock) {
      checkOpen();
      if (tenants.containsKey(tenant.id())) {
        throw new IllegalStateException("tenant " + tenant.id() + " exists");
      }
      TenantData data = new TenantData(tenant);
      data.revisions.put(0L, initialRevision);
      tenants.put(tenant.id(), data);
    }
  }

  @Override
  public Optional<Tenant> tenant(TenantId id) {
    synchronized (catalogLock) {
      checkOpen();
      return Optional.ofNullable(tenants.get(id)).map(data -> data.tenant);
    }
  }

  @Override
  public Page<Tenant> tenants(Optional<AdminKeyId> distributor, PageRequest page) {
    List<Tenant> matching;
    synchronized (catalogLock) {
      checkOpen();
      matching =
          tenants.values().stream()
              .map(data -> data.tenant)
              .filter(t -> distributor.isEmpty() || t.distributor().equals(distributor))
              .toList();
    }
    return Pages.ascending(matching, t -> t.id().value(), page);
  }

  @Override
  public boolean deleteTenant(TenantId id) {
    TenantData data;
    synchronized (catalogLock) {
      checkOpen();
      data = tenants.get(id);
      if (data == null) {
        return false;
      }
    }
    // Lock order: a tenant, then the catalog, as inTenant does.
    data.lock.lock();
    try {
      synchronized (catalogLock) {
        if (tenants.remove(id) == null) {
          return false;
        }
        adminKeys.values().removeIf(key -> key.tenantId().equals(Optional.of(id)));
        data.deleted = true;
        return true;
      }
    } finally {
      data.lock.unlock();
    }
  }

  @Override
  public void createAdminKey(AdminKey key) {
    synchronized (catalogLock) {
      checkOpen();
      if (adminKeys.containsKey(key.id())) {
        throw new IllegalStateException("admin key " + key.id() + " exists");
      }
      if (key.tenantId().isPresent() && !tenants.containsKey(key.tenantId().get())) {
        throw new NotFoundException("tenant " + key.tenantId().get());
      }
      adminKeys.put(key.id(), key);
    }
  }

  @Override
  public Optional<AdminKey> adminKey(AdminKeyId id) {
    synchronized (catalogLock) {
      checkOpen();
      return Optional.ofNullable(adminKeys.get(id));
    }
  }

  @Override
  public Page<AdminKey> adminKeys(Optional<TenantId> tenant, PageRequest page) {
    List<AdminKey> matching;
    synchronized (catalogLock) {
      checkOpen();
      matching =
          adminKeys.values().stream()
              .filter(key -> key.tenantId().equals(tenant))
              .filter(key -> tenant.isPresent() || key.role() != Role.TENANT_ADMIN)
              .toList();
    }
    return Pages.ascending(matching, key -> key.id().value(), page);
  }

  @Override
  public boolean deleteAdminKey(AdminKeyId id) {
    synchronized (catalogLock) {
      checkOpen();
      return adminKeys.remove(id) != null;
    }
  }

  @Override
  public void appendServerAudit(AuditEntry entry) {
    if (entry.tenantId().isPresent()) {
      throw new IllegalArgumentException("a server-wide audit entry names no tenant: " + entry);
    }
    synchronized (catalogLock) {
      checkOpen();
      serverAudit.add(new Sequenced(serverAudit.size(), entry));
    }
  }

  @Override
  public Page<AuditEntry> serverAudit(PageRequest page) {
    List<Sequenced> newestFirst;
    synchronized (catalogLock) {
      checkOpen();
      newestFirst = new ArrayList<>(serverAudit);
    }
    Collections.reverse(newestFirst);
    return Pages.descending(newestFirst, Sequenced::sequence, page).map(Sequenced::entry);
  }

  @Override
  public <T> T inTenant(TenantId tenant, Function<TenantTransaction, T> work) {
    TenantData data;
    synchronized (catalogLock) {
      checkOpen();
      data = tenants.get(tenant);
    }
    if (data == null) {
      throw new NotFoundException("tenant " + tenant);
    }
    data.lock.lock();
    try {
      if (data.deleted) {
        throw new NotFoundException("tenant " + tenant);
      }
      Transaction tx = new Transaction(data);
      try {
        T result = work.apply(tx);
        tx.finish();
        return result;
      } catch (RuntimeException | Error e) {
        tx.rollback();
        throw e;
      }
    } finally {
      data.lock.unlock();
    }
  }

  @Override
  public void checkReachable() {
    checkOpen();
  }

  @Override
  public void close() {
    closed = true;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the store is closed");
    }
  }

  private record Sequenced(long sequence, AuditEntry entry) {}

  private static final class TenantData {
    final ReentrantLock lock = new ReentrantLock();
    final TreeMap<PolicyId, Policy> policies = new TreeMap<>();
    final TreeMap<Long, RevisionSnapshot> revisions = new TreeMap<>();
    final TreeMap<AgentId, Agent> agents = new TreeMap<>();
    final TreeMap<EnrollmentTokenId, EnrollmentToken> tokens = new TreeMap<>();
    final List<StoredSigningKey> signingKeys = new ArrayList<>();
    final List<Sequenced> audit = new ArrayList<>();
    /** The committed tenant; catalog reads see it without taking the tenant lock. */
    volatile Tenant tenant;
    boolean deleted;

    TenantData(Tenant tenant) {
      this.tenant = tenant;
    }
  }

  /**
   * Writes go straight to the maps under the tenant lock; the undo log reverts them on failure.
   * The tenant record is the exception: catalog reads see it without the tenant lock, so an
   * update is kept here and published on commit.
   */
  private static final class Transaction implements TenantTransaction {
    private final TenantData data;
    private final List<Runnable> undo = new ArrayList<>();
    private Tenant tenant;
    private boolean finished;

    Transaction(TenantData data) {
      this.data = data;
      this.tenant = data.tenant;
    }

    void finish() {
      data.tenant = tenant;
      finished = true;
    }

    void rollback() {
      for (int i = undo.size() - 1; i >= 0; i--) {
        undo.get(i).run();
      }
      finished = true;
    }

    private void checkActive() {
      if (finished) {
        throw new IllegalStateException("the transaction has ended");
      }
    }

    private void checkTenant(TenantId tenantId) {
      if (!data.tenant.id().equals(tenantId)) {
        throw new IllegalArgumentException(
            "a transaction on tenant " + data.tenant.id() + " cannot write tenant " + tenantId);
      }
    }

    private <K, V> void put(Map<K, V> map, K key, V value) {
      V previous = map.put(key, value);
      undo.add(() -> restore(map, key, previous));
    }

    private <K, V> boolean remove(Map<K, V> map, K key) {
      V previous = map.remove(key);
      if (previous != null) {
        undo.add(() -> map.put(key, previous));
      }
      return previous != null;
    }

    private static <K, V> void restore(Map<K, V> map, K key, V previous) {
      if (previous == null) {
        map.remove(key);
      } else {
        map.put(key, previous);
      }
    }

    private <E> void append(List<E> list, E element) {
      list.add(element);
      undo.add(() -> list.remove(list.size() - 1));
    }

    @Override
    public Tenant tenant() {
      checkActive();
      return tenant;
    }

    @Override
    public void updateTenant(Tenant tenant) {
      checkActive();
      checkTenant(tenant.id());
      Tenant previous = this.tenant;
      if (!previous.createdAt().equals(tenant.createdAt())
          || !previous.distributor().equals(tenant.distributor())) {
        throw new IllegalArgumentException("only a tenant's name and settings change");
      }
      this.tenant = tenant;
    }

    @Override
    public List<Policy> policies() {
      checkActive();
      return List.copyOf(data.policies.values());
    }

    @Override
    public Optional<Policy> policy(PolicyId id) {
      checkActive();
      return Optional.ofNullable(data.policies.get(id));
    }

    @Override
    public void putPolicy(Policy policy) {
      checkActive();
      put(data.policies, policy.id(), policy);
    }

    @Override
    public boolean deletePolicy(PolicyId id) {
      checkActive();
      return remove(data.policies, id);
    }

    @Override
    public RevisionSnapshot latestRevision() {
      checkActive();
      return data.revisions.lastEntry().getValue();
    }

    @Override
    public Optional<RevisionSnapshot> revision(long number) {
      checkActive();
      return Optional.ofNullable(data.revisions.get(number));
    }

    @Override
    public Page<Revision> revisions(PageRequest page) {
      checkActive();
      List<Revision> newestFirst =
          data.revisions.descendingMap().values().stream().map(RevisionSnapshot::revision).toList();
      return Pages.descending(newestFirst, Revision::number, page);
    }

    @Override
    public void addRevision(RevisionSnapshot revision) {
      checkActive();
      long expected = data.revisions.lastKey() + 1;
      if (revision.number() != expected) {
        throw new IllegalStateException(
            "tenant " + data.tenant.id() + " is at revision " + (expected - 1)
                + "; the next is " + expected + ", not " + revision.number());
      }
      put(data.revisions, revision.number(), revision);
    }

    @Override
    public List<Agent> agents() {
      checkActive();
      return List.copyOf(data.agents.values());
    }

    @Override
    public Optional<Agent> agent(AgentId id) {
      checkActive();
      return Optional.ofNullable(data.agents.get(id));
    }

    @Override
    public void putAgent(Agent agent) {
      checkActive();
      checkTenant(agent.tenantId());
      put(data.agents, agent.id(), agent);
    }

    @Override
    public boolean deleteAgent(AgentId id) {
      checkActive();
      return remove(data.agents, id);
    }

    @Override
    public void touchAgents(Map<AgentId, Instant> lastSeen) {
      checkActive();
      lastSeen.forEach(
          (id, at) -> {
            Agent agent = data.agents.get(id);
            if (agent != null
                && agent.lastSeenAt().map(previous -> previous.isBefore(at)).orElse(true)) {
              put(data.agents, id, agent.withLastSeenAt(at));
            }
          });
    }

    @Override
    public List<EnrollmentToken> enrollmentTokens() {
      checkActive();
      return List.copyOf(data.tokens.values());
    }

    @Override
    public Optional<EnrollmentToken> enrollmentToken(EnrollmentTokenId id) {
      checkActive();
      return Optional.ofNullable(data.tokens.get(id));
    }

    @Override
    public void putEnrollmentToken(EnrollmentToken token) {
      checkActive();
      checkTenant(token.tenantId());
      put(data.tokens, token.id(), token);
    }

    @Override
    public boolean deleteEnrollmentToken(EnrollmentTokenId id) {
      checkActive();
      return remove(data.tokens, id);
    }

    @Override
    public List<StoredSigningKey> signingKeys() {
      checkActive();
      return List.copyOf(data.signingKeys);
    }

    @Override
    public void addSigningKey(StoredSigningKey key) {
      checkActive();
      if (data.signingKeys.stream().anyMatch(k -> k.keyId().equals(key.keyId()))) {
        throw new IllegalStateException("signing key " + key.keyId() + " exists");
      }
      append(data.signingKeys, key);
    }

    @Override
    public void appendAudit(AuditEntry entry) {
      checkActive();
      checkTenant(entry.tenantId().orElse(null));
      append(data.audit, new Sequenced(data.audit.size(), entry));
    }

    @Override
    public Page<AuditEntry> audit(PageRequest page) {
      checkActive();
      List<Sequenced> newestFirst = new ArrayList<>(data.audit);
      Collections.reverse(newestFirst);
      return Pages.descending(newestFirst, Sequenced::sequence, page).map(Sequenced::entry);
    }
  }
}
