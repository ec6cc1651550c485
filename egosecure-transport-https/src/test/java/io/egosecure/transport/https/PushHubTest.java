package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.OutgoingEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fan-out itself, without sockets: how a publish is split over the executor and timed. */
class PushHubTest {
  private static final int AGENTS = PushHub.MIN_SLICE * 3 + 7;
  private static PolicyServer server;
  private static TenantId tenant;
  private static final List<AgentIdentity> agents = new ArrayList<>();

  @BeforeAll
  static void enrollAgents() {
    server = PolicyServer.builder().store(PolicyStore.inMemory()).masterKey(KeyVault.generateMasterKey()).build();
    server.start();
    Principal operator = server.authenticateAdmin(server.bootstrapOperatorKey("test").orElseThrow().secret());
    tenant = server.createTenant(operator, "Push").id();
    String token = server.createEnrollmentToken(operator, tenant, Duration.ofHours(1), AGENTS, Set.of()).secret();
    for (int i = 0; i < AGENTS; i++) {
      agents.add(server.authenticateAgent(server.enroll(token, "agent-" + i, Map.of()).credential()));
    }
  }

  @AfterAll
  static void close() {
    server.close();
  }

  /** A session that records the text it is sent and how it was closed. */
  static final class RecordingSession extends CoreSession.Empty {
    final List<String> texts = new ArrayList<>();
    Integer closedWith;

    @Override
    public void close(int statusCode, String reason, Callback callback) {
      closedWith = statusCode;
      callback.succeeded();
    }

    @Override
    public boolean isOutputOpen() {
      return true;
    }

    @Override
    public void sendFrame(Frame frame, Callback callback, boolean batch) {
      if (frame.getOpCode() == OpCode.TEXT) {
        texts.add(StandardCharsets.UTF_8.decode(frame.getPayload()).toString());
      }
      callback.succeeded();
    }

    @Override
    public void sendFrame(OutgoingEntry entry) {
      sendFrame(entry.getFrame(), entry.getCallback(), entry.isBatch());
    }
  }

  @Test
  void aPublishIsSplitIntoOneSliceASenderAtMostThatRunOnTheExecutorNotOnThePublishingThread() {
    PushHub hub = new PushHub(server::currentRevision, 2, broadcastTimer());
    ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    hub.executor(tasks::add);
    List<RecordingSession> sessions = openAll(hub);

    hub.revisionPublished(tenant, 7);

    assertThat(sessions).allSatisfy(session -> assertThat(session.texts).isEmpty());
    assertThat(tasks).as("two senders, whatever the number of sockets").hasSize(2);
    tasks.forEach(Runnable::run);
    assertThat(sessions).allSatisfy(session ->
        assertThat(session.texts).containsExactly("{\"type\":\"policies-changed\",\"revision\":7}"));
  }

  @Test
  void slicesAreNeverSmallerThanTheMinimumAndCoverEverySocketOnce() {
    for (int senders : new int[] {1, 3, 4, 64}) {
      PushHub hub = new PushHub(server::currentRevision, senders, broadcastTimer());
      ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
      hub.executor(tasks::add);
      List<RecordingSession> sessions = openAll(hub);

      hub.revisionPublished(tenant, 9);

      assertThat(tasks).as(senders + " senders").hasSize(Math.min(senders, AGENTS / PushHub.MIN_SLICE));
      tasks.forEach(Runnable::run);
      assertThat(sessions).allSatisfy(session -> assertThat(session.texts).hasSize(1));
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PushHub(server::currentRevision, 0, broadcastTimer()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("senders cannot be less than 1, was 0");
  }

  @Test
  void aSocketThatOpensIsToldTheTenantsRevisionAndOneOfARevokedAgentIsClosedInstead() {
    PushHub hub = new PushHub(agent -> agent == agents.get(0) ? OptionalLong.of(42) : OptionalLong.empty(), broadcastTimer());
    RecordingSession current = new RecordingSession();
    RecordingSession revoked = new RecordingSession();

    hub.socketFor(agents.get(0)).onOpen(current, Callback.NOOP);
    hub.socketFor(agents.get(1)).onOpen(revoked, Callback.NOOP);

    assertThat(current.texts).containsExactly("{\"type\":\"policies-changed\",\"revision\":42}");
    assertThat(current.closedWith).isNull();
    assertThat(revoked.texts).isEmpty();
    assertThat(revoked.closedWith).isEqualTo(PushHub.POLICY_VIOLATION);
  }

  @Test
  void anotherTenantsPublishSendsNothing() {
    PushHub hub = new PushHub(server::currentRevision, broadcastTimer());
    ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    hub.executor(tasks::add);
    RecordingSession session = new RecordingSession();
    hub.socketFor(agents.get(0)).onOpen(session, Callback.NOOP);

    hub.revisionPublished(TenantId.of("t-other"), 3);

    assertThat(tasks).isEmpty();
    assertThat(hub.openSockets()).isEqualTo(1);
  }

  @Test
  void aBroadcastIsTimedOnceWhenItsLastSendCompletesEvenIfSomeFail() {
    Timer broadcasts = broadcastTimer();
    PushHub hub = new PushHub(server::currentRevision, 2, broadcasts);
    ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    hub.executor(tasks::add);
    List<RecordingSession> sessions = openAll(hub);
    FailingSession gone = new FailingSession();
    hub.socketFor(agents.get(0)).onOpen(gone, Callback.NOOP);
    sessions.remove(0);

    hub.revisionPublished(tenant, 11);

    tasks.poll().run();
    assertThat(broadcasts.count()).as("one slice of two sent").isZero();
    tasks.poll().run();
    assertThat(broadcasts.count()).isEqualTo(1);
    assertThat(broadcasts.totalTime(TimeUnit.NANOSECONDS)).isPositive();
    assertThat(gone.sends).as("its greeting and the broadcast").isEqualTo(2);
    assertThat(sessions).allSatisfy(session -> assertThat(session.texts).hasSize(1));
  }

  private static Timer broadcastTimer() {
    return Transport.pushBroadcastTimer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** A session whose sends fail, as they do once the agent has gone. */
  static final class FailingSession extends CoreSession.Empty {
    int sends;

    @Override
    public boolean isOutputOpen() {
      return true;
    }

    @Override
    public void sendFrame(Frame frame, Callback callback, boolean batch) {
      sends++;
      callback.failed(new IOException("broken pipe"));
    }
  }

  /** Opens one recording socket per agent on {@code hub}. */
  private List<RecordingSession> openAll(PushHub hub) {
    List<RecordingSession> sessions = new ArrayList<>();
    for (AgentIdentity agent : agents) {
      RecordingSession session = new RecordingSession();
      hub.socketFor(agent).onOpen(session, Callback.NOOP);
      assertThat(session.texts).as("the greeting").containsExactly("{\"type\":\"policies-changed\",\"revision\":0}");
      session.texts.clear();
      sessions.add(session);
    }
    return sessions;
  }
}
