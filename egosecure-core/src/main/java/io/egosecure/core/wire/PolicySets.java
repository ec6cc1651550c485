package io.egosecure.core.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * Signing, parsing and verifying PolicySets.
 *
 * <p>The signature is Ed25519 over the RFC 8785 canonical form of the PolicySet object without its
 * {@code signature} member. A verifier canonicalises what it <em>received</em>, unknown members
 * included, so fields added later stay covered.
 *
 * <pre>{@code
 * JsonNode received = Json.readTree(body);
 * if (!PolicySets.verify(received, enrolledKey)) { reject(); }
 * PolicySet set = PolicySets.parse(received);
 * }</pre>
 */
public final class PolicySets {
  /** An Ed25519 signature: R and S, 32 bytes each (RFC 8032 5.1.6). */
  private static final int SIGNATURE_LENGTH = 64;

  private PolicySets() {}

  /**
   * Signs the PolicySet of one agent. The canonical form is assembled around the shared
   * canonical policies array rather than re-serialised; {@code PolicySetsTest} checks that it is
   * byte for byte what RFC 8785 gives for the same object.
   */
  public static SignedPolicySet sign(
      TenantId tenantId,
      AgentId agentId,
      long revision,
      Instant issuedAt,
      Instant expiresAt,
      Duration pollInterval,
      CanonicalPolicies policies,
      SigningKey key) {
    // Members in RFC 8785 order: agentId, expiresAt, issuedAt, policies, pollIntervalSeconds,
    // revision, [signature,] tenantId.
    ByteArrayOutputStream head = new ByteArrayOutputStream(policies.bytes().length + 256);
    write(head, "{\"agentId\":" + CanonicalJson.string(agentId.value()));
    write(head, ",\"expiresAt\":" + CanonicalJson.string(expiresAt.toString()));
    write(head, ",\"issuedAt\":" + CanonicalJson.string(issuedAt.toString()));
    write(head, ",\"policies\":");
    head.writeBytes(policies.bytes());
    write(head, ",\"pollIntervalSeconds\":" + pollInterval.toSeconds());
    write(head, ",\"revision\":" + revision);
    byte[] tail =
        (",\"tenantId\":" + CanonicalJson.string(tenantId.value()) + "}")
            .getBytes(StandardCharsets.UTF_8);

    ByteArrayOutputStream canonical = new ByteArrayOutputStream(head.size() + tail.length);
    canonical.writeBytes(head.toByteArray());
    canonical.writeBytes(tail);
    String value = Base64.getEncoder().encodeToString(signature(key, canonical.toByteArray()));
    PolicySet.Signature signature =
        new PolicySet.Signature(key.keyId(), PublicSigningKey.ALGORITHM, value);

    ByteArrayOutputStream body = head;
    write(
        body,
        ",\"signature\":{\"algorithm\":\"Ed25519\",\"keyId\":"
            + CanonicalJson.string(key.keyId())
            + ",\"value\":\""
            + value
            + "\"}");
    body.writeBytes(tail);
    PolicySet set =
        new PolicySet(
            tenantId, agentId, revision, issuedAt, expiresAt, pollInterval, policies.entries(),
            signature);
    return new SignedPolicySet(set, body.toByteArray());
  }

  /** The JSON tree of a PolicySet, signature included, as the server sends it. */
  public static ObjectNode toTree(PolicySet set) {
    ObjectNode node = Json.object();
    node.put("tenantId", set.tenantId().value());
    node.put("agentId", set.agentId().value());
    node.put("revision", set.revision());
    node.put("issuedAt", set.issuedAt().toString());
    node.put("expiresAt", set.expiresAt().toString());
    node.put("pollIntervalSeconds", set.pollInterval().toSeconds());
    var policies = node.putArray("policies");
    for (PolicySet.Entry entry : set.policies()) {
      policies.add(CanonicalPolicies.tree(entry));
    }
    ObjectNode signature = node.putObject("signature");
    signature.put("keyId", set.signature().keyId());
    signature.put("algorithm", set.signature().algorithm());
    signature.put("value", set.signature().value());
    return node;
  }

