package io.egosecure.core;

import static java.util.Objects.requireNonNull;

import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.AgentStatus;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.Compliance;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.SecretHash;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.internal.Pages;
import io.egosecure.core.spi.Change;
import io.egosecure.core.spi.ChangeFeed;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.TenantTransaction;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.crypto.SecretKey;

/**
 * The policy server: every admin operation of the v1 API and every agent operation, over any
 * {@link PolicyStore}. Transports authenticate a bearer secret, call one method, and write what
 * it returns; role checks, tenant scope, audit and signing all happen here.
 *
 * <pre>{@code
 * PolicyServer server = PolicyServer.builder()
 *     .store(PolicyStore.inMemory())
 *     .masterKey(KeyVault.generateMasterKey())
 *     .build();
 * server.start();
 * IssuedAdminKey operator = server.bootstrapOperatorKey("bootstrap").orElseThrow();
 * Principal admin = server.authenticateAdmin(operator.secret());
 * Tenant tenant = server.createTenant(admin, "Acme");
 * }</pre>
 *
 * <p>Admin methods take the caller's {@link Principal} and fail with {@link ForbiddenException}
 * when its role may not use the operation, and with {@link NotFoundException} for anything it may
 * not see, exactly as for what does not exist. Every admin change writes an audit entry in the
 * same transaction. Agent polls are answered from memory ({@link #poll}); the store is read only
 * by admin operations, enrollment and status reports.
 *
 * <p>{@link #start()} loads the index and starts the write-behind task; {@link #close()} stops
 * them. The server does not own, and never closes, the store, feed or vault it was given.
 */
public final class PolicyServer implements AutoCloseable {
  private static final String SYSTEM_ACTOR = "system";

  private final PolicyStore store;
  private final ChangeFeed changeFeed;
  private final KeyVault keyVault;
  private final Clock clock;
  private final Secrets secrets;
  private final PollingSettings defaultPolling;
  private final Duration policySetValidity;
  private final Duration lastSeenFlushInterval;
  private final ScheduledExecutorService givenScheduler;
  private final Access access;
  private final FleetIndex index;
  private final StatusWriter statusWriter;
  private final List<PolicyServerListener> listeners = new CopyOnWriteArrayList<>();

  private final Object lifecycle = new Object();
  private ScheduledExecutorService scheduler;
  private AutoCloseable subscription;
  private ScheduledFuture<?> flushTask;
  // Read on every poll: volatile, not under the lifecycle lock.
  private volatile boolean started;
  private volatile boolean closed;

  private PolicyServer(Builder builder) {
    this.store = builder.store;
    this.changeFeed = builder.changeFeed != null ? builder.changeFeed : ChangeFeed.inProcess();
    this.keyVault =
        builder.keyVault != null
            ? builder.keyVault
            : KeyVault.sealedInStore(builder.store, builder.masterKey);
    this.clock = builder.clock;
    this.secrets = new Secrets(builder.secureRandom);
    this.defaultPolling = builder.defaultPolling;
    this.policySetValidity = builder.policySetValidity;
    this.lastSeenFlushInterval = builder.lastSeenFlushInterval;
    this.givenScheduler = builder.scheduler;
    this.access = new Access(store);
    this.index =
        new FleetIndex(store, keyVault, clock, policySetValidity, builder.executor, listeners);
    this.statusWriter = new StatusWriter(store);
  }

  public static Builder builder() {
    return new Builder();
  }

  // --- lifecycle ---

