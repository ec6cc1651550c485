package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PolicySet;
import java.nio.file.Files;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent against the real transport and an SQLite store, over TLS on loopback. */
class PolicyAgentIT {
  private static final Duration SOON = Duration.ofSeconds(10);

  @TempDir Path temp;
  private LiveServer server;
  private final List<PolicyAgent> agents = new CopyOnWriteArrayList<>();
  private final List<PolicySet> appliedSets = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() {
    agents.forEach(PolicyAgent::close);
    if (server != null) {
      server.close();
    }
  }

  private PolicyAgent agent(Path state, RecordingListener listener, UnaryOperator<PolicyAgent.Builder> options) {
    PolicyAgent.Builder builder = PolicyAgent.builder()
        .server(server.uri())
        .trustCertificates(server.certificate.pem())
        .enrollmentToken(server.enrollmentToken())
        .agentName("host-01")
        .stateDirectory(state)
        .listener(listener)
        .applier(set -> {
          appliedSets.add(set);
          return ApplyResult.success();
        });
    PolicyAgent agent = options.apply(builder).build();
    agents.add(agent);
    return agent;
  }

  @Test
  void enrollsAppliesAndReports() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    Path state = temp.resolve("agent");

    agent(state, listener, b -> b.push(false)).start();

    PolicySet applied = listener.awaitApplied(revision, SOON);
    assertThat(applied.policies()).extracting(PolicySet.Entry::name).containsExactly("usb");
    assertThat(applied.policies().get(0).settings().get("block").asBoolean()).isTrue();
    assertThat(listener.names()).startsWith("enrolled").contains("ready");
    Agent seen = awaitReport(listener, revision);
    assertThat(seen.status().orElseThrow().state()).isEqualTo(AgentState.APPLIED);
    assertThat(seen.name()).isEqualTo("host-01");
    assertThat(state.resolve(StateDirectory.IDENTITY)).exists();
    assertThat(Files.readString(state.resolve(StateDirectory.POLICY_SET))).contains("\"revision\\\":" + revision);
  }

  @Test
  void restartWhileTheServerIsDownEnforcesTheLastKnownGoodSet() throws Exception {
    Path state = temp.resolve("agent");
    long revision = runOnceAndClose(state);
    server.stop();
    appliedSets.clear();

    RecordingListener second = new RecordingListener();
    PolicyAgent restarted = agent(state, second, b -> b.push(false));
    restarted.start();

    assertThat(second.awaitApplied(revision, SOON).policies()).extracting(PolicySet.Entry::name).containsExactly("usb");
    assertThat(appliedSets).extracting(PolicySet::revision).containsExactly(revision);
    assertThat(restarted.current()).map(PolicySet::revision).contains(revision);
    second.assertNone("enrolled");

    server.start();
    long next = server.publish("usb", "{\"block\": false}");
    restarted.pollNow();
    second.awaitApplied(next, SOON);
    assertThat(appliedSets).extracting(PolicySet::revision).containsExactly(revision, next);
  }

  @Test
  void aRestartWithTheSetUnchangedDoesNotDownloadItAgain() throws Exception {
    Path state = temp.resolve("agent");
    long revision = runOnceAndClose(state);

    RecordingListener second = new RecordingListener();
    PolicyAgent restarted = agent(state, second, b -> b.push(false));
    restarted.start();
    restarted.pollNow();
    second.await("ready", SOON);

    // Re-applied from disk once; the poll with the saved ETag got 304, so nothing more was applied.
    assertThat(second.count("applied")).isEqualTo(1);
    assertThat(server.agent(firstRun.agentId).lastSeenAt()).isPresent();
  }

  @Test
  void pushBringsAPublishWithinASecond() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b).start();
    listener.awaitApplied(revision, SOON);
    awaitPushSockets(1);

    for (int i = 0; i < 3; i++) {
      assertAppliedWithinASecond(listener, "{\"block\": " + (i % 2 == 0) + ", \"round\": " + i + "}");
    }
  }

  @Test
  void pushComesBackAfterAServerRestart() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b.maxBackoff(Duration.ofSeconds(2))).start();
    listener.awaitApplied(revision, SOON);
    awaitPushSockets(1);

    server.stop();
    server.start();
    awaitPushSockets(1); // reconnected with backoff, on the same port

    assertAppliedWithinASecond(listener, "{\"block\": false}");
  }

  @Test
  void aPushSocketBackAfterARestartThatMissedNothingDoesNotPoll() throws Exception {
    // 30 s ± 0 %: the catch-up poll would come 1.5 s after the socket re-opens (half of 10 % of
    // the interval, with every random draw 0.5), the next regular poll not before 30 s.
    Restarted restarted = restartUnderAnAgentInStep(Duration.ofSeconds(30));
    Thread.sleep(2_500);

    assertThat(server.polls()).as("the greeting showed revision %d, the agent's own", restarted.revision()).isZero();
    assertAppliedWithinASecond(restarted.listener(), "{\"block\": false}");
  }

  @Test
  void aGreetingInStepAfterARestartStandsInForTheDuePoll() throws Exception {
    // 8 s ± 0 %: the regular poll falls due 8 s after the first. The server restarts at once; the
    // re-opened socket's greeting shows the agent in step, so that poll moves to an interval after
    // the greeting, and no later than two intervals after the last answered poll.
    long answered = restartUnderAnAgentInStep(Duration.ofSeconds(8)).answeredNanos();
    assertThat(System.nanoTime() - answered).as("back before the poll fell due").isLessThan(Duration.ofSeconds(8).toNanos());
    Thread.sleep(Math.max(0, Duration.ofSeconds(10).toNanos() - (System.nanoTime() - answered)) / 1_000_000);
    assertThat(server.polls()).as("the poll due 8 s after the last answer, 2 s ago").isZero();

    long latest = answered + Duration.ofSeconds(17).toNanos();
    while (server.polls() == 0) {
      assertThat(System.nanoTime()).as("a poll within two intervals of the last answer").isLessThan(latest);
      Thread.sleep(50);
    }
  }

  private record Restarted(RecordingListener listener, long revision, long answeredNanos) {}

  /**
   * An agent in step at {@code interval} ± 0 % (every random draw 0.5) with its push socket open,
   * then a server restart; returns once the socket is back, with when the first poll was answered.
   */
  private Restarted restartUnderAnAgentInStep(Duration interval) throws Exception {
    server = new LiveServer(temp.resolve("server"), interval);
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b.random(ALWAYS_HALF)).start();
    listener.awaitApplied(revision, SOON);
    long answered = System.nanoTime();
    awaitPushSockets(1);

    server.stop();
    server.start();
    awaitPushSockets(1);
    return new Restarted(listener, revision, answered);
  }

  private static final java.util.random.RandomGenerator ALWAYS_HALF = new java.util.random.RandomGenerator() {
    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public double nextDouble() {
      return 0.5;
    }
  };

  @Test
  void pushFailsOverToTheNextServerWithoutWaitingForAPoll() throws Exception {
    // Polls every 5 minutes: only the push socket's own failover can move the agent in time.
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    URI second = server.startSecondNode();
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b.server(second).maxBackoff(Duration.ofSeconds(2))).start();
    listener.awaitApplied(revision, SOON);
    awaitPushSockets(1);

    server.stopFirstNode();

    long deadline = System.nanoTime() + SOON.toNanos();
    while (server.secondNodePushSockets() != 1) {
      assertThat(System.nanoTime()).as("a push socket on the second node").isLessThan(deadline);
      Thread.sleep(10);
    }
    assertAppliedWithinASecond(listener, "{\"block\": false}");
  }

  @Test
  void runsOnASharedSchedulerOneTaskAtATimeAndLeavesItRunning() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(5));
    long revision = server.publish("usb", "{\"block\": true}");
    java.util.concurrent.ScheduledExecutorService shared = java.util.concurrent.Executors.newScheduledThreadPool(4);
    java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
    try {
      RecordingListener listener = new RecordingListener();
      PolicyAgent agent = agent(temp.resolve("agent"), listener, b -> b.scheduler(shared).applier(set -> {
        if (inside.incrementAndGet() > 1) {
          overlaps.incrementAndGet();
        }
        Thread.sleep(50);
        inside.decrementAndGet();
        return ApplyResult.success();
      }));
      agent.start();
      listener.awaitApplied(revision, SOON);
      for (int i = 0; i < 5; i++) {
        long next = server.publish("usb", "{\"round\": " + i + "}");
        agent.pollNow();
        agent.pollNow();
        listener.awaitApplied(next, SOON);
      }
      agent.close();

      assertThat(overlaps).hasValue(0);
      assertThat(shared.isShutdown()).isFalse();
      assertThat(shared.submit(() -> "still works").get()).isEqualTo("still works");
    } finally {
      shared.shutdownNow();
    }
  }

  @Test
  void longPollBringsAPublishWithinASecondWithoutPush() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(30));
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b.push(false).longPoll(true)).start();
    listener.awaitApplied(revision, SOON);
    Thread.sleep(300); // let the next long poll park

    assertAppliedWithinASecond(listener, "{\"block\": false}");
  }

  /** Publishes {@code settings} and asserts the agent applied the new revision within a second. */
  private void assertAppliedWithinASecond(RecordingListener listener, String settings) throws InterruptedException {
    long published = server.publish("usb", settings);
    long start = System.nanoTime();
    RecordingListener.Event applied = listener.await("applied",
        set -> ((PolicySet) set).revision() == published, Duration.ofSeconds(5));
    assertThat(Duration.ofNanos(applied.nanos() - start)).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void aRevokedAgentStopsPollingAndKeepsItsSet() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    long revision = server.publish("usb", "{\"block\": true}");
    RecordingListener listener = new RecordingListener();
    PolicyAgent agent = agent(temp.resolve("agent"), listener, b -> b);
    agent.start();
    listener.awaitApplied(revision, SOON);
    awaitPushSockets(1);

    server.revoke(listener.agentId);
    server.publish("usb", "{\"block\": false}");
    agent.pollNow();

    listener.await("revoked", SOON);
    awaitPushSockets(0);
    assertThat(agent.current()).map(PolicySet::revision).contains(revision);
    int events = listener.events.size();
    agent.pollNow();
    Thread.sleep(500);
    assertThat(listener.events).hasSize(events);
    assertThat(listener.count("revoked")).isEqualTo(1);
  }

  @Test
  void aRefusedTokenStopsTheAgentWithAReason() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    RecordingListener listener = new RecordingListener();
    agent(temp.resolve("agent"), listener, b -> b.enrollmentToken("est.bogus.token.value")).start();

    RecordingListener.Event error = listener.await("error", SOON);
    assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.ENROLLMENT_REFUSED);
    assertThat(((PolicyAgentException) error.detail()).getMessage()).contains("401");
  }

  private RecordingListener firstRun;

  /**
   * Starts a server with one published revision and an agent on {@code state} that applies and
   * reports it, then closes the agent; returns the revision.
   */
  private long runOnceAndClose(Path state) throws InterruptedException {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    long revision = server.publish("usb", "{\"block\": true}");
    firstRun = new RecordingListener();
    PolicyAgent agent = agent(state, firstRun, b -> b.push(false));
    agent.start();
    firstRun.awaitApplied(revision, SOON);
    awaitReport(firstRun, revision);
    agent.close();
    return revision;
  }

  private Agent awaitReport(RecordingListener listener, long revision) throws InterruptedException {
    long deadline = System.nanoTime() + SOON.toNanos();
    while (System.nanoTime() < deadline) {
      if (listener.agentId != null) {
        Agent agent = server.agent(listener.agentId);
        if (agent.appliedRevision().isPresent() && agent.appliedRevision().getAsLong() == revision) {
          return agent;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the server never heard that revision " + revision + " was applied");
  }

  private void awaitPushSockets(int count) throws InterruptedException {
    long deadline = System.nanoTime() + SOON.toNanos();
    while (server.pushSockets() != count) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("push sockets: " + server.pushSockets() + ", expected " + count);
      }
      Thread.sleep(10);
    }
  }
}
