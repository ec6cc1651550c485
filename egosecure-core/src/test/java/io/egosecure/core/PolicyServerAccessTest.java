package io.egosecure.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.PageRequest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Roles and tenant scope: a tenant a caller may not see answers exactly like one that does not
 * exist, on every tenant operation.
 */
class PolicyServerAccessTest {
  private final ServerFixture fx = new ServerFixture();
  private final PolicyServer server = fx.server;

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  /** Every tenant-scoped admin operation, called by {@code caller} on {@code tenant}. */
  private List<ThrowingCallable> everyTenantOperation(Principal caller, TenantId tenant, TargetIds ids) {
    return List.of(
        () -> server.tenant(caller, tenant),
        () -> server.deleteTenant(caller, tenant),
        () -> server.polling(caller, tenant),
        () -> server.updatePolling(caller, tenant, PollingSettings.DEFAULT),
        () -> server.createTenantAdminKey(caller, tenant, "k"),
        () -> server.tenantAdminKeys(caller, tenant, PageRequest.first()),
        () -> server.deleteTenantAdminKey(caller, tenant, ids.adminKey),
        () -> server.createEnrollmentToken(caller, tenant, Duration.ofHours(1), 1, Set.of()),
        () -> server.enrollmentTokens(caller, tenant, PageRequest.first()),
        () -> server.deleteEnrollmentToken(caller, tenant, ids.token),
        () -> server.createPolicy(caller, tenant, ServerFixture.spec("p", Targets.allAgents())),
        () -> server.policies(caller, tenant, PageRequest.first()),
        () -> server.policy(caller, tenant, ids.policy),
        () -> server.updatePolicy(caller, tenant, ids.policy, 1, ServerFixture.spec("p", Targets.allAgents())),
        () -> server.deletePolicy(caller, tenant, ids.policy, 1),
        () -> server.publish(caller, tenant, "x"),
        () -> server.revisions(caller, tenant, PageRequest.first()),
        () -> server.restore(caller, tenant, 0),
        () -> server.agents(caller, tenant, AgentQuery.all(), PageRequest.first()),
        () -> server.updateAgentGroups(caller, tenant, ids.agent, Set.of("g")),
        () -> server.revokeAgent(caller, tenant, ids.agent),
        () -> server.compliance(caller, tenant),
        () -> server.audit(caller, tenant, PageRequest.first()));
  }

  private record TargetIds(AdminKeyId adminKey, EnrollmentTokenId token, PolicyId policy, AgentId agent) {}

  private TargetIds populate(TenantId tenant) {
    var key = server.createTenantAdminKey(fx.operator, tenant, "victim admin");
    var token = server.createEnrollmentToken(fx.operator, tenant, Duration.ofHours(1), 5, Set.of());
    var policy = server.createPolicy(fx.operator, tenant, ServerFixture.spec("secret", Targets.allAgents()));
    server.publish(fx.operator, tenant, "one");
    var agent = server.enroll(token.secret(), "victim host", java.util.Map.of());
    return new TargetIds(key.key().id(), token.token().id(), policy.id(), agent.agent().id());
  }

  private void assertAllNotFound(Principal caller, TenantId tenant, TargetIds ids) {
    int auditBefore = auditSize(tenant);
    List<ThrowingCallable> operations = everyTenantOperation(caller, tenant, ids);
    for (int i = 0; i < operations.size(); i++) {
      assertThatThrownBy(operations.get(i))
          .as("operation %d by %s", i, caller.role())
          .isInstanceOf(NotFoundException.class)
          .hasMessage("tenant " + tenant);
    }
    assertThat(auditSize(tenant))
        .as("nothing happened to the tenant").isEqualTo(auditBefore);
  }

  private int auditSize(TenantId tenant) {
    return fx.store.inTenant(tenant, tx -> tx.audit(PageRequest.first(1000)).items().size());
  }

  @Test
  void aTenantAdminSeesNothingOfAnotherTenant() {
    Tenant mine = fx.tenant("Mine");
    Tenant theirs = fx.tenant("Theirs");
    TargetIds ids = populate(theirs.id());
    Principal admin = fx.key(Role.TENANT_ADMIN, Optional.of(mine.id()));

    assertAllNotFound(admin, theirs.id(), ids);
    assertThat(server.tenants(admin, PageRequest.first()).items()).containsExactly(mine);
  }

