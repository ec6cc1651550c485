package io.egosecure.core.wire;

import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PublicSigningKey;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bodies of the agent API (PROTOCOL.md, "Agent API"). The PolicySet itself is read and
 * written by {@link PolicySets}. Agents read these with {@link Json.Strictness#IGNORE_UNKNOWN_FIELDS}.
 */
public final class AgentMessages {
  /** On every poll answer: the interval, in seconds, to poll at. Wins over the set's own field. */
  public static final String POLL_INTERVAL_HEADER = "EgoSecure-Poll-Interval";
  /** On every poll answer: how far, in percent, each poll may move from the interval. */
  public static final String POLL_JITTER_HEADER = "EgoSecure-Poll-Jitter-Percent";

  private AgentMessages() {}

  /** {@code POST /v1/agent/enroll}. {@code labels} may be absent. */
  public record EnrollRequest(String token, String name, Map<String, String> labels) {
    public EnrollRequest {
      required(token, "token");
      required(name, "name");
      labels = labels == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    }
  }

  /** The answer to an enrollment: the credential is shown this once. */
  public record EnrollResponse(
      String agentId,
      String tenantId,
      String credential,
      long pollIntervalSeconds,
      int pollJitterPercent,
      List<SigningKeyInfo> signingKeys) {
    public EnrollResponse {
      required(agentId, "agentId");
      required(tenantId, "tenantId");
      required(credential, "credential");
      required(signingKeys, "signingKeys");
      signingKeys = List.copyOf(signingKeys);
    }
  }

  /**
   * A public key agents verify PolicySets with.
   *
   * @param publicKey base64 of the DER X.509 SubjectPublicKeyInfo
   */
  public record SigningKeyInfo(String keyId, String algorithm, String publicKey) {
    public SigningKeyInfo {
      required(keyId, "keyId");
      required(algorithm, "algorithm");
      required(publicKey, "publicKey");
    }

    public static SigningKeyInfo of(PublicSigningKey key) {
      return new SigningKeyInfo(
          key.keyId(),
          key.algorithm(),
          Base64.getEncoder().encodeToString(key.publicKey().getEncoded()));
    }
  }

  /** {@code POST /v1/agent/status}. {@code message} may be absent. */
  public record StatusReport(long revision, AgentState state, String message) {
    public StatusReport {
      if (revision < 0) {
        throw new ValidationException("revision", "must not be negative, was " + revision);
      }
      required(state, "state");
      message = message == null ? "" : message;
    }
  }

  /** What the push channel sends. Agents ignore {@code type}s they do not know. */
  public record Notification(String type, long revision) {
    /** The one type of v1: the tenant published; poll now. */
    public static final String POLICIES_CHANGED = "policies-changed";

    public Notification {
      required(type, "type");
    }

    public static Notification policiesChanged(long revision) {
      return new Notification(POLICIES_CHANGED, revision);
    }
  }

  static void required(Object value, String field) {
    if (value == null) {
      throw new ValidationException(field, "is required");
    }
  }
}
