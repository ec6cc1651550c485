package io.egosecure.transport.https;

import io.egosecure.core.PolicyServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/** What the endpoints share: the policy server, the limits and limiters, and the meters. */
final class Transport {
  private static final int MAX_STATUS = 599;
  private final PolicyServer policyServer;
  private final TransportLimits limits;
  private final RateLimiter enrollLimiter;
  private final RateLimiter agentLimiter;
  private final RateLimiter adminLimiter;
  private final PrometheusMeterRegistry registry;
  private final Counter pollsChanged;
  private final Counter pollsNotModified;
  private final Counter enrollFailures;
  private final Counter publishes;
  /** Per route name, its timers indexed by status: found without building a key per request. */
  private final ConcurrentMap<String, AtomicReferenceArray<Timer>> timers = new ConcurrentHashMap<>();

  Transport(PolicyServer policyServer, TransportLimits limits, PrometheusMeterRegistry registry, Clock clock,
      PushHub pushHub) {
    this.policyServer = policyServer;
    this.limits = limits;
    this.enrollLimiter = new RateLimiter(limits.enrollRate(), clock);
    this.agentLimiter = new RateLimiter(limits.agentRate(), clock);
    this.adminLimiter = new RateLimiter(limits.adminRate(), clock);
    this.registry = registry;
    this.pollsChanged = Counter.builder("egosecure.polls").tag("result", "changed")
        .description("Polls answered with a PolicySet (200)").register(registry);
    this.pollsNotModified = Counter.builder("egosecure.polls").tag("result", "not_modified")
        .description("Polls answered 304").register(registry);
    this.enrollFailures = Counter.builder("egosecure.enroll.failures")
        .description("Enrollments refused").register(registry);
    this.publishes = Counter.builder("egosecure.publishes")
        .description("Revisions published, as this node learned of them").register(registry);
    Gauge.builder("egosecure.long.polls.parked", policyServer, PolicyServer::parkedPolls)
        .description("Long polls waiting for a change").register(registry);
    Gauge.builder("egosecure.push.sockets", pushHub, PushHub::openSockets)
        .description("Push sockets open").register(registry);
  }

  /**
   * The push broadcast timer, built before the hub that records it (and before this class, which
   * needs the hub for its socket gauge).
   */
  static Timer pushBroadcastTimer(PrometheusMeterRegistry registry) {
    return Timer.builder("egosecure.push.broadcast")
        .description("Push broadcasts, from the revision reaching the push hub to the last frame's write completing")
        .register(registry);
  }

  PolicyServer policyServer() {
    return policyServer;
  }

  TransportLimits limits() {
    return limits;
  }

  RateLimiter enrollLimiter() {
    return enrollLimiter;
  }

  RateLimiter agentLimiter() {
    return agentLimiter;
  }

  RateLimiter adminLimiter() {
    return adminLimiter;
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  void polled(boolean changed) {
    (changed ? pollsChanged : pollsNotModified).increment();
  }

  void enrollFailed() {
    enrollFailures.increment();
  }

  void published() {
    publishes.increment();
  }

  /** Request latency per route pattern (a bounded set of names) and status (100 to 599). */
  void timed(String route, int status, long nanos) {
    AtomicReferenceArray<Timer> byStatus = timers.get(route);
    if (byStatus == null) {
      byStatus = timers.computeIfAbsent(route, r -> new AtomicReferenceArray<>(MAX_STATUS + 1));
    }
    int slot = Math.min(Math.max(status, 0), MAX_STATUS);
    Timer timer = byStatus.get(slot);
    if (timer == null) {
      // Registering twice yields the same meter, so a race here costs nothing but the lookup.
      timer = Timer.builder("egosecure.http.requests")
          .tag("route", route).tag("status", Integer.toString(slot))
          .description("HTTP requests by route and status").register(registry);
      byStatus.set(slot, timer);
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

}
