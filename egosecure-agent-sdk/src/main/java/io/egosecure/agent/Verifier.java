package io.egosecure.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.agent.Rejection.Reason;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.wire.CanonicalJson;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Decides whether a received PolicySet may be put into force, by the rules of
 * docs/conformance.md, checked in that order: well-formed, signed by a trusted key, for this
 * tenant and agent, not older than the set in force, within its validity. The conformance
 * fixtures of the test kit pin every rule.
 */
final class Verifier {
  private final List<PublicSigningKey> trustedKeys;
  private final TenantId tenantId;
  private final AgentId agentId;
  private final Duration clockSkew;

  Verifier(List<PublicSigningKey> trustedKeys, TenantId tenantId, AgentId agentId, Duration clockSkew) {
    this.trustedKeys = List.copyOf(trustedKeys);
    this.tenantId = Objects.requireNonNull(tenantId, "tenantId == null");
    this.agentId = Objects.requireNonNull(agentId, "agentId == null");
    this.clockSkew = Objects.requireNonNull(clockSkew, "clockSkew == null");
  }

  /** What a set is measured against: the one in force, reduced to what the rules compare. */
  record Baseline(long revision, Instant issuedAt, byte[] canonicalPolicies) {
    static Baseline of(Verified verified) {
      return new Baseline(verified.set().revision(), verified.set().issuedAt(), verified.canonicalPolicies());
    }
  }

  /** How an accepted set relates to the one in force. */
  enum Kind {
    /** A newer revision (or the first set): apply it. */
    NEW,
    /** The same revision and policies, issued later: nothing to apply, but keep it for its expiry. */
    REISSUE,
    /** Exactly the set in force. */
    UNCHANGED
  }

  /** A set that passed every check, with the bytes it came in. */
  record Verified(PolicySet set, Kind kind, byte[] received, byte[] canonicalPolicies) {}

  sealed interface Verdict permits Accepted, Rejected {}

  record Accepted(Verified verified) implements Verdict {}

  record Rejected(Rejection rejection) implements Verdict {}

  /**
   * @param received the PolicySet exactly as it arrived
   * @param baseline the set in force, if any
   */
  Verdict verify(byte[] received, Optional<Baseline> baseline, Instant now) {
    return check(received, baseline, Objects.requireNonNull(now, "now == null"));
  }

  /** @param now null to skip the validity window */
  private Verdict check(byte[] received, Optional<Baseline> baseline, Instant now) {
    JsonNode tree;
    try {
      tree = Json.readTree(received);
    } catch (ValidationException e) {
      return reject(Reason.MALFORMED, OptionalLong.empty(), "not JSON: " + e.getMessage());
    }
    if (!(tree instanceof ObjectNode object)) {
      return reject(Reason.MALFORMED, OptionalLong.empty(), "not a JSON object");
    }
    OptionalLong revision = object.path("revision").canConvertToLong()
        ? OptionalLong.of(object.path("revision").longValue()) : OptionalLong.empty();
    JsonNode signature = object.get("signature");
    if (!(signature instanceof ObjectNode) || !signature.path("keyId").isTextual()) {
      return reject(Reason.MALFORMED, revision, "no signature with a keyId");
    }
    String keyId = signature.get("keyId").asText();
    Optional<PublicSigningKey> key = trustedKeys.stream().filter(k -> k.keyId().equals(keyId)).findFirst();
    if (key.isEmpty()) {
      return reject(Reason.UNKNOWN_KEY, revision, "signed with key " + keyId + ", not one enrolled with");
    }
    if (!PolicySets.verify(object, key.get())) {
      return reject(Reason.BAD_SIGNATURE, revision, "the signature by " + keyId + " does not verify");
    }
    PolicySet set;
    byte[] canonicalPolicies;
    try {
      set = PolicySets.parse(object);
      canonicalPolicies = CanonicalJson.canonicalize(object.get("policies"));
    } catch (ValidationException e) {
      return reject(Reason.MALFORMED, revision, e.getMessage());
    }
    if (!set.tenantId().equals(tenantId)) {
      return reject(Reason.WRONG_TENANT, revision, "meant for tenant " + set.tenantId().value());
    }
    if (!set.agentId().equals(agentId)) {
      return reject(Reason.WRONG_AGENT, revision, "meant for agent " + set.agentId().value());
    }
    Kind kind = Kind.NEW;
    if (baseline.isPresent()) {
      Baseline last = baseline.get();
      boolean samePolicies = Arrays.equals(canonicalPolicies, last.canonicalPolicies());
      if (set.revision() < last.revision()) {
        return reject(Reason.ROLLBACK, revision,
            "revision " + set.revision() + " is older than revision " + last.revision() + " in force");
      }
      if (set.revision() == last.revision()) {
        if (!samePolicies) {
          return reject(Reason.ROLLBACK, revision,
              "revision " + set.revision() + " arrived again with other policies");
        }
        int issued = set.issuedAt().compareTo(last.issuedAt());
        if (issued < 0) {
          return reject(Reason.ROLLBACK, revision, "revision " + set.revision() + " issued at "
              + set.issuedAt() + " is older than the copy in force, issued at " + last.issuedAt());
        }
        kind = issued == 0 ? Kind.UNCHANGED : Kind.REISSUE;
      }
    }
    if (now != null && now.isAfter(set.expiresAt().plus(clockSkew))) {
      return reject(Reason.EXPIRED, revision, "expired at " + set.expiresAt());
    }
    if (now != null && set.issuedAt().isAfter(now.plus(clockSkew))) {
      return reject(Reason.NOT_YET_VALID, revision, "issued at " + set.issuedAt() + ", in the future");
    }
    return new Accepted(new Verified(set, kind, received.clone(), canonicalPolicies));
  }

  /**
   * Checks a set read back from the state directory: well-formed, signature, tenant and agent.
   * Order and expiry do not apply to what was already in force; an expired one is re-applied and
   * reported stale.
   */
  Verdict reload(byte[] stored) {
    return check(stored, Optional.empty(), null);
  }

  private static Rejected reject(Reason reason, OptionalLong revision, String detail) {
    return new Rejected(new Rejection(reason, revision, detail));
  }
}
