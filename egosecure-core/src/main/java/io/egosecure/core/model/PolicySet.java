package io.egosecure.core.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one agent receives: the policies of one revision that target it, signed by its tenant.
 *
 * <p>The signature covers the RFC 8785 canonical JSON of the whole received object except its
 * {@code signature} member (see {@link io.egosecure.core.wire.PolicySets}). Because it
 * names the agent, a set cannot be replayed to another agent.
 *
 * @param issuedAt when this copy was issued; a re-issue of the same revision moves it forward
 * @param expiresAt after which an agent must not trust the set any more (freeze protection)
 * @param pollInterval the tenant's interval when the set was issued; the poll headers win
 * @param policies ordered by id
 */
public record PolicySet(
    TenantId tenantId,
    AgentId agentId,
    long revision,
    Instant issuedAt,
    Instant expiresAt,
    Duration pollInterval,
    List<Entry> policies,
    Signature signature) {
  public PolicySet {
    Checks.notNull(tenantId, "tenantId");
    Checks.notNull(agentId, "agentId");
    Checks.nonNegative(revision, "revision");
    Checks.notNull(issuedAt, "issuedAt");
    Checks.notNull(expiresAt, "expiresAt");
    Checks.notNull(pollInterval, "pollIntervalSeconds");
    policies = List.copyOf(Checks.notNull(policies, "policies"));
    Checks.notNull(signature, "signature");
  }

  /** One policy as an agent receives it. */
  public record Entry(PolicyId id, String name, String kind, long version, ObjectNode settings) {
    public Entry {
      Checks.notNull(id, "id");
      Checks.notNull(name, "name");
      Checks.notNull(kind, "kind");
      Checks.notNull(settings, "settings");
      settings = settings.deepCopy();
    }

    public static Entry of(Policy policy) {
      PolicySpec spec = policy.spec();
      return new Entry(policy.id(), spec.name(), spec.kind(), policy.version(), spec.settings());
    }

    @Override
    public ObjectNode settings() {
      return settings.deepCopy();
    }
  }

  /**
   * @param keyId which of the tenant's signing keys made it
   * @param algorithm {@code Ed25519}
   * @param value the signature, RFC 4648 base64
   */
  public record Signature(String keyId, String algorithm, String value) {
    public Signature {
      Checks.notNull(keyId, "signature.keyId");
      Checks.notNull(algorithm, "signature.algorithm");
      Checks.notNull(value, "signature.value");
    }
  }
}