  /**
   * Whether {@code received} carries a valid signature by {@code key}: the key ids match, the
   * algorithm is Ed25519, and the signature verifies over the canonical form of everything else.
   * Never throws for a malformed set; it is simply not valid.
   */
  public static boolean verify(JsonNode received, PublicSigningKey key) {
    if (!(received instanceof ObjectNode object) || !(object.get("signature") instanceof ObjectNode sig)) {
      return false;
    }
    if (!key.keyId().equals(sig.path("keyId").asText(null))
        || !PublicSigningKey.ALGORITHM.equals(sig.path("algorithm").asText(null))
        || !sig.path("value").isTextual()) {
      return false;
    }
    try {
      byte[] value = Base64.getDecoder().decode(sig.get("value").asText());
      if (value.length != SIGNATURE_LENGTH) {
        // RFC 8032: exactly 64 bytes. The JDK also accepts S with trailing zero bytes, which
        // would give one set many valid signature values.
        return false;
      }
      ObjectNode unsigned = object.deepCopy();
      unsigned.remove("signature");
      Signature verifier = Signature.getInstance(PublicSigningKey.ALGORITHM);
      verifier.initVerify(key.publicKey());
      verifier.update(CanonicalJson.canonicalize(unsigned));
      return verifier.verify(value);
    } catch (IllegalArgumentException | ValidationException | GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * Reads a received PolicySet, ignoring members it does not know.
   *
   * @throws ValidationException naming the first missing or malformed member
   */
  public static PolicySet parse(JsonNode received) {
    if (!(received instanceof ObjectNode node)) {
      throw new ValidationException("/", "a PolicySet is a JSON object");
    }
    List<PolicySet.Entry> entries = new ArrayList<>();
    JsonNode policies = required(node, "policies");
    if (!policies.isArray()) {
      throw new ValidationException("/policies", "must be an array");
    }
    for (int i = 0; i < policies.size(); i++) {
      JsonNode entry = policies.get(i);
      String at = "/policies/" + i;
      if (!(entry.get("settings") instanceof ObjectNode settings)) {
        throw new ValidationException(at + "/settings", "must be an object");
      }
      entries.add(
          new PolicySet.Entry(
              id(entry, "id", at, PolicyId::of),
              text(entry, "name", at),
              text(entry, "kind", at),
              number(entry, "version", at),
              settings));
    }
    JsonNode signature = required(node, "signature");
    return new PolicySet(
        id(node, "tenantId", "", TenantId::of),
        id(node, "agentId", "", AgentId::of),
        number(node, "revision", ""),
        instant(node, "issuedAt"),
        instant(node, "expiresAt"),
        Duration.ofSeconds(number(node, "pollIntervalSeconds", "")),
        entries,
        new PolicySet.Signature(
            text(signature, "keyId", "/signature"),
            text(signature, "algorithm", "/signature"),
            text(signature, "value", "/signature")));
  }

  private static JsonNode required(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new ValidationException("/" + field, "is required");
    }
    return value;
  }

  private static String text(JsonNode node, String field, String at) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new ValidationException(at + "/" + field, "must be a string");
    }
    return value.asText();
  }

  /** An id member; the id types name themselves ("policyId"), the pointer names the member. */
  private static <T> T id(JsonNode node, String field, String at, Function<String, T> of) {
    String value = text(node, field, at);
    try {
      return of.apply(value);
    } catch (ValidationException e) {
      String prefix = e.field() + ": ";
      String message = e.getMessage();
      throw new ValidationException(
          at + "/" + field,
          message.startsWith(prefix) ? message.substring(prefix.length()) : message);
    }
  }

  private static long number(JsonNode node, String field, String at) {
    JsonNode value = node.get(field);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < 0) {
      throw new ValidationException(at + "/" + field, "must be a non-negative integer");
    }
    return value.longValue();
  }

  private static Instant instant(JsonNode node, String field) {
    try {
      return Instant.parse(text(node, field, ""));
    } catch (DateTimeParseException e) {
      throw new ValidationException("/" + field, "must be an RFC 3339 UTC time");
    }
  }

  private static byte[] signature(SigningKey key, byte[] message) {
    try {
      Signature signer = Signature.getInstance(PublicSigningKey.ALGORITHM);
      signer.initSign(key.privateKey());
      signer.update(message);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with " + key + " failed", e);
    }
  }

  private static void write(ByteArrayOutputStream out, String text) {
    out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
  }
}
