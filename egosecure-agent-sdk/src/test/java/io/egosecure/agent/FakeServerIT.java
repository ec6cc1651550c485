package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.agent.testkit.FakePolicyServer;
import io.egosecure.agent.testkit.FakeResponse;
import io.egosecure.agent.testkit.RecordedRequest;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.wire.AgentMessages.StatusReport;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the real server never sends — tampered, older, expired and foreign sets, 503s, revocation
 * mid-flight — scripted with the test kit's {@link FakePolicyServer}.
 */
class FakeServerIT {
  private static final Duration SOON = Duration.ofSeconds(10);

  @TempDir Path temp;
  private FakePolicyServer server;
  private PolicyAgent agent;
  private final RecordingListener listener = new RecordingListener();
  private final List<PolicySet> applied = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() {
    server = FakePolicyServer.start();
    server.pollInterval(Duration.ofSeconds(1), 0);
  }

  @AfterEach
  void stopAll() {
    if (agent != null) {
      agent.close();
    }
    server.close();
  }

  /** An agent of the fake server; {@code options} may put other servers before it. */
  private void startAgent(UnaryOperator<PolicyAgent.Builder> options) {
    agent = options.apply(PolicyAgent.builder()
        .trustCertificates(server.certificatePem())
        .enrollmentToken(server.enrollmentToken())
        .stateDirectory(temp.resolve("agent"))
        .listener(listener)
        .push(false)
        .applier(set -> {
          applied.add(set);
          return ApplyResult.success();
        })).server(server.uri()).build();
    agent.start();
  }

  /** Starts an agent and waits until it has applied and reported {@code revision}. */
  private String startAgentAt(long revision) throws Exception {
    startAgent(b -> b);
    listener.awaitApplied(revision, SOON);
    assertThat(takeReport()).isEqualTo(new StatusReport(revision, AgentState.APPLIED, ""));
    return listener.agentId.value();
  }

  @Test
  void aTamperedSetIsRejectedReportedAndNeverApplied() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    String agentId = startAgentAt(revision);
    byte[] good = server.signedPolicySet(agentId, revision + 1, Instant.now(), Instant.now().plus(Duration.ofDays(1)),
        List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}")));
    byte[] tampered = new String(good, StandardCharsets.UTF_8).replace("\"block\":true", "\"block\":false")
        .getBytes(StandardCharsets.UTF_8);

    server.enqueue(FakeResponse.policySet(tampered).forPath(FakePolicyServer.POLICIES_PATH));

