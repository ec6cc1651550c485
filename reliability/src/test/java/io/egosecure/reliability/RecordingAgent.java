package io.egosecure.reliability;

import io.egosecure.agent.ApplyResult;
import io.egosecure.agent.PolicyAgent;
import io.egosecure.agent.PolicyAgentException;
import io.egosecure.agent.PolicyAgentListener;
import io.egosecure.core.model.PolicySet;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An SDK {@link PolicyAgent} in this JVM that remembers when things happened to it: each applied
 * revision and each error (a failed poll or enrollment) with its {@link System#nanoTime()}.
 */
final class RecordingAgent implements AutoCloseable {
  record Event(long nanoTime, long revision) {}

  final String name;
  private final PolicyAgent agent;
  private final List<Event> applied = new CopyOnWriteArrayList<>();
  private final List<Long> errors = new CopyOnWriteArrayList<>();

  private RecordingAgent(String name, PolicyAgent.Builder builder) {
    this.name = name;
    this.agent = builder
        .agentName(name)
        .applier(set -> ApplyResult.success())
        .listener(new PolicyAgentListener() {
          @Override
          public void applied(PolicySet set) {
            applied.add(new Event(System.nanoTime(), set.revision()));
          }

          @Override
          public void error(PolicyAgentException problem) {
            errors.add(System.nanoTime());
          }
        })
        .build();
  }

  static RecordingAgent start(String name, URI server, Path certificate, String token, Path stateDirectory) {
    RecordingAgent agent = new RecordingAgent(name, PolicyAgent.builder()
        .server(server)
        .trustCertificates(certificate)
        .enrollmentToken(token)
        .stateDirectory(stateDirectory)
        .push(true));
    agent.agent.start();
    return agent;
  }

  Optional<PolicySet> current() {
    return agent.current();
  }

  long revision() {
    return agent.current().map(PolicySet::revision).orElse(-1L);
  }

  void pollNow() {
    agent.pollNow();
  }

  /** When it first applied {@code revision} or a later one, if it has. */
  Optional<Long> appliedAt(long revision) {
    return applied.stream().filter(e -> e.revision() >= revision).map(Event::nanoTime).findFirst();
  }

  /** Error times after {@code sinceNanos}, in order. */
  List<Long> errorsSince(long sinceNanos) {
    List<Long> since = new ArrayList<>();
    for (long at : errors) {
      if (at - sinceNanos >= 0) {
        since.add(at);
      }
    }
    return since;
  }

  /** Waits, bounded, until the agent enforces {@code revision} or later. */
  boolean awaitRevision(long revision, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      if (revision() >= revision) {
        return true;
      }
      Thread.sleep(20);
    }
    return revision() >= revision;
  }

  @Override
  public void close() {
    agent.close();
  }
}
