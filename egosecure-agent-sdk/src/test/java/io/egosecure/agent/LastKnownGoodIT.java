package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.model.PolicySet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the agent does with its saved set when things go wrong: an expired set with the server
 * down (stale, or fail closed), and a state file torn or tampered with on disk.
 */
class LastKnownGoodIT {
  /** Past the server's 7-day validity and the 5-minute skew. */
  private static final Clock NEXT_MONTH = Clock.offset(Clock.systemUTC(), Duration.ofDays(30));

  @TempDir Path temp;
  private LiveServer server;
  private Path state;
  private long revision;
  private final List<PolicySet> applied = new CopyOnWriteArrayList<>();

  @BeforeEach
  void enrollOnce() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(300));
    revision = server.publish("usb", "{\"block\": true}");
    state = temp.resolve("agent");
    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b.enrollmentToken(server.enrollmentToken()))) {
      agent.start();
      listener.awaitApplied(revision, Duration.ofSeconds(10));
    }
    applied.clear();
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  private PolicyAgent agent(RecordingListener listener, UnaryOperator<PolicyAgent.Builder> options) {
    return options.apply(PolicyAgent.builder()
        .server(server.uri())
        .trustCertificates(server.certificate.pem())
        .stateDirectory(state)
        .listener(listener)
        .push(false)
        .applier(set -> {
          applied.add(set);
          return ApplyResult.success();
        })).build();
  }

  @Test
  void anExpiredSetStaysInForceAndIsReportedStale() throws Exception {
    server.stop();
    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b.clock(NEXT_MONTH))) {
      agent.start();
      listener.await("stale", Duration.ofSeconds(10));
      assertThat(listener.names()).containsSubsequence("applied", "stale");
      assertThat(agent.current()).map(PolicySet::revision).contains(revision);
      assertThat(applied).hasSize(1);
    }
  }

  @Test
  void failingClosedWithdrawsAnExpiredSet() throws Exception {
    server.stop();
    List<PolicySet> lockedDown = new CopyOnWriteArrayList<>();
    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b.clock(NEXT_MONTH).failClosed(lockedDown::add))) {
      agent.start();
      listener.await("stale", Duration.ofSeconds(10));
      assertThat(lockedDown).extracting(PolicySet::revision).containsExactly(revision);
      assertThat(applied).isEmpty();
      assertThat(agent.current()).isEmpty();
      listener.assertNone("applied");
    }
  }

  @Test
  void aFreshSetEndsStaleness() throws Exception {
    RecordingListener listener = new RecordingListener();
    // The saved set is old by this clock; the server's fresh copy of the same revision is not.
    Clock nearExpiry = Clock.offset(Clock.systemUTC(), Duration.ofDays(7).plusMinutes(6));
    try (PolicyAgent agent = agent(listener, b -> b.clock(nearExpiry).failClosed(set -> { }))) {
      agent.start();
      listener.await("stale", Duration.ofSeconds(10));
      // The server re-issues at half the validity; to this clock its copy of the revision is
      // expired too, so the agent rejects it and stays closed rather than trusting it.
      listener.await("rejected", r -> ((Rejection) r).reason() == Rejection.Reason.EXPIRED, Duration.ofSeconds(10));
      assertThat(agent.current()).isEmpty();
    }
  }

  @Test
  void aTruncatedSetFileIsReportedAndReplacedFromTheServer() throws Exception {
    Path file = state.resolve(StateDirectory.POLICY_SET);
    byte[] whole = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(whole, whole.length - 40));

    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b)) {
      agent.start();
      RecordingListener.Event error = listener.await("error", Duration.ofSeconds(10));
      assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.STATE_CORRUPT);
      listener.awaitApplied(revision, Duration.ofSeconds(10));
      assertThat(Files.readAllBytes(file)).isNotEqualTo(java.util.Arrays.copyOf(whole, whole.length - 40));
    }
  }

  @Test
  void aSetTamperedWithOnDiskIsNeverApplied() throws Exception {
    Path file = state.resolve(StateDirectory.POLICY_SET);
    Files.writeString(file, Files.readString(file).replace("\\\"block\\\":true", "\\\"block\\\":false"));

    server.stop();
    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b)) {
      agent.start();
      RecordingListener.Event error = listener.await("error", Duration.ofSeconds(10));
      assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.STATE_CORRUPT);
      assertThat(((PolicyAgentException) error.detail()).getMessage()).contains("bad-signature");
      Thread.sleep(300);
      assertThat(applied).isEmpty();
      assertThat(agent.current()).isEmpty();
    }
  }

  @Test
  void aCorruptIdentityWithoutATokenStopsWithAReasonNotACrash() throws Exception {
    Files.writeString(state.resolve(StateDirectory.IDENTITY), "{\"agentId\": ");
    RecordingListener listener = new RecordingListener();
    try (PolicyAgent agent = agent(listener, b -> b)) {
      agent.start();
      listener.await("error", e -> ((PolicyAgentException) e).kind() == PolicyAgentException.Kind.NOT_ENROLLED,
          Duration.ofSeconds(10));
      assertThat(listener.events).extracting(event -> ((PolicyAgentException) event.detail()).kind())
          .containsExactly(PolicyAgentException.Kind.STATE_CORRUPT, PolicyAgentException.Kind.NOT_ENROLLED);
    }
  }
}
