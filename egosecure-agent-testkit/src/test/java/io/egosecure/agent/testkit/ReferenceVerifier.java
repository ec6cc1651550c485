package io.egosecure.agent.testkit;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import org.erdtman.jcs.JsonCanonicalizer;

/**
 * The executable form of docs/conformance.md: rules 1 to 8, in order, applied to one fixture.
 * Written from the document, not from the SDK, and kept free of core's wire classes, so the
 * fixtures are checked by a second, independent reading of the rules.
 */
final class ReferenceVerifier {
  private static final String ALGORITHM = "Ed25519";
  private static final int SIGNATURE_BYTES = 64;
  private static final JsonMapper STRICT = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /** {@code accept} with a kind, or {@code reject} with a reason, as a fixture's {@code expected}. */
  record Verdict(String verdict, String detail) {
    static Verdict accept(String kind) {
      return new Verdict("accept", kind);
    }

    static Verdict reject(String reason) {
      return new Verdict("reject", reason);
    }

    static Verdict of(JsonNode expected) {
      String verdict = expected.get("verdict").asText();
      return new Verdict(verdict, expected.get(verdict.equals("accept") ? "kind" : "reason").asText());
    }
  }

  private ReferenceVerifier() {}

  static Verdict verify(JsonNode fixture) {
    String text = fixture.get("policySet").asText();

    // 1a. One JSON object, no duplicate names, and a signature member we can read.
    JsonNode parsed;
    try {
      parsed = STRICT.readTree(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return Verdict.reject("malformed");
    }
    if (!(parsed instanceof ObjectNode set)
        || !(set.get("signature") instanceof ObjectNode signature)
        || !signature.path("keyId").isTextual()
        || !signature.path("algorithm").isTextual()
        || !signature.path("value").isTextual()) {
      return Verdict.reject("malformed");
    }

    // 2. A trusted key by that id.
    JsonNode trusted = null;
    for (JsonNode key : fixture.get("trustedKeys")) {
      if (key.get("keyId").asText().equals(signature.get("keyId").asText())) {
        trusted = key;
      }
    }
    if (trusted == null) {
      return Verdict.reject("unknown-key");
    }

    // 3. Ed25519, 64 bytes of base64, valid over the JCS form of the rest.
    if (!ALGORITHM.equals(signature.get("algorithm").asText())) {
      return Verdict.reject("bad-signature");
    }
    byte[] value = strictBase64(signature.get("value").asText());
    if (value == null || value.length != SIGNATURE_BYTES) {
      return Verdict.reject("bad-signature");
    }
    ObjectNode unsigned = set.deepCopy();
    unsigned.remove("signature");
    if (!ed25519Verifies(trusted.get("publicKey").asText(), canonical(unsigned), value)) {
      return Verdict.reject("bad-signature");
    }

    // 1b. The signed content has every required member, well typed.
    if (!wellFormed(set)) {
      return Verdict.reject("malformed");
    }

    // 4, 5. Addressed to this agent.
    JsonNode agent = fixture.get("agent");
    if (!set.get("tenantId").asText().equals(agent.get("tenantId").asText())) {
      return Verdict.reject("wrong-tenant");
    }
    if (!set.get("agentId").asText().equals(agent.get("agentId").asText())) {
      return Verdict.reject("wrong-agent");
    }

    // 6. Not older than what is applied.
    long revision = set.get("revision").longValue();
    Instant issuedAt = Instant.parse(set.get("issuedAt").asText());
    Instant expiresAt = Instant.parse(set.get("expiresAt").asText());
    JsonNode last = fixture.get("lastApplied");
    String kind = "new";
    if (!last.isNull()) {
      long lastRevision = last.get("revision").longValue();
      Instant lastIssuedAt = Instant.parse(last.get("issuedAt").asText());
      if (revision < lastRevision) {
        return Verdict.reject("rollback");
      }
      if (revision == lastRevision) {
        boolean samePolicies =
            Arrays.equals(canonical(set.get("policies")), canonical(last.get("policies")));
        if (!samePolicies || issuedAt.isBefore(lastIssuedAt)) {
          return Verdict.reject("rollback");
        }
        kind = issuedAt.isAfter(lastIssuedAt) ? "reissue" : "unchanged";
      }
    }

    // 7, 8. Within its validity, give or take the clock skew.
    Instant now = Instant.parse(fixture.get("now").asText());
    Duration skew = Duration.ofSeconds(fixture.get("clockSkewSeconds").longValue());
    if (now.isAfter(expiresAt.plus(skew))) {
      return Verdict.reject("expired");
    }
    if (issuedAt.isAfter(now.plus(skew))) {
      return Verdict.reject("not-yet-valid");
    }
    return Verdict.accept(kind);
  }

  private static boolean wellFormed(ObjectNode set) {
    if (!set.path("tenantId").isTextual() || !set.path("agentId").isTextual()
        || !nonNegativeInteger(set.get("revision")) || !nonNegativeInteger(set.get("pollIntervalSeconds"))
        || !rfc3339(set.get("issuedAt")) || !rfc3339(set.get("expiresAt"))
        || !set.path("policies").isArray()) {
      return false;
    }
    for (JsonNode policy : set.get("policies")) {
      if (!policy.path("id").isTextual() || !policy.path("name").isTextual()
          || !policy.path("kind").isTextual() || !nonNegativeInteger(policy.get("version"))
          || !policy.path("settings").isObject()) {
        return false;
      }
    }
    return true;
  }

  private static boolean nonNegativeInteger(JsonNode value) {
    return value != null && value.isIntegralNumber() && value.canConvertToLong() && value.longValue() >= 0;
  }

  private static boolean rfc3339(JsonNode value) {
    if (value == null || !value.isTextual()) {
      return false;
    }
    try {
      Instant.parse(value.asText());
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /** RFC 4648 section 4, padded: decodes, and encodes back to the same text. */
  private static byte[] strictBase64(String text) {
    try {
      byte[] bytes = Base64.getDecoder().decode(text);
      return Base64.getEncoder().encodeToString(bytes).equals(text) ? bytes : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static byte[] canonical(JsonNode value) {
    try {
      return new JsonCanonicalizer(value.toString()).getEncodedUTF8();
    } catch (IOException e) {
      throw new IllegalStateException("cannot canonicalise " + value, e);
    }
  }

  private static boolean ed25519Verifies(String publicKeyBase64, byte[] message, byte[] signature) {
    try {
      PublicKey key = KeyFactory.getInstance(ALGORITHM)
          .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(publicKeyBase64)));
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(message);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
