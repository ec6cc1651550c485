package io.egosecure.core;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.SecretHash;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Change;
import io.egosecure.core.spi.ChangeFeed;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.Page;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.spi.SigningKey;
import io.egosecure.core.wire.CanonicalPolicies;
import io.egosecure.core.wire.PolicySets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a poll needs, in memory: each tenant's current revision and signing key, each agent's
 * credential hash and published groups, and the polls parked waiting for a change. A poll never
 * reads the store; the change feed keeps this fresh, and {@code lastSeenAt} is written behind.
 *
 * <p>Parked polls are futures in a set, with a timeout task on the shared scheduler: no thread is
 * held per waiting agent.
 */
final class FleetIndex implements ChangeFeed.Listener {
  private static final Logger log = LoggerFactory.getLogger(FleetIndex.class);

  private final PolicyStore store;
  private final KeyVault keyVault;
  private final Clock clock;
  private final Duration validity;
  private final Executor executor;
  private final List<PolicyServerListener> listeners;

  private final ConcurrentMap<TenantId, TenantState> tenants = new ConcurrentHashMap<>();
  private final ConcurrentMap<TenantId, ConcurrentMap<AgentId, AgentEntry>> agents =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<TenantId, Set<Waiter>> waiters = new ConcurrentHashMap<>();
  private final ConcurrentMap<TenantId, ConcurrentMap<AgentId, Instant>> seen =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<TenantId, Object> reloadLocks = new ConcurrentHashMap<>();
  private final ConcurrentMap<TenantId, RevisionSnapshot> committed = new ConcurrentHashMap<>();
  private final AtomicInteger parked = new AtomicInteger();
  private final ConcurrentMap<AgentId, Long> recentMisses = new ConcurrentHashMap<>();
  private static final Duration MISS_MEMORY = Duration.ofSeconds(5);
  private static final int MAX_REMEMBERED_MISSES = 100_000;
  private volatile ScheduledExecutorService scheduler;

  FleetIndex(
      PolicyStore store,
      KeyVault keyVault,
      Clock clock,
      Duration validity,
      Executor executor,
      List<PolicyServerListener> listeners) {
    this.store = store;
    this.keyVault = keyVault;
    this.clock = clock;
    this.validity = validity;
    this.executor = executor;
    this.listeners = listeners;
  }

  /** Loads every tenant; polls are answered from then on. */
  void start(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
    resynchronize();
  }

  // --- authentication and polling: memory only ---

  AgentIdentity authenticate(String credential) {
    return find(credential, true).orElseThrow(() -> new UnauthenticatedException("the agent credential is not valid"));
  }

  /** The agent if this node holds it and the credential matches; never reads the store. */
  Optional<AgentIdentity> authenticateKnown(String credential) {
    return find(credential, false);
  }

