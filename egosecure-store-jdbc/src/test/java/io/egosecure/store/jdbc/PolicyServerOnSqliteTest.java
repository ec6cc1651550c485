package io.egosecure.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.egosecure.core.AgentIdentity;
import io.egosecure.core.Enrollment;
import io.egosecure.core.IssuedAdminKey;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.PollResult;
import io.egosecure.core.Principal;
import io.egosecure.core.StoreUnavailableException;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole server on a real SQLite file, stopped and started again on the same file. */
class PolicyServerOnSqliteTest {
  @TempDir Path directory;
  private final SecretKey masterKey = KeyVault.generateMasterKey();

  private <T> T withServer(Function<PolicyStore, PolicyStore> storeOf, Function<PolicyServer, T> work) {
    try (PolicyStore store = storeOf.apply(null);
        PolicyServer server = PolicyServer.builder().store(store).masterKey(masterKey).build()) {
      server.start();
      return work.apply(server);
    }
  }

  private record Story(String operatorKey, Tenant tenant, String credential, String etag, String body) {}

  @Test
  void aRestartOnTheSameFileKeepsTenantsKeysRevisionsAndCredentials() {
    for (Function<PolicyStore, PolicyStore> scheme : List.<Function<PolicyStore, PolicyStore>>of(
        ignored -> JdbcPolicyStore.sqlite(directory.resolve("shared.db")),
        ignored -> JdbcPolicyStore.sqlitePerTenant(directory.resolve("per-tenant")))) {
      Story before = withServer(scheme, server -> {
        IssuedAdminKey key = server.bootstrapOperatorKey("bootstrap").orElseThrow();
        Principal operator = server.authenticateAdmin(key.secret());
        Tenant tenant = server.createTenant(operator, "Acme");
        server.createPolicy(operator, tenant.id(), new PolicySpec("USB", "device-control",
            JsonNodeFactory.instance.objectNode().put("usb", "block"), Targets.allAgents()));
        server.publish(operator, tenant.id(), "first");
        String token = server.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(1), 1, Set.of()).secret();
        Enrollment enrollment = server.enroll(token, "host-01", Map.of());
        AgentIdentity agent = server.authenticateAgent(enrollment.credential());
        PollResult.Changed first = (PollResult.Changed) server.poll(agent, Optional.empty(), Duration.ZERO).join();
        server.reportStatus(agent, 1, AgentState.APPLIED, "");
        return new Story(key.secret(), tenant, enrollment.credential(), first.etag(), first.policySet().jsonString());
      });

      withServer(scheme, server -> {
        assertThat(server.bootstrapOperatorKey("again")).isEmpty();
        Principal operator = server.authenticateAdmin(before.operatorKey());
        assertThat(server.tenant(operator, before.tenant().id())).isEqualTo(before.tenant());
        assertThat(server.revisions(operator, before.tenant().id(), PageRequest.first()).items()).hasSize(2);
        AgentIdentity agent = server.authenticateAgent(before.credential());
        PollResult again = server.poll(agent, Optional.of(before.etag()), Duration.ZERO).join();
        assertThat(again).isInstanceOf(PollResult.NotModified.class);
        PollResult.Changed body = (PollResult.Changed) server.poll(agent, Optional.empty(), Duration.ZERO).join();
        assertThat(body.policySet().jsonString()).isEqualTo(before.body());
        assertThat(server.compliance(operator, before.tenant().id()).applied()).isEqualTo(1);
        // The signing key came back from the store: a new agent's key verifies the old set.
        String token = server.createEnrollmentToken(
            operator, before.tenant().id(), Duration.ofHours(1), 1, Set.of()).secret();
        PublicSigningKey key = server.enroll(token, "host-02", Map.of()).signingKeys().get(0);
        assertThat(PolicySets.verify(Json.readTree(before.body().getBytes(StandardCharsets.UTF_8)), key)).isTrue();
        return null;
      });
    }
  }

  @Test
  void anUnreachablePostgresIsReportedAsUnavailableQuickly() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> JdbcPolicyStore.postgres("jdbc:postgresql://127.0.0.1:1/egosecure")
            .user("nobody").password("x").connectionTimeout(Duration.ofMillis(500)).open())
        .isInstanceOf(StoreUnavailableException.class)
        .hasMessageContaining("jdbc:postgresql://127.0.0.1:1/egosecure");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }
}
