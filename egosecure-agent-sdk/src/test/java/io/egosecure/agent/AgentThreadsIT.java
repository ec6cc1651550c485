package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's threads, counted: few while idle, none after {@code close()}. The HTTP client's
 * selector thread on Java 17 ends once the client is unreachable, so the check collects garbage
 * while it waits.
 */
class AgentThreadsIT {
  @TempDir Path temp;
  private LiveServer server;

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void idleWithoutPushUsesTwoThreadsAndCloseLeavesNone() throws Exception {
    assertThreads(false, 2);
  }

  @Test
  void idleWithPushUsesFourThreadsAndCloseLeavesNone() throws Exception {
    assertThreads(true, 4);
  }

  private void assertThreads(boolean push, int idleThreads) throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    long revision = server.publish("usb", "{\"block\": true}");
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    RecordingListener listener = new RecordingListener();
    PolicyAgent agent = PolicyAgent.builder()
        .server(server.uri())
        .trustCertificates(server.certificate.pem())
        .enrollmentToken(server.enrollmentToken())
        .stateDirectory(temp.resolve("agent"))
        .listener(listener)
        .push(push)
        .applier(set -> ApplyResult.success())
        .build();
    agent.start();
    listener.awaitApplied(revision, Duration.ofSeconds(10));
    if (push) {
      while (server.pushSockets() != 1) {
        Thread.sleep(10);
      }
    }
    Thread.sleep(300); // idle: the status report is sent, the next poll minutes away

    assertThat(agentThreads(before)).as("the agent's threads while idle").hasSizeLessThanOrEqualTo(idleThreads);

    agent.close();
    agent = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!agentThreads(before).isEmpty() && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(100);
    }
    assertThat(agentThreads(before)).as("threads left after close()").isEmpty();
  }

  /** Threads started since {@code before} that are not the server's (Jetty, the store, the core). */
  private static Set<String> agentThreads(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> !before.contains(thread) && thread.isAlive())
        .map(Thread::getName)
        .filter(name -> name.startsWith("egosecure-agent") || name.startsWith("HttpClient")
            || name.startsWith("WebSocket") || name.startsWith("connectionLostChecker"))
        .collect(Collectors.toSet());
  }
}