  private Optional<AgentIdentity> find(String credential, boolean askStore) {
    Optional<Secrets.Parsed> parsed = Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, credential);
    if (parsed.isPresent()) {
      TenantId tenant = parsed.get().tenant().orElseThrow();
      AgentId agent = AgentId.of(parsed.get().id());
      ConcurrentMap<AgentId, AgentEntry> fleet = agents.get(tenant);
      AgentEntry entry = fleet == null ? null : fleet.get(agent);
      if (entry == null && fleet != null && askStore) {
        entry = enrolledElsewhere(tenant, agent, fleet);
      }
      if (entry != null && entry.credentialHash().matches(credential)) {
        return Optional.of(entry.identity());
      }
    }
    return Optional.empty();
  }

  /**
   * An agent this node has not heard of may have enrolled through another node a moment ago,
   * its notification still on the way: read that one agent. Misses are remembered briefly, so
   * made-up credentials cannot turn into a stream of store reads.
   */
  private AgentEntry enrolledElsewhere(TenantId tenant, AgentId agent, ConcurrentMap<AgentId, AgentEntry> fleet) {
    long now = System.nanoTime();
    Long missedUntil = recentMisses.get(agent);
    if (missedUntil != null && missedUntil - now > 0) {
      return null;
    }
    Optional<Agent> stored;
    try {
      stored = store.inTenant(tenant, tx -> tx.agent(agent));
    } catch (NotFoundException tenantGone) {
      stored = Optional.empty();
    }
    if (stored.isEmpty()) {
      if (recentMisses.size() >= MAX_REMEMBERED_MISSES) {
        recentMisses.clear();
      }
      recentMisses.put(agent, now + MISS_MEMORY.toNanos());
      return null;
    }
    AgentEntry entry = AgentEntry.of(stored.get());
    AgentEntry raced = fleet.putIfAbsent(agent, entry);
    return raced != null ? raced : entry;
  }

  /** The tenant's current revision if the agent is still enrolled; empty if it is not. */
  OptionalLong currentRevision(AgentIdentity identity) {
    ConcurrentMap<AgentId, AgentEntry> fleet = agents.get(identity.tenantId());
    TenantState state = tenants.get(identity.tenantId());
    return fleet != null && state != null && fleet.containsKey(identity.agentId())
        ? OptionalLong.of(state.snapshot().number())
        : OptionalLong.empty();
  }

  CompletableFuture<PollResult> poll(AgentIdentity identity, Optional<String> knownEtag, Duration wait) {
    Instant now = clock.instant();
    markSeen(identity, now);
    PollResult current = answer(identity, knownEtag, now);
    if (current instanceof PollResult.Changed || wait.isZero() || wait.isNegative()) {
      return CompletableFuture.completedFuture(current);
    }
    Waiter waiter = new Waiter(identity, knownEtag.orElseThrow());
    Set<Waiter> tenantWaiters =
        waiters.computeIfAbsent(identity.tenantId(), t -> ConcurrentHashMap.newKeySet());
    tenantWaiters.add(waiter);
    parked.incrementAndGet();
    try {
      waiter.timeout =
          scheduler.schedule(
              () -> {
                if (release(waiter)) {
                  complete(waiter);
                }
              },
              wait.toMillis(),
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closing) {
      // The server is closing: answer now rather than park a poll nothing would wake.
      if (release(waiter)) {
        complete(waiter);
      }
      return waiter.future;
    }
    // A caller that gives up (its client went away) cancels the future: stop tracking the poll.
    waiter.future.whenComplete((result, failure) -> release(waiter));
    // A change that landed between the answer above and registering the waiter must wake it.
    PollResult again = answer(identity, knownEtag, clock.instant());
    if (again instanceof PollResult.Changed changed && release(waiter)) {
      waiter.future.complete(changed);
    }
    return waiter.future;
  }

  /** The 304 {@link #poll} would answer at once, or empty if it would answer anything else. */
  Optional<PollResult.NotModified> pollIfUnchanged(AgentIdentity identity, String knownEtag) {
    Instant now = clock.instant();
    Current current;
    try {
      current = current(identity, now);
    } catch (UnauthenticatedException revoked) {
      return Optional.empty();
    }
    if (!knownEtag.equals(current.etag())) {
      return Optional.empty();
    }
    markSeen(identity, now);
    return Optional.of(new PollResult.NotModified(current.etag(), current.state().tenant().polling()));
  }

  void markSeen(AgentIdentity identity, Instant at) {
    seen.computeIfAbsent(identity.tenantId(), t -> new ConcurrentHashMap<>())
        .put(identity.agentId(), at);
  }

  int parkedPolls() {
    return parked.get();
  }

  /** Writes the last-seen times collected since the last flush. */
  void flushLastSeen() {
    for (Map.Entry<TenantId, ConcurrentMap<AgentId, Instant>> tenantSeen : seen.entrySet()) {
      Map<AgentId, Instant> batch = new HashMap<>();
      tenantSeen.getValue().forEach(
          (agent, at) -> {
            batch.put(agent, at);
            tenantSeen.getValue().remove(agent, at);
          });
      if (batch.isEmpty()) {
        continue;
      }
      try {
        store.inTenant(tenantSeen.getKey(), tx -> {
          tx.touchAgents(batch);
          return null;
        });
      } catch (NotFoundException e) {
        seen.remove(tenantSeen.getKey());
      } catch (RuntimeException e) {
        // Best effort: the next poll of each agent records it again.
        log.warn("writing last-seen times of {} agents of tenant {} failed: {}",
            batch.size(), tenantSeen.getKey(), e.toString());
      }
    }
  }

  /** Answers every parked poll with what it would get now; used at shutdown. */
  void releaseAll() {
    for (Set<Waiter> tenantWaiters : waiters.values()) {
      for (Waiter waiter : tenantWaiters) {
        if (release(waiter)) {
          complete(waiter);
        }
      }
    }
  }

  /** The current answer for an agent; fails if it was revoked. */
  private PollResult answer(AgentIdentity identity, Optional<String> knownEtag, Instant now) {
    Current current = current(identity, now);
    TenantState state = current.state();
    if (knownEtag.isPresent() && knownEtag.get().equals(current.etag())) {
      return new PollResult.NotModified(current.etag(), state.tenant().polling());
    }
    RevisionSnapshot snapshot = state.snapshot();
    return new PollResult.Changed(
        PolicySets.sign(
            identity.tenantId(),
            identity.agentId(),
            snapshot.number(),
            current.issuedAt(),
            current.issuedAt().plus(validity),
            snapshot.polling().interval(),
            current.selection(),
            state.signingKey()),
        current.etag(),
        state.tenant().polling());
  }

  /** What an agent's set is now: the one lookup behind every answer and every wake-up. */
  private record Current(TenantState state, Instant issuedAt, CanonicalPolicies selection, String etag) {}

  private Current current(AgentIdentity identity, Instant now) {
    TenantState state = tenants.get(identity.tenantId());
    ConcurrentMap<AgentId, AgentEntry> fleet = agents.get(identity.tenantId());
    AgentEntry entry = fleet == null ? null : fleet.get(identity.agentId());
    if (state == null || entry == null) {
      throw new UnauthenticatedException("the agent credential is not valid");
    }
    Instant issuedAt = issuedAt(state.snapshot(), now);
    CanonicalPolicies selection = state.selectionFor(entry.publishedGroups());
    return new Current(state, issuedAt, selection, etag(state, issuedAt, selection));
  }

  /**
   * Re-issues fall on fixed points after the publish (every half validity), so every node issues
   * the same {@code issuedAt} for the same instant without coordinating, and an agent moving
   * between nodes never sees time go backwards.
   */
  Instant issuedAt(RevisionSnapshot snapshot, Instant now) {
    Instant publishedAt = snapshot.revision().publishedAt();
    long period = validity.toMillis() / 2;
    long elapsed = Duration.between(publishedAt, now).toMillis();
    return elapsed <= 0 ? publishedAt : publishedAt.plusMillis(elapsed / period * period);
  }

  private static String etag(TenantState state, Instant issuedAt, CanonicalPolicies selection) {
    String keyId = state.signingKey().keyId();
    return "\""
        + state.snapshot().number()
        + "-"
        + Long.toString(issuedAt.toEpochMilli(), 36)
        + "-"
        + selection.digest().substring(0, 16)
        + keyId.substring(keyId.length() - 4)
        + "\"";
  }

  private boolean release(Waiter waiter) {
    Set<Waiter> tenantWaiters = waiters.get(waiter.identity.tenantId());
    if (tenantWaiters != null && tenantWaiters.remove(waiter)) {
      parked.decrementAndGet();
      if (waiter.timeout != null) {
        waiter.timeout.cancel(false);
      }
      return true;
    }
    return false;
  }

  private void complete(Waiter waiter) {
    try {
      waiter.future.complete(answer(waiter.identity, Optional.of(waiter.knownEtag), clock.instant()));
    } catch (RuntimeException e) {
      waiter.future.completeExceptionally(e);
    }
  }

  /** Wakes the tenant's parked polls whose answer changed; signing happens on the executor. */
  private void wake(TenantId tenant) {
    Set<Waiter> tenantWaiters = waiters.get(tenant);
    if (tenantWaiters == null) {
      return;
    }
    Instant now = clock.instant();
    for (Waiter waiter : tenantWaiters) {
      boolean changed;
      try {
        changed = !waiter.knownEtag.equals(current(waiter.identity, now).etag());
      } catch (UnauthenticatedException revoked) {
        changed = true;
      }
      if (changed && release(waiter)) {
        executor.execute(() -> complete(waiter));
      }
    }
  }

  // --- keeping fresh ---

  @Override
  public void onChange(Change change) {
    try {
      if (change instanceof Change.AgentChanged agent) {
        reloadAgent(agent.tenantId(), agent.agentId());
      } else {
        reloadTenant(change.tenantId(), !(change instanceof Change.RevisionPublished));
      }
    } catch (RuntimeException e) {
      // The store is unreachable: keep serving what we have; the next resync catches up.
      log.warn("could not apply {}: {}", change, e.toString());
    }
  }

  /** Re-reads every tenant: at start, and whenever the feed may have missed changes. */
  @Override
  public void resynchronize() {
    Set<TenantId> present = ConcurrentHashMap.newKeySet();
    PageRequest request = PageRequest.first(PageRequest.MAX_LIMIT);
    while (true) {
      Page<Tenant> page = store.tenants(Optional.empty(), request);
      for (Tenant tenant : page.items()) {
        present.add(tenant.id());
        reloadIsolated(tenant.id());
      }
      if (page.next().isEmpty()) {
        break;
      }
      request = request.after(page.next().get());
    }
    for (TenantId known : List.copyOf(tenants.keySet())) {
      if (!present.contains(known)) {
        reloadIsolated(known);
      }
    }
  }

  /**
   * Reloads one tenant; a tenant that cannot be read (its database gone, its key sealed with
   * another master key) is logged and skipped, so it cannot keep the others from loading. It is
   * tried again at the next change or resynchronisation.
   */
  private void reloadIsolated(TenantId id) {
    try {
      reloadTenant(id, true);
    } catch (RuntimeException e) {
      log.error("tenant {} could not be loaded; its agents get no answers until it can: {}", id, e.toString());
    }
  }

  /**
   * Hands over a revision this node has just committed, so the reload its change triggers need
   * not read it back. Used only if the store still says it is the latest.
   */
  void committed(TenantId tenant, RevisionSnapshot snapshot) {
    committed.put(tenant, snapshot);
  }

  /**
   * Re-reads a tenant: its record, its latest revision unless this node holds it already, and,
   * with {@code agentsToo} or when this node has none of them yet, its agents.
   */
  void reloadTenant(TenantId id, boolean agentsToo) {
    synchronized (reloadLock(id)) {
      Optional<Loaded> loaded;
      try {
        TenantState current = tenants.get(id);
        RevisionSnapshot offered = committed.remove(id);
        boolean readAgents = agentsToo || !agents.containsKey(id);
        loaded = Optional.of(store.inTenant(id, tx -> {
          // A revision header is cheap; a snapshot of 1,000 policies is not. Reuse the one this
          // node holds or has just written when it is still the latest.
          long latest = tx.revisions(PageRequest.first(1)).items().get(0).number();
          RevisionSnapshot snapshot =
              current != null && current.snapshot().number() == latest ? current.snapshot()
                  : offered != null && offered.number() == latest ? offered
                  : tx.latestRevision();
          return new Loaded(tx.tenant(), snapshot, readAgents ? Optional.of(tx.agents()) : Optional.empty());
        }));
      } catch (NotFoundException gone) {
        loaded = Optional.empty();
      }
      if (loaded.isEmpty()) {
        drop(id);
        return;
      }
      Loaded data = loaded.get();
      SigningKey key = keyVault.signingKey(id);
      TenantState previous = tenants.get(id);
      boolean sameRevision =
          previous != null && previous.snapshot().number() == data.revision().number();
      TenantState next =
          new TenantState(
              data.tenant(), data.revision(), key,
              sameRevision && previous.signingKey().keyId().equals(key.keyId())
                  ? previous.selections()
                  : new ConcurrentHashMap<>());
      if (data.agents().isPresent()) {
        ConcurrentMap<AgentId, AgentEntry> fleet = new ConcurrentHashMap<>();
        for (Agent agent : data.agents().get()) {
          fleet.put(agent.id(), AgentEntry.of(agent));
        }
        ConcurrentMap<AgentId, AgentEntry> before = agents.put(id, fleet);
        tenants.put(id, next);
        notifyRevokedSince(id, before, fleet);
      } else {
        tenants.put(id, next);
      }
      if (previous != null && !sameRevision) {
        for (PolicyServerListener listener : listeners) {
          notify(() -> listener.revisionPublished(id, next.snapshot().number()));
        }
      }
      wake(id);
    }
  }

  /** Tells listeners of the agents {@code before} held that {@code now} no longer does. */
  private void notifyRevokedSince(TenantId tenant, Map<AgentId, AgentEntry> before, Map<AgentId, AgentEntry> now) {
    if (before == null) {
      return;
    }
    for (AgentId agent : before.keySet()) {
      if (!now.containsKey(agent)) {
        notifyRevoked(tenant, agent);
      }
    }
  }

  private void reloadAgent(TenantId tenant, AgentId id) {
    synchronized (reloadLock(tenant)) {
      ConcurrentMap<AgentId, AgentEntry> fleet = agents.get(tenant);
      if (fleet == null) {
        reloadTenant(tenant, true);
        return;
      }
      Optional<Agent> agent;
      try {
        agent = store.inTenant(tenant, tx -> tx.agent(id));
      } catch (NotFoundException gone) {
        drop(tenant);
        return;
      }
      if (agent.isPresent()) {
        fleet.put(id, AgentEntry.of(agent.get()));
      } else if (fleet.remove(id) != null) {
        notifyRevoked(tenant, id);
        wake(tenant);
      }
    }
  }

  private void drop(TenantId id) {
    tenants.remove(id);
    seen.remove(id);
    ConcurrentMap<AgentId, AgentEntry> fleet = agents.remove(id);
    if (fleet != null) {
      fleet.keySet().forEach(agent -> notifyRevoked(id, agent));
    }
    wake(id);
    reloadLocks.remove(id);
  }

  private void notifyRevoked(TenantId tenant, AgentId agent) {
    for (PolicyServerListener listener : listeners) {
      notify(() -> listener.agentRevoked(tenant, agent));
    }
  }

  private static void notify(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("a PolicyServerListener failed", e);
    }
  }

  private Object reloadLock(TenantId id) {
    return reloadLocks.computeIfAbsent(id, k -> new Object());
  }

  /** A tenant as read; without agents when the ones this node holds are still current. */
  private record Loaded(Tenant tenant, RevisionSnapshot revision, Optional<List<Agent>> agents) {}

  private record AgentEntry(AgentIdentity identity, SecretHash credentialHash, Set<String> publishedGroups) {
    static AgentEntry of(Agent agent) {
      return new AgentEntry(
          new AgentIdentity(agent.tenantId(), agent.id()), agent.credentialHash(), agent.publishedGroups());
    }
  }

  /** One tenant's current revision, with its selections computed once per group combination. */
  private record TenantState(
      Tenant tenant,
      RevisionSnapshot snapshot,
      SigningKey signingKey,
      ConcurrentMap<Set<String>, CanonicalPolicies> selections) {
    CanonicalPolicies selectionFor(Set<String> groups) {
      return selections.computeIfAbsent(
          groups,
          g -> {
            List<PolicySet.Entry> entries = new ArrayList<>();
            snapshot.policies().stream()
                .filter(p -> p.spec().targets().matches(g))
                .forEach(p -> entries.add(PolicySet.Entry.of(p)));
            return CanonicalPolicies.of(entries);
          });
    }
  }

  /** A parked poll. Identity, not equality: two polls of one agent are two waiters. */
  private static final class Waiter {
    final AgentIdentity identity;
    final String knownEtag;
    final CompletableFuture<PollResult> future = new CompletableFuture<>();
    volatile ScheduledFuture<?> timeout;

    Waiter(AgentIdentity identity, String knownEtag) {
      this.identity = identity;
      this.knownEtag = knownEtag;
    }
  }
}
