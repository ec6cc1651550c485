package io.egosecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Drafts, publishing, restore, audit and admin keys. */
class PolicyServerAdminTest {
  private final ServerFixture fx = new ServerFixture();
  private final PolicyServer server = fx.server;
  private final Principal operator = fx.operator;

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void bootstrapMakesOneOperatorKeyOnly() {
    assertThat(server.bootstrapOperatorKey("again")).isEmpty();
    assertThat(operator.role()).isEqualTo(Role.OPERATOR);
    assertThat(server.adminKeys(operator, PageRequest.first()).items()).hasSize(1);
  }

  @Test
  void keysAreStoredOnlyAsHashes() {
    IssuedAdminKey issued = server.createAdminKey(operator, "d", Role.DISTRIBUTOR);
    var stored = fx.store.adminKey(issued.key().id()).orElseThrow();

    assertThat(stored.secretHash().matches(issued.secret())).isTrue();
    assertThat(stored.toString()).doesNotContain(issued.secret());
    assertThat(issued.toString()).doesNotContain(issued.secret());
  }

  @Test
  void theLastOperatorKeyCannotBeDeleted() {
    assertThatThrownBy(() -> server.deleteAdminKey(operator, operator.keyId()))
        .isInstanceOf(ValidationException.class);

    IssuedAdminKey second = server.createAdminKey(operator, "second", Role.OPERATOR);
    server.deleteAdminKey(operator, operator.keyId());
    assertThatThrownBy(() -> server.authenticateAdmin("esk." + operator.keyId() + ".x"))
        .isInstanceOf(UnauthenticatedException.class);
    assertThat(server.authenticateAdmin(second.secret()).role()).isEqualTo(Role.OPERATOR);
  }

