package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.TenantId;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Records what the agent says, in order, and waits for what a test expects. */
final class RecordingListener implements PolicyAgentListener {
  /** One event: its name and what came with it. */
  record Event(String name, Object detail, long nanos) {}

  final List<Event> events = new CopyOnWriteArrayList<>();
  volatile AgentId agentId;

  @Override
  public void enrolled(AgentId agentId, TenantId tenantId) {
    this.agentId = agentId;
    add("enrolled", agentId);
  }

  @Override
  public void ready() {
    add("ready", null);
  }

  @Override
  public void applied(PolicySet policySet) {
    add("applied", policySet);
  }

  @Override
  public void rejected(Rejection rejection) {
    add("rejected", rejection);
  }

  @Override
  public void stale(PolicySet lastKnownGood) {
    add("stale", lastKnownGood);
  }

  @Override
  public void revoked() {
    add("revoked", null);
  }

  @Override
  public void error(PolicyAgentException problem) {
    add("error", problem);
  }

  private void add(String name, Object detail) {
    events.add(new Event(name, detail, System.nanoTime()));
  }

  /** Waits for an event named {@code name} matching {@code test}, and returns it. */
  Event await(String name, Predicate<Object> test, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (Event event : events) {
        if (event.name().equals(name) && test.test(event.detail())) {
          return event;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("no '" + name + "' event within " + timeout + "; saw " + names());
  }

  Event await(String name, Duration timeout) throws InterruptedException {
    return await(name, detail -> true, timeout);
  }

  /** Waits for the set of revision {@code revision} to be applied. */
  PolicySet awaitApplied(long revision, Duration timeout) throws InterruptedException {
    return (PolicySet) await("applied", set -> ((PolicySet) set).revision() == revision, timeout).detail();
  }

  List<String> names() {
    return events.stream().map(Event::name).toList();
  }

  long count(String name) {
    return events.stream().filter(event -> event.name().equals(name)).count();
  }

  void assertNone(String name) {
    assertThat(names()).doesNotContain(name);
  }
}
