package io.egosecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Enrollment, polling, long polls, re-issue and revocation, on a real in-memory store. */
class PolicyServerPollingTest {
  private final ServerFixture fx = new ServerFixture();
  private final PolicyServer server = fx.server;

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  private static JsonNode body(PollResult result) {
    ByteBuffer json = ((PollResult.Changed) result).policySet().json();
    byte[] bytes = new byte[json.remaining()];
    json.get(bytes);
    return Json.readTree(bytes);
  }

  private static PollResult now(CompletableFuture<PollResult> future) throws Exception {
    assertThat(future).isDone();
    return future.get();
  }

  @Test
  void aNewAgentGetsRevisionZeroSignedWithItsTenantsKey() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "host-01");

    AgentIdentity agent = server.authenticateAgent(enrollment.credential());
    PollResult result = now(server.poll(agent, Optional.empty(), Duration.ZERO));

    assertThat(result).isInstanceOf(PollResult.Changed.class);
    PolicySet set = ((PollResult.Changed) result).policySet().policySet();
    assertThat(set.revision()).isZero();
    assertThat(set.policies()).isEmpty();
    assertThat(set.agentId()).isEqualTo(enrollment.agent().id());
    assertThat(set.tenantId()).isEqualTo(tenant.id());
    assertThat(set.expiresAt()).isEqualTo(set.issuedAt().plus(ServerFixture.VALIDITY));
    PublicSigningKey key = enrollment.signingKeys().get(0);
    assertThat(PolicySets.verify(body(result), key)).isTrue();
    assertThat(PolicySets.parse(body(result))).isEqualTo(set);
  }

  @Test
  void anAgentGetsAllAgentsPoliciesAndThoseOfItsGroupsOnly() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("all staff", Targets.allAgents()));
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("sales only", Targets.groups(Set.of("sales"))));
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("dev only", Targets.groups(Set.of("dev"))));
    server.publish(fx.operator, tenant.id(), "first");

    AgentIdentity sales = server.authenticateAgent(fx.enroll(tenant.id(), Set.of("sales"), "s").credential());
    AgentIdentity plain = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "p").credential());

    assertThat(names(now(server.poll(sales, Optional.empty(), Duration.ZERO))))
        .containsExactlyInAnyOrder("all staff", "sales only");
    assertThat(names(now(server.poll(plain, Optional.empty(), Duration.ZERO))))
        .containsExactly("all staff");
  }

  private static List<String> names(PollResult result) {
    return ((PollResult.Changed) result).policySet().policySet().policies().stream()
        .map(PolicySet.Entry::name).toList();
  }

  @Test
  void aMatchingEtagIsNotModifiedAndNeitherAnswerReadsTheStore() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("all staff", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "first");
    String credential = fx.enroll(tenant.id(), Set.of(), "host").credential();

    long before = fx.store.calls();
    AgentIdentity agent = server.authenticateAgent(credential);
    PollResult first = now(server.poll(agent, Optional.empty(), Duration.ZERO));
    PollResult second = now(server.poll(agent, Optional.of(first.etag()), Duration.ZERO));
    PollResult third = now(server.poll(agent, Optional.of("\"stale\""), Duration.ZERO));

    assertThat(second).isEqualTo(new PollResult.NotModified(first.etag(), tenant.polling()));
    assertThat(third).isInstanceOf(PollResult.Changed.class);
    assertThat(third.etag()).isEqualTo(first.etag());
    assertThat(first.etag()).matches("\"[^\"]+\"");
    assertThat(fx.store.calls()).as("store calls while polling").isEqualTo(before);
  }

  @Test
  void pollingHeadersFollowTheTenantsSettingsWhileTheSignedSetKeepsItsOwn() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    PollResult before = now(server.poll(agent, Optional.empty(), Duration.ZERO));

    var faster = new io.egosecure.core.model.PollingSettings(Duration.ofSeconds(10), 0);
    server.updatePolling(fx.operator, tenant.id(), faster);
    PollResult after = now(server.poll(agent, Optional.of(before.etag()), Duration.ZERO));

    assertThat(after).isInstanceOf(PollResult.NotModified.class);
    assertThat(after.polling()).isEqualTo(faster);
    assertThat(after.etag()).isEqualTo(before.etag());
  }

  @Test
  void aLongPollIsAnsweredAtOnceByAPublishOnAnotherNode() throws Exception {
    PolicyServer otherNode = fx.newNode();
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();

    CompletableFuture<PollResult> parked = server.poll(agent, Optional.of(etag), Duration.ofSeconds(30));
    assertThat(parked).isNotDone();
    assertThat(server.parkedPolls()).isEqualTo(1);

    otherNode.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("new", Targets.allAgents()));
    long published = System.nanoTime();
    otherNode.publish(fx.operator, tenant.id(), "wake up");

    PollResult result = parked.get(1, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - published)).isLessThan(Duration.ofSeconds(1));
    assertThat(result).isInstanceOf(PollResult.Changed.class);
    assertThat(((PollResult.Changed) result).policySet().policySet().revision()).isEqualTo(1);
    assertThat(server.parkedPolls()).isZero();
  }

  @Test
  void aLongPollWithoutAChangeAnswersNotModifiedWhenTheWaitEnds() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();

    CompletableFuture<PollResult> parked = server.poll(agent, Optional.of(etag), Duration.ofMillis(200));

    assertThat(parked.get(5, TimeUnit.SECONDS)).isInstanceOf(PollResult.NotModified.class);
    assertThat(server.parkedPolls()).isZero();
  }

  @Test
  void theInMemoryFastPathGivesThePollsOwn304OrNothingAndNeverReadsTheStore() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("all staff", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "first");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "host");
    String credential = enrollment.credential();
    AgentIdentity agent = server.authenticateAgent(credential);
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();

    long before = fx.store.calls();
    assertThat(server.authenticateKnownAgent(credential)).contains(agent);
    assertThat(server.authenticateKnownAgent(credential + "x")).isEmpty();
    // The last character changed, always: with a fixed "A" this passed the credential itself one run in 64.
    char last = credential.charAt(credential.length() - 1);
    assertThat(server.authenticateKnownAgent(credential.substring(0, credential.length() - 1) + (last == 'A' ? 'B' : 'A'))).isEmpty();
    assertThat(server.authenticateKnownAgent("esa.t-x.a-y." + "A".repeat(43))).isEmpty();
    assertThat(server.pollIfUnchanged(agent, etag))
        .contains((PollResult.NotModified) now(server.poll(agent, Optional.of(etag), Duration.ZERO)));
    assertThat(server.pollIfUnchanged(agent, "\"stale\"")).isEmpty();
    assertThat(fx.store.calls()).as("store calls on the fast path").isEqualTo(before);

    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("more", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "second");
    assertThat(server.pollIfUnchanged(agent, etag)).as("the set changed: the full poll signs it").isEmpty();
    server.revokeAgent(fx.operator, tenant.id(), enrollment.agent().id());
    assertThat(server.authenticateKnownAgent(credential)).isEmpty();
    assertThat(server.pollIfUnchanged(agent, etag)).isEmpty();
  }

  @Test
  void anAgentEnrolledOnANodeThatHasNotHeardYetIsStillAuthenticated() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    // A second node on the same store but with a change feed of its own: it hears nothing.
    try (PolicyServer deaf = PolicyServer.builder().store(fx.store).masterKey(fx.masterKey).clock(fx.clock).build()) {
      deaf.start();
      Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");

      assertThat(deaf.authenticateKnownAgent(enrollment.credential()))
          .as("the fast path never asks the store, so it cannot know this agent yet").isEmpty();
      AgentIdentity agent = deaf.authenticateAgent(enrollment.credential());

      assertThat(agent.agentId()).isEqualTo(enrollment.agent().id());
      assertThat(now(deaf.poll(agent, Optional.empty(), Duration.ZERO))).isInstanceOf(PollResult.Changed.class);
      String forged = enrollment.credential().replace(enrollment.agent().id().value(), "a-notanagent000000000");
      long before = fx.store.calls();
      for (int i = 0; i < 100; i++) {
        assertThatThrownBy(() -> deaf.authenticateAgent(forged)).isInstanceOf(UnauthenticatedException.class);
      }
      assertThat(fx.store.calls() - before).as("store reads for 100 tries of one unknown agent").isEqualTo(1);
    }
  }

  @Test
  void aCancelledLongPollStopsBeingTrackedAtOnce() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();
    CompletableFuture<PollResult> parked = server.poll(agent, Optional.of(etag), Duration.ofSeconds(30));
    assertThat(server.parkedPolls()).isEqualTo(1);

    parked.cancel(false);

    assertThat(server.parkedPolls()).isZero();
  }

  @Test
  void aPublishWakesEveryParkedPollOfTheTenantBecauseTheRevisionIsSigned() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();
    CompletableFuture<PollResult> parked = server.poll(agent, Optional.of(etag), Duration.ofSeconds(30));

    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("dev", Targets.groups(Set.of("dev"))));
    server.publish(fx.operator, tenant.id(), "not for this agent");

    // Its selection is still empty, but the revision moved: the set's bytes changed, so it wakes.
    assertThat(parked.get(1, TimeUnit.SECONDS)).isInstanceOf(PollResult.Changed.class);
  }

  @Test
  void aThousandParkedPollsHoldNoThreads() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();
    int threadsBefore = Thread.activeCount();

    List<CompletableFuture<PollResult>> parked = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      parked.add(server.poll(agent, Optional.of(etag), Duration.ofSeconds(30)));
    }

    assertThat(server.parkedPolls()).isEqualTo(1000);
    assertThat(Thread.activeCount() - threadsBefore).isLessThanOrEqualTo(5);
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("x", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "release");
    CompletableFuture.allOf(parked.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
    assertThat(parked).allMatch(f -> f.join() instanceof PollResult.Changed);
  }

  @Test
  void theServerReissuesTheSameRevisionBeforeItExpires() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "one");
    AgentIdentity agent = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "h").credential());
    PollResult first = now(server.poll(agent, Optional.empty(), Duration.ZERO));
    PolicySet firstSet = ((PollResult.Changed) first).policySet().policySet();

    fx.clock.advance(ServerFixture.VALIDITY.dividedBy(2).plusSeconds(1));
    PollResult second = now(server.poll(agent, Optional.of(first.etag()), Duration.ZERO));

    assertThat(second).isInstanceOf(PollResult.Changed.class);
    assertThat(second.etag()).isNotEqualTo(first.etag());
    PolicySet secondSet = ((PollResult.Changed) second).policySet().policySet();
    assertThat(secondSet.revision()).isEqualTo(firstSet.revision());
    assertThat(secondSet.policies()).isEqualTo(firstSet.policies());
    assertThat(secondSet.issuedAt()).isAfter(firstSet.issuedAt());
    assertThat(secondSet.expiresAt()).isAfter(firstSet.expiresAt());
    // Every node derives the same issue from the clock alone.
    PollResult fromOtherNode = now(fx.newNode().poll(agent, Optional.of(second.etag()), Duration.ZERO));
    assertThat(fromOtherNode).isInstanceOf(PollResult.NotModified.class);
  }

  @Test
  void groupChangesReachTheAgentOnlyWithTheNextPublish() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("sales", Targets.groups(Set.of("sales"))));
    server.publish(fx.operator, tenant.id(), "one");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");
    AgentIdentity agent = server.authenticateAgent(enrollment.credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();

    server.updateAgentGroups(fx.operator, tenant.id(), enrollment.agent().id(), Set.of("sales"));
    assertThat(now(server.poll(agent, Optional.of(etag), Duration.ZERO)))
        .isInstanceOf(PollResult.NotModified.class);

    PublishResult published = server.publish(fx.operator, tenant.id(), "regroup");
    assertThat(published.created()).isTrue();
    assertThat(names(now(server.poll(agent, Optional.of(etag), Duration.ZERO)))).containsExactly("sales");
  }

  @Test
  void aRevokedAgentIsRefusedAndItsParkedPollFails() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");
    AgentIdentity agent = server.authenticateAgent(enrollment.credential());
    String etag = now(server.poll(agent, Optional.empty(), Duration.ZERO)).etag();
    List<String> revoked = new CopyOnWriteArrayList<>();
    server.addListener(new PolicyServerListener() {
      @Override
      public void agentRevoked(TenantId t, io.egosecure.core.model.AgentId a) {
        revoked.add(a.value());
      }
    });
    CompletableFuture<PollResult> parked = server.poll(agent, Optional.of(etag), Duration.ofSeconds(30));

    server.revokeAgent(fx.operator, tenant.id(), enrollment.agent().id());

    assertThatThrownBy(() -> server.authenticateAgent(enrollment.credential()))
        .isInstanceOf(UnauthenticatedException.class);
    assertThatThrownBy(() -> parked.get(1, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(UnauthenticatedException.class);
    assertThat(revoked).containsExactly(enrollment.agent().id().value());
    assertThatThrownBy(() -> server.poll(agent, Optional.empty(), Duration.ZERO))
        .isInstanceOf(UnauthenticatedException.class);
  }

  @Test
  void deletingATenantStopsItsAgentsAndAdminKeysAtOnce() {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");
    IssuedAdminKey tenantAdmin = server.createTenantAdminKey(fx.operator, tenant.id(), "admin");

    server.deleteTenant(fx.operator, tenant.id());

    assertThatThrownBy(() -> server.authenticateAgent(enrollment.credential()))
        .isInstanceOf(UnauthenticatedException.class);
    assertThatThrownBy(() -> server.authenticateAdmin(tenantAdmin.secret()))
        .isInstanceOf(UnauthenticatedException.class);
  }

  @Test
  void credentialsOfTheWrongKindOrShapeAreRefused() {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");
    String credential = enrollment.credential();
    String tampered = credential.substring(0, credential.length() - 1)
        + (credential.endsWith("A") ? "B" : "A");

    for (String bad : List.of(tampered, "", "esa", "esa.x.y.z", credential + ".", credential.replace("esa.", "esk."))) {
      assertThatThrownBy(() -> server.authenticateAgent(bad)).isInstanceOf(UnauthenticatedException.class);
    }
    assertThatThrownBy(() -> server.authenticateAdmin(credential))
        .isInstanceOf(UnauthenticatedException.class);
    assertThatThrownBy(() -> server.authenticateAgent(null)).isInstanceOf(UnauthenticatedException.class);
  }

  @Test
  void anEnrollmentTokenIsBoundedByItsUsesAndItsExpiry() {
    Tenant tenant = fx.tenant("Acme");
    IssuedEnrollmentToken once =
        server.createEnrollmentToken(fx.operator, tenant.id(), Duration.ofMinutes(5), 1, Set.of("a"));
    IssuedEnrollmentToken shortLived =
        server.createEnrollmentToken(fx.operator, tenant.id(), Duration.ofMinutes(5), 5, Set.of());

    Enrollment enrolled = server.enroll(once.secret(), "h1", java.util.Map.of());
    assertThat(enrolled.agent().groups()).containsExactly("a");
    assertThat(enrolled.agent().publishedGroups()).containsExactly("a");
    assertThatThrownBy(() -> server.enroll(once.secret(), "h2", java.util.Map.of()))
        .isInstanceOf(UnauthenticatedException.class);

    fx.clock.advance(Duration.ofMinutes(5));
    assertThatThrownBy(() -> server.enroll(shortLived.secret(), "h3", java.util.Map.of()))
        .isInstanceOf(UnauthenticatedException.class);
    assertThatThrownBy(() -> server.enroll("est.garbage", "h4", java.util.Map.of()))
        .isInstanceOf(UnauthenticatedException.class);
  }

  @Test
  void aBadEnrollRequestUsesNoTokenUse() {
    Tenant tenant = fx.tenant("Acme");
    IssuedEnrollmentToken once =
        server.createEnrollmentToken(fx.operator, tenant.id(), Duration.ofMinutes(5), 1, Set.of());

    assertThatThrownBy(() -> server.enroll(once.secret(), " ", java.util.Map.of()))
        .isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> server.enroll(once.secret(), "h", java.util.Map.of("bad key!", "v")))
        .isInstanceOf(ValidationException.class);

    assertThat(server.enroll(once.secret(), "h", java.util.Map.of()).agent().name()).isEqualTo("h");
  }

  @Test
  void statusReportsFeedTheAgentListAndCompliance() {
    Tenant tenant = fx.tenant("Acme");
    server.createPolicy(fx.operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    server.publish(fx.operator, tenant.id(), "one");
    AgentIdentity good = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "good").credential());
    AgentIdentity bad = server.authenticateAgent(fx.enroll(tenant.id(), Set.of(), "bad").credential());
    fx.enroll(tenant.id(), Set.of(), "quiet");

    server.reportStatus(good, 1, AgentState.APPLIED, "");
    server.reportStatus(bad, 1, AgentState.FAILED, "disk full");

    var compliance = server.compliance(fx.operator, tenant.id());
    assertThat(compliance).isEqualTo(new io.egosecure.core.model.Compliance(1, 3, 1, 1, 1, 0));
    var failed = server.agents(fx.operator, tenant.id(),
        new AgentQuery(Optional.of(AgentState.FAILED), Optional.empty(), Optional.empty()),
        PageRequest.first());
    assertThat(failed.items()).singleElement().satisfies(agent -> {
      assertThat(agent.name()).isEqualTo("bad");
      assertThat(agent.status().orElseThrow().message()).isEqualTo("disk full");
      assertThat(agent.appliedRevision()).isEmpty();
    });
    assertThatThrownBy(() -> server.reportStatus(good, 2, AgentState.APPLIED, ""))
        .isInstanceOf(ValidationException.class);

    fx.clock.advance(tenant.polling().interval().multipliedBy(3).plusSeconds(1));
    assertThat(server.compliance(fx.operator, tenant.id()).silent()).isEqualTo(3);
  }

  @Test
  void lastSeenIsWrittenBehindNotOnEachPoll() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");
    AgentIdentity agent = server.authenticateAgent(enrollment.credential());
    fx.clock.advance(Duration.ofMinutes(1));

    now(server.poll(agent, Optional.empty(), Duration.ZERO));
    assertThat(fx.store.inTenant(tenant.id(), tx -> tx.agent(agent.agentId())).orElseThrow().lastSeenAt())
        .isEmpty();

    server.close();
    assertThat(fx.store.inTenant(tenant.id(), tx -> tx.agent(agent.agentId())).orElseThrow().lastSeenAt())
        .contains(ServerFixture.START.plus(Duration.ofMinutes(1)));
  }

  @Test
  void eachTenantSignsWithItsOwnKey() throws Exception {
    Tenant a = fx.tenant("A");
    Tenant b = fx.tenant("B");
    Enrollment inA = fx.enroll(a.id(), Set.of(), "h");
    Enrollment inB = fx.enroll(b.id(), Set.of(), "h");
    PollResult setOfA = now(server.poll(server.authenticateAgent(inA.credential()), Optional.empty(), Duration.ZERO));

    assertThat(inA.signingKeys()).doesNotContainAnyElementsOf(inB.signingKeys());
    assertThat(PolicySets.verify(body(setOfA), inA.signingKeys().get(0))).isTrue();
    assertThat(PolicySets.verify(body(setOfA), inB.signingKeys().get(0))).isFalse();
  }

  @Test
  void signingKeysSurviveARestartOnTheSameStore() throws Exception {
    Tenant tenant = fx.tenant("Acme");
    Enrollment enrollment = fx.enroll(tenant.id(), Set.of(), "h");

    PolicyServer restarted = fx.newNode();
    PollResult result = now(restarted.poll(
        restarted.authenticateAgent(enrollment.credential()), Optional.empty(), Duration.ZERO));

    assertThat(PolicySets.verify(body(result), enrollment.signingKeys().get(0))).isTrue();
  }
}