  @Test
  void policiesUseOptimisticVersions() {
    Tenant tenant = fx.tenant("Acme");
    Policy created = server.createPolicy(operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    assertThat(created.version()).isEqualTo(1);

    PolicySpec renamed = ServerFixture.spec("renamed", Targets.groups(Set.of("g")));
    Policy updated = server.updatePolicy(operator, tenant.id(), created.id(), 1, renamed);
    assertThat(updated.version()).isEqualTo(2);
    assertThat(server.policy(operator, tenant.id(), created.id())).isEqualTo(updated);

    assertThatThrownBy(() -> server.updatePolicy(operator, tenant.id(), created.id(), 1, renamed))
        .isInstanceOfSatisfying(VersionConflictException.class, e -> {
          assertThat(e.currentVersion()).isEqualTo(2);
          assertThat(e.expectedVersion()).isEqualTo(1);
        });
    assertThatThrownBy(() -> server.deletePolicy(operator, tenant.id(), created.id(), 1))
        .isInstanceOf(VersionConflictException.class);
    server.deletePolicy(operator, tenant.id(), created.id(), 2);
    assertThatThrownBy(() -> server.policy(operator, tenant.id(), created.id()))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void publishingWithNothingChangedKeepsTheCurrentRevision() {
    Tenant tenant = fx.tenant("Acme");
    assertThat(server.publish(operator, tenant.id(), "nothing").created()).isFalse();

    server.createPolicy(operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    PublishResult first = server.publish(operator, tenant.id(), "first");
    PublishResult again = server.publish(operator, tenant.id(), "again");

    assertThat(first.created()).isTrue();
    assertThat(first.revision().number()).isEqualTo(1);
    assertThat(again).isEqualTo(new PublishResult(first.revision(), false));
    assertThat(server.revisions(operator, tenant.id(), PageRequest.first()).items())
        .extracting(Revision::number, Revision::comment, Revision::actor)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1L, "first", operator.actor()),
            org.assertj.core.groups.Tuple.tuple(0L, "initial empty revision", operator.actor()));
  }

  @Test
  void restoreBringsBackAnOldRevisionAsANewOne() {
    Tenant tenant = fx.tenant("Acme");
    Policy kept = server.createPolicy(operator, tenant.id(), ServerFixture.spec("kept", Targets.allAgents()));
    server.publish(operator, tenant.id(), "one");
    server.updatePolicy(operator, tenant.id(), kept.id(), 1, ServerFixture.spec("changed", Targets.allAgents()));
    server.createPolicy(operator, tenant.id(), ServerFixture.spec("added", Targets.allAgents()));
    server.publish(operator, tenant.id(), "two");

    PublishResult restored = server.restore(operator, tenant.id(), 1);

    assertThat(restored.created()).isTrue();
    assertThat(restored.revision().number()).isEqualTo(3);
    assertThat(restored.revision().comment()).isEqualTo("restore of revision 1");
    List<Policy> drafts = server.policies(operator, tenant.id(), PageRequest.first()).items();
    assertThat(drafts).singleElement().satisfies(p -> {
      assertThat(p.id()).isEqualTo(kept.id());
      assertThat(p.spec().name()).isEqualTo("kept");
      assertThat(p.version()).isEqualTo(3);
    });
    assertThat(server.restore(operator, tenant.id(), 3).created()).isFalse();
    assertThatThrownBy(() -> server.restore(operator, tenant.id(), 99)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void everyAdminChangeIsAudited() {
    Tenant tenant = fx.tenant("Acme");
    Policy policy = server.createPolicy(operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));
    server.updatePolicy(operator, tenant.id(), policy.id(), 1, ServerFixture.spec("q", Targets.allAgents()));
    server.publish(operator, tenant.id(), "one");
    Enrollment enrolled = fx.enroll(tenant.id(), Set.of(), "h");
    server.updateAgentGroups(operator, tenant.id(), enrolled.agent().id(), Set.of("g"));
    server.revokeAgent(operator, tenant.id(), enrolled.agent().id());
    server.updatePolling(operator, tenant.id(), tenant.polling());
    server.createTenantAdminKey(operator, tenant.id(), "ta");

    List<AuditEntry> log = server.audit(operator, tenant.id(), PageRequest.first()).items();
    assertThat(log).extracting(AuditEntry::action).containsExactly(
        "admin-key.create", "polling.update", "agent.revoke", "agent.groups", "agent.enroll",
        "enrollment-token.create", "revision.publish", "policy.update", "policy.create");
    assertThat(log).filteredOn(e -> !e.action().equals("agent.enroll"))
        .allMatch(e -> e.actor().equals(operator.actor()));
    assertThat(server.serverAudit(operator, PageRequest.first()).items())
        .extracting(AuditEntry::action)
        .containsExactly("tenant.create", "admin-key.create");
  }

  @Test
  void aFailedChangeLeavesNoAuditEntry() {
    Tenant tenant = fx.tenant("Acme");
    Policy policy = server.createPolicy(operator, tenant.id(), ServerFixture.spec("p", Targets.allAgents()));

    assertThatThrownBy(() -> server.updatePolicy(operator, tenant.id(), policy.id(), 7,
        ServerFixture.spec("q", Targets.allAgents()))).isInstanceOf(VersionConflictException.class);

    assertThat(server.audit(operator, tenant.id(), PageRequest.first()).items())
        .extracting(AuditEntry::action).containsExactly("policy.create");
  }

  @Test
  void listsArePagedWithOpaqueCursors() {
    Tenant tenant = fx.tenant("Acme");
    for (int i = 0; i < 5; i++) {
      server.createPolicy(operator, tenant.id(), ServerFixture.spec("p" + i, Targets.allAgents()));
    }
    var first = server.policies(operator, tenant.id(), PageRequest.first(2));
    var second = server.policies(operator, tenant.id(), PageRequest.first(2).after(first.next().orElseThrow()));
    var third = server.policies(operator, tenant.id(), PageRequest.first(2).after(second.next().orElseThrow()));

    assertThat(first.items()).hasSize(2);
    assertThat(third.items()).hasSize(1);
    assertThat(third.next()).isEmpty();
    assertThat(List.of(first, second, third)).flatExtracting(p -> p.items())
        .extracting(p -> ((Policy) p).id()).doesNotHaveDuplicates().hasSize(5);
    assertThatThrownBy(() -> server.policies(operator, tenant.id(), PageRequest.first().after("nope")))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void enrollmentTokensAreListedWithoutSecretsAndCanBeRevoked() {
    Tenant tenant = fx.tenant("Acme");
    IssuedEnrollmentToken issued =
        server.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(1), 3, Set.of("g"));

    assertThat(server.enrollmentTokens(operator, tenant.id(), PageRequest.first()).items())
        .singleElement().satisfies(t -> assertThat(t.toString()).doesNotContain(issued.secret()));
    server.deleteEnrollmentToken(operator, tenant.id(), issued.token().id());
    assertThatThrownBy(() -> server.enroll(issued.secret(), "h", java.util.Map.of()))
        .isInstanceOf(UnauthenticatedException.class);
    assertThatThrownBy(() -> server.deleteEnrollmentToken(operator, tenant.id(), issued.token().id()))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void aServerStartsWithANoticeOfWhatIsMissing() {
    assertThatThrownBy(() -> PolicyServer.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("store is required");
    assertThatThrownBy(() -> PolicyServer.builder().store(PolicyStore.inMemory()).build())
        .isInstanceOf(IllegalStateException.class).hasMessage("keyVault or masterKey is required");
    assertThatThrownBy(() -> PolicyServer.builder().policySetValidity(Duration.ofMinutes(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be less than 10 minutes");
    PolicyServer notStarted = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(io.egosecure.core.spi.KeyVault.generateMasterKey()).build();
    assertThatThrownBy(() -> notStarted.authenticateAgent("x"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("start()");
  }

  @Test
  void optionalFiltersSelectAgents() {
    Tenant tenant = fx.tenant("Acme");
    fx.enroll(tenant.id(), Set.of("sales"), "s");
    fx.enroll(tenant.id(), Set.of("dev"), "d");

    var sales = server.agents(operator, tenant.id(),
        new AgentQuery(Optional.empty(), Optional.of("sales"), Optional.empty()), PageRequest.first());
    var neverSeen = server.agents(operator, tenant.id(),
        new AgentQuery(Optional.empty(), Optional.empty(), Optional.of(ServerFixture.START)), PageRequest.first());

    assertThat(sales.items()).extracting(a -> a.name()).containsExactly("s");
    assertThat(neverSeen.items()).hasSize(2);
  }
}
