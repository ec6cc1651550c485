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

/** What the endpoints share: the policy server, the limits and limiters, and the meters. */
final class Transport {
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
  private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

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

  /** Request latency per route pattern (a bounded set of names) and status. */
  void timed(String route, int status, long nanos) {
    String key = route + ' ' + status;
    timers.computeIfAbsent(key, k -> Timer.builder("egosecure.http.requests")
            .tag("route", route).tag("status", Integer.toString(status))
            .description("HTTP requests by route and status").register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

}
