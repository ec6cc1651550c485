package io.egosecure.core.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AuditEntry;
import io.egosecure.core.model.EnrollmentToken;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.SecretHash;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.StoredSigningKey;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Valid model values for tests, one way to build each. Every instant derives from {@link #BASE},
 * which is already at millisecond precision, so values round-trip through any store unchanged.
 *
 * <pre>{@code
 * Tenant tenant = Fixtures.tenant("acme");
 * store.createTenant(tenant, Fixtures.initialRevision(tenant));
 * }</pre>
 */
public final class Fixtures {
  /** The instant every fixture's timestamps count from. */
  public static final Instant BASE = Instant.parse("2026-03-01T09:30:00.123Z");

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private Fixtures() {}

  /** A tenant an operator created (no distributor), with non-default polling settings. */
  public static Tenant tenant(String id) {
    return new Tenant(
        TenantId.of(id), "Tenant " + id, BASE, Optional.empty(), polling());
  }

  /** A tenant the distributor key {@code distributor} created. */
  public static Tenant tenant(String id, AdminKeyId distributor) {
    return new Tenant(
        TenantId.of(id), "Tenant " + id, BASE, Optional.of(distributor), polling());
  }

  /** Revision 0 of {@code tenant}: no policies, the tenant's polling settings. */
  public static RevisionSnapshot initialRevision(Tenant tenant) {
    return new RevisionSnapshot(
        new Revision(0, tenant.createdAt(), "", "system"), tenant.polling(), List.of());
  }

  /** Revision {@code number}, published {@code number} seconds after {@link #BASE}. */
  public static RevisionSnapshot revision(long number, List<Policy> policies) {
    return new RevisionSnapshot(
        new Revision(number, BASE.plusSeconds(number), "publish " + number, "admin-key-1"),
        new PollingSettings(Duration.ofSeconds(30 + number), 5),
        policies);
  }

  /**
   * A policy with nested JSON settings (objects, arrays, strings, numbers, booleans, null),
   * targeting {@code targets}, at version 1.
   */
  public static Policy policy(String id, Targets targets) {
    ObjectNode settings =
        json(
            """
            {"mode": "block",
             "limits": {"maxDevices": 3, "ratio": 0.25, "strict": true, "note": null},
             "allow": [{"vendor": "046d", "product": "c52b"}, "usb-storage", 42],
             "text": "Grüße, \\u2603"}
            """);
    return new Policy(
        PolicyId.of(id),
        new PolicySpec("Policy " + id, "device-control", settings, targets),
        1,
        BASE.plusMillis(7));
  }

  /**
   * An agent of {@code tenant} with labels and groups, enrolled at {@link #BASE}, not seen and
   * without a report yet.
   */
  public static Agent agent(TenantId tenant, String id) {
    return Agent.enrolled(
        AgentId.of(id),
        tenant,
        "host-" + id,
        Map.of("os", "windows", "site/floor", "3"),
        Set.of("finance", "laptops"),
        SecretHash.of("credential-" + id),
        BASE);
  }

  /** An unused token of {@code tenant} for up to five enrollments, valid for a day. */
  public static EnrollmentToken enrollmentToken(TenantId tenant, String id) {
    return new EnrollmentToken(
        EnrollmentTokenId.of(id),
        tenant,
        SecretHash.of("token-" + id),
        Set.of("laptops"),
        BASE,
        BASE.plus(Duration.ofDays(1)),
        5,
        0);
  }

  /** A signing key whose bytes are derived from its id, created {@code secondsAfterBase} later. */
  public static StoredSigningKey signingKey(String keyId, long secondsAfterBase) {
    byte[] publicKey = ("public:" + keyId).getBytes(StandardCharsets.UTF_8);
    byte[] sealed = ("sealed:" + keyId + ":\u0000\u00ff").getBytes(StandardCharsets.UTF_8);
    return new StoredSigningKey(keyId, publicKey, sealed, BASE.plusSeconds(secondsAfterBase));
  }

  public static AdminKey operatorKey(String id) {
    return adminKey(id, Role.OPERATOR, Optional.empty());
  }

  public static AdminKey distributorKey(String id) {
    return adminKey(id, Role.DISTRIBUTOR, Optional.empty());
  }

  public static AdminKey tenantAdminKey(String id, TenantId tenant) {
    return adminKey(id, Role.TENANT_ADMIN, Optional.of(tenant));
  }

  /** The {@code n}th entry of {@code tenant}'s audit log, {@code n} seconds after {@link #BASE}. */
  public static AuditEntry tenantAudit(TenantId tenant, int n) {
    return new AuditEntry(
        BASE.plusSeconds(n), "admin-key-1", "policy.update", "policy/p-" + n, Optional.of(tenant));
  }

  /** The {@code n}th entry of the server-wide audit log, {@code n} seconds after {@link #BASE}. */
  public static AuditEntry serverAudit(int n) {
    return new AuditEntry(
        BASE.plusSeconds(n), "operator-1", "tenant.create", "tenant/t-" + n, Optional.empty());
  }

  /** Parses a JSON object, as a store that keeps settings as JSON text would read it back. */
  public static ObjectNode json(String object) {
    try {
      return (ObjectNode) JSON.readTree(object);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static PollingSettings polling() {
    return new PollingSettings(Duration.ofSeconds(120), 20);
  }

  private static AdminKey adminKey(String id, Role role, Optional<TenantId> tenant) {
    return new AdminKey(
        AdminKeyId.of(id), "Key " + id, role, tenant, SecretHash.of("secret-" + id), BASE);
  }
}
