package io.egosecure.agent.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed conformance fixtures: what the generator makes now, well-shaped, and consistent
 * with the rules (the reference verifier reaches every expected verdict).
 */
class ConformanceFixturesTest {
  private static final Set<String> TOP_LEVEL = Set.of("name", "description", "trustedKeys", "agent",
      "lastApplied", "now", "clockSkewSeconds", "policySet", "expected");
  private static final Set<String> REASONS = Set.of("malformed", "unknown-key", "bad-signature",
      "wrong-tenant", "wrong-agent", "rollback", "expired", "not-yet-valid");
  private static final Set<String> KINDS = Set.of("new", "reissue", "unchanged");

  @Test
  void committedFilesAreExactlyWhatTheGeneratorMakesNow() {
    Map<String, byte[]> generated = ConformanceFixturesGenerator.files();
    for (Map.Entry<String, byte[]> file : generated.entrySet()) {
      assertThat(new String(resource(file.getKey()), StandardCharsets.UTF_8))
          .as("%s differs from what ConformanceFixturesGenerator makes; regenerate (docs/conformance.md)",
              file.getKey())
          .isEqualTo(new String(file.getValue(), StandardCharsets.UTF_8));
    }
    assertThat(indexedNames()).containsExactlyElementsOf(
        generated.keySet().stream().filter(name -> !name.equals(ConformanceFixturesGenerator.INDEX)).toList());
  }

  @Test
  void generatingTwiceGivesTheSameBytes() {
    Map<String, byte[]> first = ConformanceFixturesGenerator.files();
    Map<String, byte[]> second = ConformanceFixturesGenerator.files();
    assertThat(second.keySet()).containsExactlyElementsOf(first.keySet());
    first.forEach((name, bytes) -> assertThat(second.get(name)).as(name).isEqualTo(bytes));
  }

  @Test
  void theIndexCoversEveryRequiredCase() {
    List<String> names = indexedNames().stream().map(file -> file.replace(".json", "")).toList();
    assertThat(names).contains(
        "valid-first-set", "valid-revision-zero-empty", "valid-newer-revision", "valid-reissue",
        "valid-unchanged", "valid-unknown-member-signed", "canonical-members-reordered-pretty",
        "canonical-string-escapes", "canonical-numbers", "canonical-key-ordering-utf16",
        "tampered-settings", "signature-of-other-set", "signature-65-bytes", "signature-not-base64",
        "algorithm-not-ed25519", "unknown-key", "signed-by-foreign-key-with-known-keyId",
        "wrong-tenant", "wrong-agent", "rollback-older-revision",
        "rollback-same-revision-older-issuedAt", "rollback-same-revision-different-policies",
        "expired", "expired-within-skew", "not-yet-valid", "issued-within-skew",
        "malformed-not-json", "malformed-duplicate-member", "malformed-missing-revision",
        "malformed-array");
    List<String> reasons = fixtures().map(f -> f.at("/expected/reason").asText(""))
        .filter(reason -> !reason.isEmpty()).distinct().toList();
    assertThat(reasons).as("every reject reason has a fixture").containsExactlyInAnyOrderElementsOf(REASONS);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtureNames")
  void hasTheDocumentedShape(String file) {
    JsonNode fixture = fixture(file);
    assertThat(fieldNames(fixture)).containsExactlyInAnyOrderElementsOf(TOP_LEVEL);
    assertThat(fixture.get("name").asText() + ".json").isEqualTo(file);
    assertThat(fixture.get("description").asText()).isNotBlank();
    assertThat(fixture.get("trustedKeys")).isNotEmpty().allSatisfy(key -> {
      assertThat(fieldNames(key)).containsExactlyInAnyOrder("keyId", "algorithm", "publicKey");
      assertThat(key.get("algorithm").asText()).isEqualTo("Ed25519");
      assertThat(key.get("keyId").asText()).isEqualTo(PublicSigningKey.keyIdOf(publicKey(key)));
    });
    assertThat(fieldNames(fixture.get("agent"))).containsExactlyInAnyOrder("tenantId", "agentId");
    JsonNode last = fixture.get("lastApplied");
    if (!last.isNull()) {
      assertThat(fieldNames(last)).containsExactlyInAnyOrder("revision", "issuedAt", "policies");
      assertThat(last.get("revision").isIntegralNumber()).isTrue();
      Instant.parse(last.get("issuedAt").asText());
      assertThat(last.get("policies").isArray()).isTrue();
    }
    Instant.parse(fixture.get("now").asText());
    assertThat(fixture.get("clockSkewSeconds").isIntegralNumber()).isTrue();
    assertThat(fixture.get("policySet").isTextual()).isTrue();
    JsonNode expected = fixture.get("expected");
    if (expected.get("verdict").asText().equals("accept")) {
      assertThat(fieldNames(expected)).containsExactlyInAnyOrder("verdict", "kind");
      assertThat(expected.get("kind").asText()).isIn(KINDS);
    } else {
      assertThat(fieldNames(expected)).containsExactlyInAnyOrder("verdict", "reason");
      assertThat(expected.get("verdict").asText()).isEqualTo("reject");
      assertThat(expected.get("reason").asText()).isIn(REASONS);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtureNames")
  void theReferenceVerifierReachesTheExpectedVerdict(String file) {
    JsonNode fixture = fixture(file);
    assertThat(ReferenceVerifier.verify(fixture))
        .isEqualTo(ReferenceVerifier.Verdict.of(fixture.get("expected")));
  }

  /** Core's verifier, which the server signs with, agrees wherever a signature is checked. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtureNames")
  void coreAgreesWithTheSignatureVerdict(String file) {
    JsonNode fixture = fixture(file);
    String reason = fixture.at("/expected/reason").asText("");
    JsonNode received;
    try {
      received = Json.readTree(fixture.get("policySet").asText().getBytes(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      assertThat(reason).isEqualTo("malformed");
      return;
    }
    boolean verifiesWithSomeTrustedKey = false;
    for (JsonNode key : fixture.get("trustedKeys")) {
      PublicSigningKey trusted = new PublicSigningKey(key.get("keyId").asText(), publicKey(key));
      verifiesWithSomeTrustedKey |= PolicySets.verify(received, trusted);
    }
    boolean signatureStageFails = reason.equals("unknown-key") || reason.equals("bad-signature")
        || (reason.equals("malformed") && !verifiesWithSomeTrustedKey);
    assertThat(verifiesWithSomeTrustedKey).isEqualTo(!signatureStageFails);
    if (fixture.at("/expected/verdict").asText().equals("accept")) {
      assertThat(PolicySets.parse(received).revision()).isNotNegative();
    }
  }

  static Stream<String> fixtureNames() {
    return indexedNames().stream();
  }

  private static Stream<JsonNode> fixtures() {
    return fixtureNames().map(ConformanceFixturesTest::fixture);
  }

  private static List<String> indexedNames() {
    List<String> names = new ArrayList<>();
    Json.readTree(resource(ConformanceFixturesGenerator.INDEX)).forEach(name -> names.add(name.asText()));
    return names;
  }

  private static JsonNode fixture(String file) {
    return Json.readTree(resource(file));
  }

  private static byte[] resource(String file) {
    String path = "/" + ConformanceFixturesGenerator.RESOURCE_DIRECTORY + file;
    try (InputStream in = ConformanceFixturesTest.class.getResourceAsStream(path)) {
      assertThat(in).as("classpath resource %s", path).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  private static java.security.PublicKey publicKey(JsonNode key) {
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(
          new X509EncodedKeySpec(Base64.getDecoder().decode(key.get("publicKey").asText())));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
