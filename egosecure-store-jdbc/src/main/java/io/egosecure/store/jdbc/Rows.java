package io.egosecure.store.jdbc;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.AdminKey;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.AgentStatus;
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
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.StoredSigningKey;
import io.egosecure.core.wire.AdminMessages;
import io.egosecure.core.wire.Json;
import io.egosecure.store.jdbc.internal.schema.tables.records.AdminKeysRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.AgentsRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.EnrollmentTokensRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.PoliciesRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.RevisionsRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.SigningKeysRecord;
import io.egosecure.store.jdbc.internal.schema.tables.records.TenantsRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Between model records and rows. JSON columns use the wire format's own codecs (a policy in a
 * revision snapshot is stored exactly as the admin API shows it), so there is one JSON form of
 * each thing.
 */
final class Rows {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};
  private static final TypeReference<List<String>> NAMES = new TypeReference<>() {};

  private Rows() {}

  // --- tenants ---

  static Tenant tenant(TenantsRecord row) {
    return new Tenant(
        TenantId.of(row.getId()),
        row.getName(),
        Instant.ofEpochMilli(row.getCreatedAt()),
        Optional.ofNullable(row.getDistributorKeyId()).map(AdminKeyId::of),
        new PollingSettings(
            Duration.ofSeconds(row.getPollIntervalSeconds()), row.getPollJitterPercent()));
  }

  static TenantsRecord tenant(Tenant tenant) {
    return new TenantsRecord(
        tenant.id().value(),
        tenant.name(),
        tenant.createdAt().toEpochMilli(),
        tenant.distributor().map(AdminKeyId::value).orElse(null),
        (int) tenant.polling().interval().toSeconds(),
        tenant.polling().jitterPercent());
  }

  // --- admin keys ---

  static AdminKey adminKey(AdminKeysRecord row) {
    return new AdminKey(
        AdminKeyId.of(row.getId()),
        row.getName(),
        Role.valueOf(row.getKeyRole()),
        Optional.ofNullable(row.getTenantId()).map(TenantId::of),
        hash(row.getSecretHash()),
        Instant.ofEpochMilli(row.getCreatedAt()));
  }

  static AdminKeysRecord adminKey(AdminKey key) {
    return new AdminKeysRecord(
        key.id().value(),
        key.name(),
        key.role().name(),
        key.tenantId().map(TenantId::value).orElse(null),
        hex(key.secretHash()),
        key.createdAt().toEpochMilli());
  }

  static AuditEntry audit(long at, String actor, String action, String target, Optional<TenantId> tenant) {
    return new AuditEntry(Instant.ofEpochMilli(at), actor, action, target, tenant);
  }

  // --- policies and revisions ---

  static Policy policy(PoliciesRecord row) {
    return Rows.policy(
        new AdminMessages.PolicyView(
            row.getId(), row.getName(), row.getKind(), object(row.getSettings()),
            Json.read(utf8(row.getTargets()), AdminMessages.TargetsBody.class,
                Json.Strictness.REJECT_UNKNOWN_FIELDS),
            row.getPolicyVersion(), Instant.ofEpochMilli(row.getUpdatedAt())));
  }

  static PoliciesRecord policy(TenantId tenant, Policy policy) {
    return new PoliciesRecord(
        tenant.value(),
        policy.id().value(),
        policy.spec().name(),
        policy.spec().kind(),
        policy.spec().settings().toString(),
        json(AdminMessages.TargetsBody.of(policy.spec().targets())),
        policy.version(),
        policy.updatedAt().toEpochMilli());
  }

  private static Policy policy(AdminMessages.PolicyView view) {
    return new Policy(
        PolicyId.of(view.id()),
        new PolicySpec(
            view.name(), view.kind(), view.settings(), view.targets().toTargets()),
        view.version(),
        view.updatedAt());
  }

  static RevisionSnapshot revision(RevisionsRecord row) {
    // One streaming pass over the snapshot: a revision of 1,000 policies is read on every
    // publish and every index reload.
    List<Policy> policies = new ArrayList<>();
    for (AdminMessages.PolicyView view : Json.read(utf8(row.getPolicies()),
        AdminMessages.PolicyView[].class, Json.Strictness.REJECT_UNKNOWN_FIELDS)) {
      policies.add(policy(view));
    }
    return new RevisionSnapshot(
        revisionOf(row),
        new PollingSettings(Duration.ofSeconds(row.getPollIntervalSeconds()), row.getPollJitterPercent()),
        policies);
  }

  static Revision revisionOf(RevisionsRecord row) {
    return new Revision(
        row.getRevisionNumber(), Instant.ofEpochMilli(row.getPublishedAt()),
        row.getPublishComment(), row.getActor());
  }

  static RevisionsRecord revision(TenantId tenant, RevisionSnapshot snapshot) {
    Revision revision = snapshot.revision();
    return new RevisionsRecord(
        tenant.value(),
        revision.number(),
        revision.publishedAt().toEpochMilli(),
        revision.comment(),
        revision.actor(),
        (int) snapshot.polling().interval().toSeconds(),
        snapshot.polling().jitterPercent(),
        json(snapshot.policies().stream().map(AdminMessages.PolicyView::of).toList()));
  }

  // --- agents ---

  static Agent agent(AgentsRecord row) {
    Optional<AgentStatus> status =
        row.getStatusState() == null
            ? Optional.empty()
            : Optional.of(new AgentStatus(
                row.getStatusRevision(), AgentState.valueOf(row.getStatusState()),
                row.getStatusMessage(), Instant.ofEpochMilli(row.getStatusReportedAt())));
    return new Agent(
        AgentId.of(row.getId()),
        TenantId.of(row.getTenantId()),
        row.getName(),
        read(row.getLabels(), LABELS),
        Set.copyOf(read(row.getGroupNames(), NAMES)),
        Set.copyOf(read(row.getPublishedGroupNames(), NAMES)),
        hash(row.getCredentialHash()),
        Instant.ofEpochMilli(row.getEnrolledAt()),
        Optional.ofNullable(row.getLastSeenAt()).map(Instant::ofEpochMilli),
        row.getAppliedRevision() == null ? OptionalLong.empty() : OptionalLong.of(row.getAppliedRevision()),
        status);
  }

  static AgentsRecord agent(Agent agent) {
    Optional<AgentStatus> status = agent.status();
    return new AgentsRecord(
        agent.tenantId().value(),
        agent.id().value(),
        agent.name(),
        json(agent.labels()),
        json(sorted(agent.groups())),
        json(sorted(agent.publishedGroups())),
        hex(agent.credentialHash()),
        agent.enrolledAt().toEpochMilli(),
        agent.lastSeenAt().map(Instant::toEpochMilli).orElse(null),
        agent.appliedRevision().isPresent() ? agent.appliedRevision().getAsLong() : null,
        status.map(AgentStatus::revision).orElse(null),
        status.map(s -> s.state().name()).orElse(null),
        status.map(AgentStatus::message).orElse(null),
        status.map(s -> s.reportedAt().toEpochMilli()).orElse(null));
  }

  // --- enrollment tokens and signing keys ---

  static EnrollmentToken token(EnrollmentTokensRecord row) {
    return new EnrollmentToken(
        EnrollmentTokenId.of(row.getId()),
        TenantId.of(row.getTenantId()),
        hash(row.getSecretHash()),
        Set.copyOf(read(row.getGroupNames(), NAMES)),
        Instant.ofEpochMilli(row.getCreatedAt()),
        Instant.ofEpochMilli(row.getExpiresAt()),
        row.getMaxUses(),
        row.getUses());
  }

  static EnrollmentTokensRecord token(EnrollmentToken token) {
    return new EnrollmentTokensRecord(
        token.tenantId().value(),
        token.id().value(),
        hex(token.secretHash()),
        json(sorted(token.groups())),
        token.createdAt().toEpochMilli(),
        token.expiresAt().toEpochMilli(),
        token.maxUses(),
        token.uses());
  }

  static StoredSigningKey signingKey(SigningKeysRecord row) {
    return new StoredSigningKey(
        row.getKeyId(),
        Base64.getDecoder().decode(row.getPublicKey()),
        Base64.getDecoder().decode(row.getSealedPrivateKey()),
        Instant.ofEpochMilli(row.getCreatedAt()));
  }

  static SigningKeysRecord signingKey(TenantId tenant, StoredSigningKey key) {
    return new SigningKeysRecord(
        tenant.value(),
        key.keyId(),
        Base64.getEncoder().encodeToString(key.publicKey()),
        Base64.getEncoder().encodeToString(key.sealedPrivateKey()),
        key.createdAt().toEpochMilli());
  }

  // --- helpers ---

  private static List<String> sorted(Set<String> names) {
    return names.stream().sorted().toList();
  }

  private static String hex(SecretHash hash) {
    return HexFormat.of().formatHex(hash.bytes());
  }

  private static SecretHash hash(String hex) {
    return new SecretHash(HexFormat.of().parseHex(hex));
  }

  private static String json(Object value) {
    return new String(Json.write(value), StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static JsonNode tree(String json) {
    return Json.readTree(utf8(json));
  }

  private static ObjectNode object(String json) {
    return (ObjectNode) tree(json);
  }

  private static <T> T read(String json, TypeReference<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (IOException e) {
      throw new IllegalStateException("a stored JSON column is unreadable: " + e.getMessage(), e);
    }
  }
}