    assertRejected(Rejection.Reason.BAD_SIGNATURE, revision + 1);
  }

  @Test
  void anOlderRevisionIsARollback() throws Exception {
    server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}"));
    String agentId = startAgentAt(revision);
    byte[] older = server.signedPolicySet(agentId, revision - 1, Instant.now(), Instant.now().plus(Duration.ofDays(1)),
        List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}")));

    server.enqueue(FakeResponse.policySet(older).forPath(FakePolicyServer.POLICIES_PATH));

    assertRejected(Rejection.Reason.ROLLBACK, revision - 1);
  }

  @Test
  void anExpiredSetIsAFreezeAttempt() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    String agentId = startAgentAt(revision);
    Instant longAgo = Instant.now().minus(Duration.ofDays(10));
    byte[] expired = server.signedPolicySet(agentId, revision + 1, longAgo, longAgo.plus(Duration.ofDays(7)),
        List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}")));

    server.enqueue(FakeResponse.policySet(expired).forPath(FakePolicyServer.POLICIES_PATH));

    assertRejected(Rejection.Reason.EXPIRED, revision + 1);
  }

  @Test
  void aSetSignedByAnotherTenantsKeyIsRejected() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    String agentId = startAgentAt(revision);
    byte[] foreign = FakePolicyServer.signedPolicySet(FakePolicyServer.generateSigningKey(), "tenant-other", agentId,
        revision + 1, Instant.now(), Instant.now().plus(Duration.ofDays(1)),
        List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}")));

    server.enqueue(FakeResponse.policySet(foreign).forPath(FakePolicyServer.POLICIES_PATH));

    assertRejected(Rejection.Reason.UNKNOWN_KEY, revision + 1);
  }

  @Test
  void aReplayedOldResponseIsARollbackNeverAppliedAgain() throws Exception {
    long first = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(first);
    byte[] recorded = receivedBody(); // the exact 200 body the agent verified and applied
    long second = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}"));
    listener.awaitApplied(second, SOON);
    assertThat(takeReport()).isEqualTo(new StatusReport(second, AgentState.APPLIED, ""));

    // Someone on the path (or a confused cache) answers with the old, validly signed response.
    server.enqueue(FakeResponse.policySet(recorded).forPath(FakePolicyServer.POLICIES_PATH));

    assertRejectedNotReapplied(Rejection.Reason.ROLLBACK, first);
    assertThat(applied).extracting(PolicySet::revision).containsExactly(first, second);
    assertThat(agent.current()).map(PolicySet::revision).contains(second);
  }

  @Test
  void aReplayOfTheSetAReissueReplacedIsARollback() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(revision);
    byte[] beforeReissue = receivedBody();
    Instant reissuedAt = server.reissue();
    agent.pollNow();
    awaitCurrentIssuedAt(reissuedAt);

    server.enqueue(FakeResponse.policySet(beforeReissue).forPath(FakePolicyServer.POLICIES_PATH));

    RecordingListener.Event event = listener.await("rejected", SOON);
    assertThat(((Rejection) event.detail()).reason()).isEqualTo(Rejection.Reason.ROLLBACK);
    StatusReport report = takeReportAfterApplied();
    assertThat(report.state()).isEqualTo(AgentState.FAILED);
    assertThat(report.message()).startsWith("rollback: ");
    assertThat(agent.current()).map(PolicySet::issuedAt).contains(reissuedAt);
  }

  @Test
  void anotherAgentsSetSignedByTheRightKeyIsRejected() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(revision);
    // A second agent of the same tenant, whose validly signed set an attacker captured.
    RecordingListener otherListener = new RecordingListener();
    try (PolicyAgent other = PolicyAgent.builder()
        .trustCertificates(server.certificatePem())
        .enrollmentToken(server.enrollmentToken())
        .stateDirectory(temp.resolve("other-agent"))
        .listener(otherListener)
        .push(false)
        .applier(set -> ApplyResult.success())
        .server(server.uri()).build()) {
      other.start();
      otherListener.awaitApplied(revision, SOON);
    }
    assertThat(takeReport().state()).isEqualTo(AgentState.APPLIED); // the other agent's report
    byte[] othersSet = receivedBody(temp.resolve("other-agent"));
    long next = revision + 1;
    byte[] othersNewer = server.signedPolicySet(otherListener.agentId.value(), next, Instant.now(),
        Instant.now().plus(Duration.ofDays(1)), List.of(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}")));

    server.enqueue(FakeResponse.policySet(othersSet).forPath(FakePolicyServer.POLICIES_PATH));
    assertRejectedNotReapplied(Rejection.Reason.WRONG_AGENT, revision);
    server.enqueue(FakeResponse.policySet(othersNewer).forPath(FakePolicyServer.POLICIES_PATH));
    assertThat(((Rejection) listener.await("rejected", r -> ((Rejection) r).revision().equals(OptionalLong.of(next)), SOON).detail()).reason())
        .isEqualTo(Rejection.Reason.WRONG_AGENT);
    assertThat(applied).extracting(PolicySet::agentId).containsOnly(listener.agentId);
  }

  /** Like {@link #assertRejected}, for a revision the agent had applied before: applied once only. */
  private void assertRejectedNotReapplied(Rejection.Reason reason, long revision) throws Exception {
    Rejection rejection = (Rejection) listener.await("rejected", SOON).detail();
    assertThat(rejection.reason()).isEqualTo(reason);
    StatusReport report = takeReport();
    assertThat(report.state()).isEqualTo(AgentState.FAILED);
    assertThat(report.revision()).isEqualTo(revision);
    assertThat(report.message()).startsWith(reason.code() + ": ");
    assertThat(applied).extracting(PolicySet::revision).containsOnlyOnce(revision);
  }

  /** The PolicySet body, exactly as received, that the agent last verified and kept. */
  private byte[] receivedBody() throws Exception {
    return receivedBody(temp.resolve("agent"));
  }

  private static byte[] receivedBody(Path stateDirectory) throws Exception {
    String stored = java.nio.file.Files.readString(stateDirectory.resolve(StateDirectory.POLICY_SET));
    return io.egosecure.core.wire.Json.readTree(stored.getBytes(StandardCharsets.UTF_8)).get("policySet").asText()
        .getBytes(StandardCharsets.UTF_8);
  }

  private void awaitCurrentIssuedAt(Instant issuedAt) throws InterruptedException {
    long deadline = System.nanoTime() + SOON.toNanos();
    while (!agent.current().map(PolicySet::issuedAt).equals(Optional.of(issuedAt))) {
      assertThat(System.nanoTime()).as("the re-issued set within %s", SOON).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  /** The next report that is not the APPLIED of a re-issue. */
  private StatusReport takeReportAfterApplied() throws InterruptedException {
    StatusReport report = takeReport();
    while (report.state() == AgentState.APPLIED) {
      report = takeReport();
    }
    return report;
  }

  private void assertRejected(Rejection.Reason reason, long revision) throws Exception {
    RecordingListener.Event event = listener.await("rejected", SOON);
    Rejection rejection = (Rejection) event.detail();
    assertThat(rejection.reason()).isEqualTo(reason);
    StatusReport report = takeReport();
    assertThat(report.state()).isEqualTo(AgentState.FAILED);
    assertThat(report.revision()).isEqualTo(revision);
    assertThat(report.message()).startsWith(reason.code() + ": ");
    assertThat(applied).extracting(PolicySet::revision).doesNotContain(revision);
    assertThat(agent.current()).map(PolicySet::revision).isNotEqualTo(Optional.of(revision));
  }

  @Test
  void aFailedApplyIsReportedAndRetriedWithTheETagOfTheSetInForce() throws Exception {
    long first = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    List<Long> attempts = new CopyOnWriteArrayList<>();
    startAgent(b -> b.applier(set -> {
      attempts.add(set.revision());
      if (set.revision() == first) {
        return ApplyResult.success();
      }
      if (attempts.stream().filter(r -> r == set.revision()).count() == 1) {
        return ApplyResult.failure("driver busy");
      }
      throw new IllegalStateException("driver gone");
    }));
    listener.awaitApplied(first, SOON);
    assertThat(takeReport().state()).isEqualTo(AgentState.APPLIED);
    String etagInForce = lastPollAnswerEtag();

    long second = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":false}"));

    StatusReport failed = takeReport();
    assertThat(failed).isEqualTo(new StatusReport(second, AgentState.FAILED, "apply-failed: driver busy"));
    StatusReport threw = takeReport();
    assertThat(threw.state()).isEqualTo(AgentState.FAILED);
    assertThat(threw.message()).contains("driver gone");
    // Every poll since still names the set in force, never the one that failed (opa#2220).
    RecordedRequest poll = nextPoll();
    assertThat(poll.header("If-None-Match")).contains(etagInForce);
    assertThat(agent.current()).map(PolicySet::revision).contains(first);
  }

  @Test
  void aResponseOverTheLimitIsRefusedUnread() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgent(b -> b.maxResponseBytes(64 * 1024));
    listener.awaitApplied(revision, SOON);
    forgetRequests();
    byte[] huge = ("{\"padding\":\"" + "x".repeat(200_000) + "\"}").getBytes(StandardCharsets.UTF_8);
    server.enqueue(FakeResponse.policySet(huge).forPath(FakePolicyServer.POLICIES_PATH));

    RecordingListener.Event error = listener.await("error",
        e -> ((Throwable) e).getMessage().contains("limit of 65536 bytes"), SOON);
    assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.SERVER_UNAVAILABLE);
    assertThat(listener.count("rejected")).isZero();
    nextPoll(); // and the agent carries on
    assertThat(agent.current()).map(PolicySet::revision).contains(revision);
  }

  @Test
  void aLongPollThatKeepsBringingAFailingSetWaitsForTheInterval() throws Exception {
    server.pollInterval(Duration.ofSeconds(2), 0);
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgent(b -> b.longPoll(true).applier(set -> ApplyResult.failure("driver busy")));
    listener.await("rejected", SOON);
    String agentId = server.agentIds().get(0);
    int polls = server.pollCount(agentId);

    Thread.sleep(3_000); // a tight loop would poll hundreds of times here

    assertThat(server.pollCount(agentId) - polls).isBetween(1, 3);
    assertThat(takeReport()).isEqualTo(new StatusReport(revision, AgentState.FAILED, "apply-failed: driver busy"));
  }

  @Test
  void aRestartSaysAgainWhatIsInForce() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(revision);
    agent.close();

    startAgent(b -> b);
    // The report of the first run may never have arrived: the restarted agent says it again.
    assertThat(takeReport()).isEqualTo(new StatusReport(revision, AgentState.APPLIED, ""));
  }

  @Test
  void aListenerMayCloseTheAgentFromTheAgentsOwnThread() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    PolicyAgent[] self = new PolicyAgent[1];
    java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    startAgent(b -> b.listener(new PolicyAgentListener() {
      @Override
      public void revoked() {
        self[0].close();
        closed.countDown();
      }
    }));
    self[0] = agent;
    String agentId = awaitEnrolled();
    while (server.pollCount(agentId) == 0 || agent.current().isEmpty()) {
      Thread.sleep(10);
    }
    server.revoke(agentId);
    agent.pollNow();

    assertThat(closed.await(3, java.util.concurrent.TimeUnit.SECONDS)).as("close() returned at once").isTrue();
    // The state directory is free again: a new agent may use it, and enforces the saved set.
    RecordingListener second = new RecordingListener();
    startAgent(b -> b.listener(second));
    second.awaitApplied(revision, SOON);
  }

  @Test
  void anUnreadableIdentityStopsTheAgentButIsKept() throws Exception {
    java.nio.file.Files.createDirectories(temp.resolve("agent").resolve(StateDirectory.IDENTITY)); // cannot be read as a file
    startAgent(b -> b);

    RecordingListener.Event error = listener.await("error", SOON);
    assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.STATE_UNUSABLE);
    assertThat(temp.resolve("agent").resolve(StateDirectory.IDENTITY)).isDirectory();
    listener.assertNone("enrolled");
  }

  @Test
  void retryAfterIsHonoured() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(revision);
    forgetRequests();
    server.enqueue(FakeResponse.status(503).retryAfter(Duration.ofSeconds(3)).forPath(FakePolicyServer.POLICIES_PATH));

    RecordedRequest refused = nextPoll();
    long refusedAt = System.nanoTime();
    nextPoll();
    Duration gap = Duration.ofNanos(System.nanoTime() - refusedAt);

    assertThat(gap).isGreaterThanOrEqualTo(Duration.ofMillis(2_900));
    assertThat(refused).isNotNull();
    RecordingListener.Event error = listener.await("error", SOON);
    assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.SERVER_UNAVAILABLE);
  }

  @Test
  void retriesAfterFailuresNeverWaitLongerThanAPollInterval() throws Exception {
    // Uncapped, the 6th retry of a full-jitter backoff may wait up to 32 s: a fleet back from a
    // long outage would trickle in over minutes instead of within one interval (issue 8, item 2).
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    startAgentAt(revision);
    forgetRequests();
    int failures = 7;
    for (int i = 0; i < failures; i++) {
      server.enqueue(FakeResponse.status(503).forPath(FakePolicyServer.POLICIES_PATH));
    }

    nextPoll();
    long previous = System.nanoTime();
    Duration longest = Duration.ZERO;
    for (int i = 0; i < failures; i++) {
      nextPoll();
      long now = System.nanoTime();
      longest = longest.compareTo(Duration.ofNanos(now - previous)) >= 0 ? longest : Duration.ofNanos(now - previous);
      previous = now;
    }

    // The interval is 1 s without jitter; the rest is this machine's scheduling.
    assertThat(longest).isLessThan(Duration.ofMillis(1_500));
  }

  @Test
  void aRevokedCredentialStopsPolling() throws Exception {
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    String agentId = startAgentAt(revision);

    server.revoke(agentId);
    listener.await("revoked", SOON);
    int polls = server.pollCount(agentId);
    agent.pollNow();
    Thread.sleep(2_500); // two and a half intervals

    assertThat(server.pollCount(agentId)).isEqualTo(polls);
    assertThat(agent.current()).map(PolicySet::revision).contains(revision);
  }

  @Test
  void failsOverToTheNextServerAndStaysThere() throws Exception {
    URI dead;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      dead = URI.create("https://127.0.0.1:" + socket.getLocalPort() + "/");
    } // closed: connections are refused
    long revision = server.publish(FakePolicyServer.policy("usb", "device-control", "{\"block\":true}"));
    URI deadServer = dead;
    startAgent(b -> b.server(deadServer));

    listener.awaitApplied(revision, SOON);
    int polls = server.pollCount(listener.agentId.value());
    Thread.sleep(2_500);
    assertThat(server.pollCount(listener.agentId.value())).isGreaterThanOrEqualTo(polls + 2);
    assertThat(listener.count("error")).isEqualTo(1); // the one refused connection, then no more
  }

  /** Waits until the fake server has enrolled the agent, and returns its id. */
  private String awaitEnrolled() throws InterruptedException {
    long deadline = System.nanoTime() + SOON.toNanos();
    while (server.agentIds().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(server.agentIds()).hasSize(1);
    return server.agentIds().get(0);
  }

  private StatusReport takeReport() throws InterruptedException {
    StatusReport report = server.takeStatusReport(SOON);
    assertThat(report).as("a status report").isNotNull();
    return report;
  }

  private RecordedRequest nextPoll() throws InterruptedException {
    long deadline = System.nanoTime() + SOON.toNanos();
    while (System.nanoTime() < deadline) {
      RecordedRequest request = server.takeRequest(SOON);
      if (request != null && request.path().equals(FakePolicyServer.POLICIES_PATH)) {
        return request;
      }
    }
    throw new AssertionError("no poll within " + SOON);
  }

  private String lastPollAnswerEtag() throws InterruptedException {
    // The agent sends back the ETag it holds: read it off its next poll.
    forgetRequests();
    return nextPoll().header("If-None-Match").orElseThrow();
  }

  private void forgetRequests() throws InterruptedException {
    while (server.takeRequest(Duration.ZERO) != null) {
      // earlier requests are not what the test waits for
    }
  }
}
