package io.egosecure.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import io.egosecure.core.wire.CanonicalPolicies;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Signs PolicySets the way a server does, for tests that need good and bad ones. */
final class SignedSets {
  static final TenantId TENANT = TenantId.of("tenant-a");
  static final AgentId AGENT = AgentId.of("agent-1");
  static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

  private SignedSets() {}

  static SigningKey newKey() {
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      return new SigningKey(PublicSigningKey.of(pair.getPublic()), pair.getPrivate());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Policies named {@code names}, one setting each. */
  static List<PolicySet.Entry> policies(String... names) {
    List<PolicySet.Entry> entries = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      ObjectNode settings = Json.object().put("enabled", true).put("name", names[i]);
      entries.add(new PolicySet.Entry(PolicyId.of("policy-" + i), names[i], "device-control", 1, settings));
    }
    return entries;
  }

  static byte[] sign(SigningKey key, TenantId tenant, AgentId agent, long revision, Instant issuedAt,
      List<PolicySet.Entry> policies) {
    return bytes(PolicySets.sign(tenant, agent, revision, issuedAt, issuedAt.plus(Duration.ofDays(7)),
        Duration.ofSeconds(60), CanonicalPolicies.of(policies), key).json());
  }

  static byte[] sign(SigningKey key, long revision, Instant issuedAt, List<PolicySet.Entry> policies) {
    return sign(key, TENANT, AGENT, revision, issuedAt, policies);
  }

  static byte[] bytes(java.nio.ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }
}