  /**
   * Loads every tenant's current revision and every agent's credential hash into memory,
   * subscribes to the change feed and starts writing last-seen times behind.
   *
   * @throws StoreUnavailableException if the store cannot be read
   */
  public void start() {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException(closed ? "the server is closed" : "the server has started");
      }
      scheduler = givenScheduler != null ? givenScheduler : ownScheduler();
      // Subscribe first, then load: a change committed in between is applied twice, never lost.
      subscription = changeFeed.subscribe(index);
      try {
        index.start(scheduler);
      } catch (RuntimeException e) {
        closeQuietly(subscription);
        if (scheduler != givenScheduler) {
          scheduler.shutdownNow();
        }
        throw e;
      }
      flushTask =
          scheduler.scheduleWithFixedDelay(
              index::flushLastSeen,
              lastSeenFlushInterval.toMillis(),
              lastSeenFlushInterval.toMillis(),
              TimeUnit.MILLISECONDS);
      started = true;
    }
  }

  /** Answers parked polls, writes pending last-seen times, and stops its own threads. */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (!started || closed) {
        closed = true;
        return;
      }
      closed = true;
      flushTask.cancel(false);
      closeQuietly(subscription);
      index.releaseAll();
      statusWriter.close();
      index.flushLastSeen();
      if (scheduler != givenScheduler) {
        scheduler.shutdownNow();
      }
    }
  }

  private static void closeQuietly(AutoCloseable subscription) {
    try {
      subscription.close();
    } catch (Exception e) {
      // Unsubscribing cannot fail in a way that matters at shutdown.
    }
  }

  private static ScheduledExecutorService ownScheduler() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "egosecure-policy-server");
              thread.setDaemon(true);
              return thread;
            });
    // Parked polls cancel their timeouts when a change answers them; drop those at once.
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /** Registers a listener for events a transport acts on (push, closing revoked sockets). */
  public void addListener(PolicyServerListener listener) {
    listeners.add(requireNonNull(listener, "listener == null"));
  }

  public void removeListener(PolicyServerListener listener) {
    listeners.remove(listener);
  }

  /** Polls parked now, waiting for a change: for metrics and admission limits. */
  public int parkedPolls() {
    return index.parkedPolls();
  }

  /**
   * Checks the store answers.
   *
   * @throws StoreUnavailableException if it does not
   */
  public void checkReady() {
    store.checkReachable();
  }

  // --- authentication ---

  /**
   * The caller an admin key belongs to.
   *
   * @throws UnauthenticatedException if the key is malformed, unknown or deleted, or is not an
   *     admin key at all
   */
  public Principal authenticateAdmin(String bearer) {
    Optional<Secrets.Parsed> parsed = Secrets.parse(Secrets.Kind.ADMIN_KEY, bearer);
    Optional<AdminKey> key =
        parsed
            .flatMap(p -> store.adminKey(AdminKeyId.of(p.id())))
            .filter(k -> k.secretHash().matches(bearer));
    return key.map(k -> new Principal(k.id(), k.name(), k.role(), k.tenantId()))
        .orElseThrow(() -> new UnauthenticatedException("the admin key is not valid"));
  }

  /**
   * The agent a credential belongs to, from memory.
   *
   * @throws UnauthenticatedException if the credential is malformed, unknown or revoked
   */
  public AgentIdentity authenticateAgent(String bearer) {
    requireStarted();
    return index.authenticate(bearer);
  }

  /**
   * The agent a credential belongs to if this node holds that agent, from memory alone: never
   * reads the store and never blocks, for transports that answer polls on an I/O thread. Empty
   * means "ask {@link #authenticateAgent}", which also finds an agent enrolled through another
   * node a moment ago, and refuses the rest.
   */
  public Optional<AgentIdentity> authenticateKnownAgent(String bearer) {
    requireStarted();
    return index.authenticateKnown(bearer);
  }

  /**
   * The revision the agent's tenant stands at, from memory, if the agent is still enrolled: what a
   * push channel tells a socket that opens, so an agent that reconnects learns whether it missed a
   * publish without polling. Empty if the agent was revoked (or this node does not hold it).
   */
  public OptionalLong currentRevision(AgentIdentity agent) {
    requireNonNull(agent, "agent == null");
    return index.currentRevision(agent);
  }

  /**
   * Creates the first operator key of a new installation, unless a server-wide admin key exists.
   *
   * @return the key and its secret, or empty if the server already has a server-wide key
   */
  public Optional<IssuedAdminKey> bootstrapOperatorKey(String name) {
    synchronized (lifecycle) {
      if (!store.adminKeys(Optional.empty(), PageRequest.first(1)).items().isEmpty()) {
        return Optional.empty();
      }
      IssuedAdminKey issued = newAdminKey(name, Role.OPERATOR, Optional.empty());
      store.createAdminKey(issued.key());
      store.appendServerAudit(audit(SYSTEM_ACTOR, "admin-key.create", issued.key(), Optional.empty()));
      return Optional.of(issued);
    }
  }

  // --- server-wide admin keys (operator only) ---

  /** Creates an OPERATOR or DISTRIBUTOR key. Operators only. */
  public IssuedAdminKey createAdminKey(Principal caller, String name, Role role) {
    Access.requireRole(caller, Role.OPERATOR);
    if (role != Role.OPERATOR && role != Role.DISTRIBUTOR) {
      throw new ValidationException(
          "role", "must be OPERATOR or DISTRIBUTOR here; tenant admin keys are made per tenant");
    }
    IssuedAdminKey issued = newAdminKey(name, role, Optional.empty());
    store.createAdminKey(issued.key());
    store.appendServerAudit(audit(caller.actor(), "admin-key.create", issued.key(), Optional.empty()));
    return issued;
  }

  public Page<AdminKey> adminKeys(Principal caller, PageRequest page) {
    Access.requireRole(caller, Role.OPERATOR);
    return store.adminKeys(Optional.empty(), page);
  }

  /**
   * Deletes a server-wide key; it stops working at once. The last operator key cannot be deleted,
   * so an installation cannot lock itself out.
   */
  public void deleteAdminKey(Principal caller, AdminKeyId id) {
    Access.requireRole(caller, Role.OPERATOR);
    AdminKey key =
        store.adminKey(id)
            .filter(k -> k.tenantId().isEmpty())
            .orElseThrow(() -> new NotFoundException("admin key " + id));
    if (key.role() == Role.OPERATOR && operatorKeys() <= 1) {
      throw new ValidationException("id", "the last operator key cannot be deleted");
    }
    store.deleteAdminKey(id);
    store.appendServerAudit(audit(caller.actor(), "admin-key.delete", key, Optional.empty()));
  }

  private long operatorKeys() {
    long count = 0;
    PageRequest request = PageRequest.first(PageRequest.MAX_LIMIT);
    while (true) {
      Page<AdminKey> page = store.adminKeys(Optional.empty(), request);
      count += page.items().stream().filter(k -> k.role() == Role.OPERATOR).count();
      if (page.next().isEmpty()) {
        return count;
      }
      request = request.after(page.next().get());
    }
  }

  // --- tenants ---

  /** Creates a tenant at revision 0. A distributor becomes its owner. */
  public Tenant createTenant(Principal caller, String name) {
    Access.requireRole(caller, Role.OPERATOR, Role.DISTRIBUTOR);
    Instant now = now();
    Tenant tenant =
        new Tenant(
            TenantId.of(secrets.newId("t")),
            name,
            now,
            caller.role() == Role.DISTRIBUTOR ? Optional.of(caller.keyId()) : Optional.empty(),
            defaultPolling);
    Revision initial = new Revision(0, now, "initial empty revision", caller.actor());
    store.createTenant(tenant, new RevisionSnapshot(initial, defaultPolling, List.of()));
    store.appendServerAudit(
        new AuditEntry(now, caller.actor(), "tenant.create", "tenant/" + tenant.id(), Optional.empty()));
    changeFeed.publish(new Change.TenantChanged(tenant.id()));
    return tenant;
  }

  /** The tenants the caller may see, ordered by id. */
  public Page<Tenant> tenants(Principal caller, PageRequest page) {
    return switch (caller.role()) {
      case OPERATOR -> store.tenants(Optional.empty(), page);
      case DISTRIBUTOR -> store.tenants(Optional.of(caller.keyId()), page);
      case TENANT_ADMIN -> Pages.ascending(
          store.tenant(caller.tenantId().orElseThrow()).stream().toList(),
          t -> t.id().value(),
          page);
      case AGENT -> throw new ForbiddenException("agents have no admin access");
    };
  }

  public Tenant tenant(Principal caller, TenantId id) {
    return access.visibleTenant(caller, id);
  }

  /**
   * Deletes a tenant and all its data; its credentials stop working at once, on every node.
   * Operators, and the distributor that owns it.
   */
  public void deleteTenant(Principal caller, TenantId id) {
    access.visibleTenant(caller, id, Role.OPERATOR, Role.DISTRIBUTOR);
    if (!store.deleteTenant(id)) {
      throw new NotFoundException("tenant " + id);
    }
    try {
      store.appendServerAudit(
          new AuditEntry(now(), caller.actor(), "tenant.delete", "tenant/" + id, Optional.empty()));
    } finally {
      // The tenant is gone whatever happens to the audit entry: its credentials must stop now.
      changeFeed.publish(new Change.TenantChanged(id));
    }
  }

  public PollingSettings polling(Principal caller, TenantId tenant) {
    return access.visibleTenant(caller, tenant).polling();
  }

  /** Changes how often the tenant's agents poll; agents learn it from their next poll's headers. */
  public PollingSettings updatePolling(Principal caller, TenantId tenant, PollingSettings polling) {
    requireNonNull(polling, "polling == null");
    access.visibleTenant(caller, tenant);
    inTenant(caller, tenant, "polling.update", "tenant/" + tenant, tx -> {
      tx.updateTenant(tx.tenant().withPolling(polling));
      return null;
    });
    changeFeed.publish(new Change.TenantChanged(tenant));
    return polling;
  }

  // --- tenant admin keys ---

  public IssuedAdminKey createTenantAdminKey(Principal caller, TenantId tenant, String name) {
    access.visibleTenant(caller, tenant);
    IssuedAdminKey issued = newAdminKey(name, Role.TENANT_ADMIN, Optional.of(tenant));
    store.createAdminKey(issued.key());
    inTenant(caller, tenant, "admin-key.create", "admin-key/" + issued.key().id(), tx -> null);
    return issued;
  }

  public Page<AdminKey> tenantAdminKeys(Principal caller, TenantId tenant, PageRequest page) {
    access.visibleTenant(caller, tenant);
    return store.adminKeys(Optional.of(tenant), page);
  }

  public void deleteTenantAdminKey(Principal caller, TenantId tenant, AdminKeyId id) {
    access.visibleTenant(caller, tenant);
    store.adminKey(id)
        .filter(key -> key.tenantId().equals(Optional.of(tenant)))
        .orElseThrow(() -> new NotFoundException("admin key " + id));
    store.deleteAdminKey(id);
    inTenant(caller, tenant, "admin-key.delete", "admin-key/" + id, tx -> null);
  }

  // --- enrollment tokens ---

  /**
   * Issues a token endpoints enroll with.
   *
   * @param groups the groups every agent enrolled with it starts in
   */
  public IssuedEnrollmentToken createEnrollmentToken(
      Principal caller, TenantId tenant, Duration expiresIn, int maxUses, Set<String> groups) {
    requireNonNull(expiresIn, "expiresIn == null");
    access.visibleTenant(caller, tenant);
    Instant now = now();
    EnrollmentTokenId id = EnrollmentTokenId.of(secrets.newId("et"));
    String secret = secrets.issue(Secrets.Kind.ENROLLMENT_TOKEN, Optional.of(tenant), id.value());
    EnrollmentToken token =
        new EnrollmentToken(
            id, tenant, SecretHash.of(secret), groups, now,
            now.plus(expiresIn.truncatedTo(ChronoUnit.MILLIS)), maxUses, 0);
    inTenant(caller, tenant, "enrollment-token.create", "enrollment-token/" + id, tx -> {
      tx.putEnrollmentToken(token);
      return null;
    });
    return new IssuedEnrollmentToken(token, secret);
  }

  public Page<EnrollmentToken> enrollmentTokens(Principal caller, TenantId tenant, PageRequest page) {
    access.visibleTenant(caller, tenant);
    return Pages.ascending(
        store.inTenant(tenant, TenantTransaction::enrollmentTokens), t -> t.id().value(), page);
  }

  /** Revokes a token; agents it already enrolled stay enrolled. */
  public void deleteEnrollmentToken(Principal caller, TenantId tenant, EnrollmentTokenId id) {
    access.visibleTenant(caller, tenant);
    inTenant(caller, tenant, "enrollment-token.delete", "enrollment-token/" + id, tx -> {
      if (!tx.deleteEnrollmentToken(id)) {
        throw new NotFoundException("enrollment token " + id);
      }
      return null;
    });
  }

  // --- policies (drafts) ---

  public Policy createPolicy(Principal caller, TenantId tenant, PolicySpec spec) {
    requireNonNull(spec, "spec == null");
    access.visibleTenant(caller, tenant);
    Policy policy = new Policy(PolicyId.of(secrets.newId("p")), spec, 1, now());
    return inTenant(caller, tenant, "policy.create", "policy/" + policy.id(), tx -> {
      tx.putPolicy(policy);
      return policy;
    });
  }

  /** The drafts, ordered by id. */
  public Page<Policy> policies(Principal caller, TenantId tenant, PageRequest page) {
    access.visibleTenant(caller, tenant);
    return Pages.ascending(store.inTenant(tenant, TenantTransaction::policies), p -> p.id().value(), page);
  }

  public Policy policy(Principal caller, TenantId tenant, PolicyId id) {
    access.visibleTenant(caller, tenant);
    return store.inTenant(tenant, tx -> tx.policy(id))
        .orElseThrow(() -> new NotFoundException("policy " + id));
  }

  /**
   * Replaces a draft if it is still at {@code expectedVersion}.
   *
   * @throws VersionConflictException if somebody changed it first
   */
  public Policy updatePolicy(
      Principal caller, TenantId tenant, PolicyId id, long expectedVersion, PolicySpec spec) {
    requireNonNull(spec, "spec == null");
    access.visibleTenant(caller, tenant);
    return inTenant(caller, tenant, "policy.update", "policy/" + id, tx -> {
      Policy current = currentVersion(tx, id, expectedVersion);
      Policy updated = new Policy(id, spec, current.version() + 1, now());
      tx.putPolicy(updated);
      return updated;
    });
  }

  /**
   * Deletes a draft if it is still at {@code expectedVersion}; agents lose it at the next publish.
   *
   * @throws VersionConflictException if somebody changed it first
   */
  public void deletePolicy(Principal caller, TenantId tenant, PolicyId id, long expectedVersion) {
    access.visibleTenant(caller, tenant);
    inTenant(caller, tenant, "policy.delete", "policy/" + id, tx -> {
      currentVersion(tx, id, expectedVersion);
      tx.deletePolicy(id);
      return null;
    });
  }

  private static Policy currentVersion(TenantTransaction tx, PolicyId id, long expectedVersion) {
    Policy current = tx.policy(id).orElseThrow(() -> new NotFoundException("policy " + id));
    if (current.version() != expectedVersion) {
      throw new VersionConflictException("policy " + id, expectedVersion, current.version());
    }
    return current;
  }

  // --- publishing ---

  /**
   * Turns the current drafts (policies and agent groups) into the next revision, atomically. With
   * nothing changed since the current revision, makes none and returns the current one.
   */
  public PublishResult publish(Principal caller, TenantId tenant, String comment) {
    requireNonNull(comment, "comment == null");
    access.visibleTenant(caller, tenant);
    return announce(tenant, store.inTenant(tenant, tx -> publishDrafts(tx, caller, comment)));
  }

  /** Revisions newest first. */
  public Page<Revision> revisions(Principal caller, TenantId tenant, PageRequest page) {
    access.visibleTenant(caller, tenant);
    return store.inTenant(tenant, tx -> tx.revisions(page));
  }

  /**
   * Resets the drafts to revision {@code number}'s policies and publishes them, atomically.
   * Restored policies get a new version, so a console holding an old {@code If-Match} is told.
   */
  public PublishResult restore(Principal caller, TenantId tenant, long number) {
    access.visibleTenant(caller, tenant);
    Published result =
        store.inTenant(
            tenant,
            tx -> {
              RevisionSnapshot target =
                  tx.revision(number).orElseThrow(() -> new NotFoundException("revision " + number));
              Instant now = now();
              Map<PolicyId, Policy> wanted = new HashMap<>();
              target.policies().forEach(p -> wanted.put(p.id(), p));
              for (Policy draft : tx.policies()) {
                if (!wanted.containsKey(draft.id())) {
                  tx.deletePolicy(draft.id());
                }
              }
              for (Policy old : target.policies()) {
                Optional<Policy> draft = tx.policy(old.id());
                if (draft.isEmpty() || !draft.get().spec().equals(old.spec())) {
                  long version = Math.max(old.version(), draft.map(Policy::version).orElse(0L)) + 1;
                  tx.putPolicy(new Policy(old.id(), old.spec(), version, now));
                }
              }
              tx.appendAudit(
                  new AuditEntry(now, caller.actor(), "revision.restore", "revision/" + number,
                      Optional.of(tenant)));
              return publishDrafts(tx, caller, "restore of revision " + number);
            });
    return announce(tenant, result);
  }

  /**
   * What a publish did, the snapshot it wrote if it wrote one, and whether it published agents'
   * new groups too.
   */
  private record Published(PublishResult result, Optional<RevisionSnapshot> snapshot, boolean regrouped) {}

  private PublishResult announce(TenantId tenant, Published published) {
    published.snapshot().ifPresent(snapshot -> {
      index.committed(tenant, snapshot);
      // Without regrouped agents, nodes need not re-read the tenant's agents.
      changeFeed.publish(published.regrouped() ? new Change.TenantChanged(tenant) : new Change.RevisionPublished(tenant));
    });
    return published.result();
  }

  private Published publishDrafts(TenantTransaction tx, Principal caller, String comment) {
    RevisionSnapshot latest = tx.latestRevision();
    List<Policy> drafts = tx.policies();
    List<Agent> regrouped =
        tx.agents().stream().filter(a -> !a.groups().equals(a.publishedGroups())).toList();
    if (drafts.equals(latest.policies()) && regrouped.isEmpty()) {
      return new Published(new PublishResult(latest.revision(), false), Optional.empty(), false);
    }
    Revision revision = new Revision(latest.number() + 1, now(), comment, caller.actor());
    RevisionSnapshot snapshot = new RevisionSnapshot(revision, tx.tenant().polling(), drafts);
    tx.addRevision(snapshot);
    regrouped.forEach(agent -> tx.putAgent(agent.withGroupsPublished()));
    tx.appendAudit(
        new AuditEntry(revision.publishedAt(), caller.actor(), "revision.publish",
            "revision/" + revision.number(), Optional.of(tx.tenant().id())));
    return new Published(new PublishResult(revision, true), Optional.of(snapshot), !regrouped.isEmpty());
  }

  // --- agents (admin side) ---

  /** The tenant's agents matching {@code query}, ordered by id. */
  public Page<Agent> agents(Principal caller, TenantId tenant, AgentQuery query, PageRequest page) {
    requireNonNull(query, "query == null");
    access.visibleTenant(caller, tenant);
    List<Agent> matching =
        store.inTenant(tenant, TenantTransaction::agents).stream().filter(query::matches).toList();
    return Pages.ascending(matching, a -> a.id().value(), page);
  }

  /** Sets an agent's groups; like a policy edit, it reaches the agent with the next publish. */
  public Agent updateAgentGroups(Principal caller, TenantId tenant, AgentId id, Set<String> groups) {
    requireNonNull(groups, "groups == null");
    access.visibleTenant(caller, tenant);
    return inTenant(caller, tenant, "agent.groups", "agent/" + id, tx -> {
      Agent agent = tx.agent(id).orElseThrow(() -> new NotFoundException("agent " + id));
      Agent updated = agent.withGroups(groups);
      tx.putAgent(updated);
      return updated;
    });
  }

  /** Revokes an agent: its credential stops working at once, on every node. */
  public void revokeAgent(Principal caller, TenantId tenant, AgentId id) {
    access.visibleTenant(caller, tenant);
    inTenant(caller, tenant, "agent.revoke", "agent/" + id, tx -> {
      if (!tx.deleteAgent(id)) {
        throw new NotFoundException("agent " + id);
      }
      return null;
    });
    changeFeed.publish(new Change.AgentChanged(tenant, id));
  }

  /** How the tenant's fleet stands with the current revision. */
  public Compliance compliance(Principal caller, TenantId tenant) {
    access.visibleTenant(caller, tenant);
    // Write pending last-seen times first, so "silent" is as fresh as this node knows.
    index.flushLastSeen();
    return store.inTenant(tenant, tx -> {
      long revision = tx.latestRevision().number();
      Instant silentBefore = now().minus(tx.tenant().polling().interval().multipliedBy(3));
      long applied = 0;
      long failed = 0;
      long silent = 0;
      List<Agent> agents = tx.agents();
      for (Agent agent : agents) {
        Optional<AgentStatus> status = agent.status().filter(s -> s.revision() == revision);
        if (status.isPresent()) {
          if (status.get().state() == AgentState.APPLIED) {
            applied++;
          } else {
            failed++;
          }
        }
        if (agent.lastSeenAt().orElse(agent.enrolledAt()).isBefore(silentBefore)) {
          silent++;
        }
      }
      return new Compliance(revision, agents.size(), applied, failed,
          agents.size() - applied - failed, silent);
    });
  }

  // --- audit ---

  /** The tenant's audit log, newest first. */
  public Page<AuditEntry> audit(Principal caller, TenantId tenant, PageRequest page) {
    access.visibleTenant(caller, tenant);
    return store.inTenant(tenant, tx -> tx.audit(page));
  }

  /** The server-wide audit log (admin keys, tenants created and deleted), newest first. */
  public Page<AuditEntry> serverAudit(Principal caller, PageRequest page) {
    Access.requireRole(caller, Role.OPERATOR);
    return store.serverAudit(page);
  }

  // --- agent API ---

  /**
   * Enrolls an endpoint with an enrollment token.
   *
   * @throws UnauthenticatedException if the token is malformed, unknown, expired or used up
   * @throws ValidationException if the name or labels break the model's rules
   */
  public Enrollment enroll(String token, String name, Map<String, String> labels) {
    requireStarted();
    Secrets.Parsed parsed =
        Secrets.parse(Secrets.Kind.ENROLLMENT_TOKEN, token)
            .orElseThrow(PolicyServer::invalidToken);
    TenantId tenant = parsed.tenant().orElseThrow();
    EnrollmentTokenId tokenId = EnrollmentTokenId.of(parsed.id());
    AgentId agentId = AgentId.of(secrets.newId("a"));
    String credential = secrets.issue(Secrets.Kind.AGENT_CREDENTIAL, Optional.of(tenant), agentId.value());
    Instant now = now();
    // Validate the name and labels before touching the token, so a bad request uses nothing up.
    Agent.enrolled(agentId, tenant, name, labels, Set.of(), SecretHash.of(credential), now);
    Agent agent;
    Tenant tenantRecord;
    try {
      Map.Entry<Agent, Tenant> enrolled = store.inTenant(tenant, tx -> {
        EnrollmentToken used =
            tx.enrollmentToken(tokenId)
                .filter(t -> t.secretHash().matches(token) && t.usableAt(now))
                .orElseThrow(PolicyServer::invalidToken);
        tx.putEnrollmentToken(used.withOneMoreUse());
        Agent created =
            Agent.enrolled(agentId, tenant, name, labels, used.groups(), SecretHash.of(credential), now);
        tx.putAgent(created);
        tx.appendAudit(
            new AuditEntry(now, "enrollment-token/" + tokenId, "agent.enroll", "agent/" + agentId,
                Optional.of(tenant)));
        return Map.entry(created, tx.tenant());
      });
      agent = enrolled.getKey();
      tenantRecord = enrolled.getValue();
    } catch (NotFoundException unknownTenant) {
      throw invalidToken();
    }
    changeFeed.publish(new Change.AgentChanged(tenant, agentId));
    return new Enrollment(agent, credential, tenantRecord.polling(), keyVault.publicKeys(tenant));
  }

  private static UnauthenticatedException invalidToken() {
    return new UnauthenticatedException("the enrollment token is unknown, expired or used up");
  }

  /**
   * The agent's PolicySet if its ETag is not {@code knownEtag}; otherwise waits up to {@code
   * maxWait} for one (a publish answers at once) and then answers "not modified". Reads no store
   * and holds no thread while waiting.
   *
   * @throws UnauthenticatedException if the agent has been revoked
   */
  public CompletableFuture<PollResult> poll(
      AgentIdentity agent, Optional<String> knownEtag, Duration maxWait) {
    requireNonNull(agent, "agent == null");
    requireNonNull(knownEtag, "knownEtag == null");
    requireNonNull(maxWait, "maxWait == null");
    requireStarted();
    return index.poll(agent, knownEtag, maxWait);
  }

  /**
   * The "not modified" answer to a poll, if {@code knownEtag} is the ETag of the agent's current
   * set: the same answer {@link #poll} gives with no wait, from memory alone, without signing or
   * blocking. Empty means "call {@link #poll}": the set changed, or the agent was revoked.
   */
  public Optional<PollResult.NotModified> pollIfUnchanged(AgentIdentity agent, String knownEtag) {
    requireNonNull(agent, "agent == null");
    requireNonNull(knownEtag, "knownEtag == null");
    requireStarted();
    return index.pollIfUnchanged(agent, knownEtag);
  }

  /**
   * Records what the agent did with a revision, and returns once that is committed. Reports that
   * arrive together are committed together, one transaction per tenant, so a fleet answering a
   * publish at once is not limited by the store's commit rate.
   *
   * @throws ValidationException if it names a revision the tenant has not published
   * @throws UnauthenticatedException if the agent has been revoked
   * @throws StoreUnavailableException if the store failed or the server is shutting down
   */
  public void reportStatus(AgentIdentity agent, long revision, AgentState state, String message) {
    requireNonNull(agent, "agent == null");
    statusWriter.write(agent, new AgentStatus(revision, state, message, now()));
  }

  // --- helpers ---

  private <T> T inTenant(
      Principal caller, TenantId tenant, String action, String target,
      Function<TenantTransaction, T> work) {
    return store.inTenant(tenant, tx -> {
      T result = work.apply(tx);
      tx.appendAudit(new AuditEntry(now(), caller.actor(), action, target, Optional.of(tenant)));
      return result;
    });
  }

  private IssuedAdminKey newAdminKey(String name, Role role, Optional<TenantId> tenant) {
    AdminKeyId id = AdminKeyId.of(secrets.newId("k"));
    String secret = secrets.issue(Secrets.Kind.ADMIN_KEY, Optional.empty(), id.value());
    AdminKey key = new AdminKey(id, name, role, tenant, SecretHash.of(secret), now());
    return new IssuedAdminKey(key, secret);
  }

  private AuditEntry audit(String actor, String action, AdminKey key, Optional<TenantId> tenant) {
    return new AuditEntry(now(), actor, action, "admin-key/" + key.id(), tenant);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private void requireStarted() {
    if (!started || closed) {
      throw new IllegalStateException(closed ? "the server is closed" : "call start() first");
    }
  }

  /**
   * Configures a {@link PolicyServer}. {@link #store} and one of {@link #masterKey} or {@link
   * #keyVault} are required; everything else has a default.
   */
  public static final class Builder {
    private PolicyStore store;
    private ChangeFeed changeFeed;
    private KeyVault keyVault;
    private SecretKey masterKey;
    private Clock clock = Clock.systemUTC();
    private SecureRandom secureRandom = new SecureRandom();
    private ScheduledExecutorService scheduler;
    private Executor executor = ForkJoinPool.commonPool();
    private PollingSettings defaultPolling = PollingSettings.DEFAULT;
    private Duration policySetValidity = Duration.ofDays(7);
    private Duration lastSeenFlushInterval = Duration.ofSeconds(30);

    private Builder() {}

    /** Where state lives. Required. */
    public Builder store(PolicyStore store) {
      this.store = requireNonNull(store, "store == null");
      return this;
    }

    /** How nodes sharing the store learn of changes. Default: {@link ChangeFeed#inProcess()}. */
    public Builder changeFeed(ChangeFeed changeFeed) {
      this.changeFeed = requireNonNull(changeFeed, "changeFeed == null");
      return this;
    }

    /** Where signing keys live. Default: {@link KeyVault#sealedInStore} under {@link #masterKey}. */
    public Builder keyVault(KeyVault keyVault) {
      this.keyVault = requireNonNull(keyVault, "keyVault == null");
      return this;
    }

    /** Seals signing keys in the store; see {@link KeyVault#masterKey(byte[])}. */
    public Builder masterKey(SecretKey masterKey) {
      this.masterKey = requireNonNull(masterKey, "masterKey == null");
      return this;
    }

    /** Default: {@link Clock#systemUTC()}. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock == null");
      return this;
    }

    /** The source of secrets and ids. Default: a new {@link SecureRandom}. */
    public Builder secureRandom(SecureRandom secureRandom) {
      this.secureRandom = requireNonNull(secureRandom, "secureRandom == null");
      return this;
    }

    /**
     * Runs long-poll timeouts and the last-seen write-behind. Default: one daemon thread of the
     * server's own, stopped by {@link #close()}; a given one is not shut down.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = requireNonNull(scheduler, "scheduler == null");
      return this;
    }

    /** Signs the sets of long polls a publish wakes. Default: {@link ForkJoinPool#commonPool()}. */
    public Builder executor(Executor executor) {
      this.executor = requireNonNull(executor, "executor == null");
      return this;
    }

    /** The polling settings of new tenants. Default: {@link PollingSettings#DEFAULT}. */
    public Builder defaultPolling(PollingSettings defaultPolling) {
      this.defaultPolling = requireNonNull(defaultPolling, "defaultPolling == null");
      return this;
    }

    /**
     * How long a PolicySet stays valid after it is issued; the server re-issues it when half is
     * gone. Default 7 days; at least 10 minutes.
     */
    public Builder policySetValidity(Duration policySetValidity) {
      requireNonNull(policySetValidity, "policySetValidity == null");
      if (policySetValidity.compareTo(Duration.ofMinutes(10)) < 0) {
        throw new IllegalArgumentException(
            "policySetValidity cannot be less than 10 minutes, was " + policySetValidity);
      }
      this.policySetValidity = policySetValidity;
      return this;
    }

    /** How often last-seen times are written to the store. Default 30 s; at least 100 ms. */
    public Builder lastSeenFlushInterval(Duration lastSeenFlushInterval) {
      requireNonNull(lastSeenFlushInterval, "lastSeenFlushInterval == null");
      if (lastSeenFlushInterval.toMillis() < 100) {
        throw new IllegalArgumentException(
            "lastSeenFlushInterval cannot be less than 100ms, was " + lastSeenFlushInterval);
      }
      this.lastSeenFlushInterval = lastSeenFlushInterval;
      return this;
    }

    /** @throws IllegalStateException naming what is missing */
    public PolicyServer build() {
      if (store == null) {
        throw new IllegalStateException("store is required");
      }
      if (keyVault == null && masterKey == null) {
        throw new IllegalStateException("keyVault or masterKey is required");
      }
      if (keyVault != null && masterKey != null) {
        throw new IllegalStateException("give keyVault or masterKey, not both");
      }
      return new PolicyServer(this);
    }
  }
}