  @Test
  void aDistributorSeesOnlyTheTenantsItCreated() {
    Principal distributor = fx.key(Role.DISTRIBUTOR, Optional.empty());
    Principal rival = fx.key(Role.DISTRIBUTOR, Optional.empty());
    Tenant own = server.createTenant(distributor, "Customer of D");
    Tenant operatorsTenant = fx.tenant("Operator's");
    Tenant rivals = server.createTenant(rival, "Customer of R");
    TargetIds ids = populate(rivals.id());

    assertAllNotFound(distributor, rivals.id(), ids);
    assertAllNotFound(distributor, operatorsTenant.id(), populate(operatorsTenant.id()));
    assertThat(server.tenants(distributor, PageRequest.first()).items()).containsExactly(own);
    assertThat(server.tenants(fx.operator, PageRequest.first()).items())
        .containsExactlyInAnyOrder(own, operatorsTenant, rivals);

    // And it manages its own fully, down to deleting it.
    populate(own.id());
    server.publish(distributor, own.id(), "by the distributor");
    server.deleteTenant(distributor, own.id());
    assertThat(server.tenants(distributor, PageRequest.first()).items()).isEmpty();
  }

  @Test
  void aMissingTenantAnswersLikeAForeignOne() {
    Principal admin = fx.key(Role.TENANT_ADMIN, Optional.of(fx.tenant("Mine").id()));
    TargetIds ids = new TargetIds(AdminKeyId.of("k-x"), EnrollmentTokenId.of("et-x"), PolicyId.of("p-x"), AgentId.of("a-x"));
    TenantId missing = TenantId.of("t-missing");

    List<ThrowingCallable> asOperator = everyTenantOperation(fx.operator, missing, ids);
    List<ThrowingCallable> asTenantAdmin = everyTenantOperation(admin, missing, ids);
    for (List<ThrowingCallable> operations : List.of(asOperator, asTenantAdmin)) {
      operations.forEach(op -> assertThatThrownBy(op).isInstanceOf(NotFoundException.class)
          .hasMessage("tenant " + missing));
    }
  }

  @Test
  void rolesThatMayNotUseAnOperationAreForbidden() {
    Tenant tenant = fx.tenant("Acme");
    Principal admin = fx.key(Role.TENANT_ADMIN, Optional.of(tenant.id()));
    Principal distributor = fx.key(Role.DISTRIBUTOR, Optional.empty());

    Consumer<ThrowingCallable> forbidden = op -> assertThatThrownBy(op).isInstanceOf(ForbiddenException.class);
    forbidden.accept(() -> server.createAdminKey(admin, "k", Role.OPERATOR));
    forbidden.accept(() -> server.adminKeys(admin, PageRequest.first()));
    forbidden.accept(() -> server.deleteAdminKey(admin, fx.operator.keyId()));
    forbidden.accept(() -> server.createAdminKey(distributor, "k", Role.OPERATOR));
    forbidden.accept(() -> server.createTenant(admin, "new"));
    forbidden.accept(() -> server.deleteTenant(admin, tenant.id()));
    forbidden.accept(() -> server.serverAudit(admin, PageRequest.first()));
    forbidden.accept(() -> server.serverAudit(distributor, PageRequest.first()));
    assertThatThrownBy(() -> server.createAdminKey(fx.operator, "k", Role.TENANT_ADMIN))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void aTenantAdminKeyOfOneTenantCannotBeDeletedThroughAnother() {
    Tenant a = fx.tenant("A");
    Tenant b = fx.tenant("B");
    IssuedAdminKey keyOfB = server.createTenantAdminKey(fx.operator, b.id(), "b admin");

    assertThatThrownBy(() -> server.deleteTenantAdminKey(fx.operator, a.id(), keyOfB.key().id()))
        .isInstanceOf(NotFoundException.class);
    assertThat(server.authenticateAdmin(keyOfB.secret()).tenantId()).contains(b.id());
    assertThatThrownBy(() -> server.deleteAdminKey(fx.operator, keyOfB.key().id()))
        .isInstanceOf(NotFoundException.class);
  }
}
