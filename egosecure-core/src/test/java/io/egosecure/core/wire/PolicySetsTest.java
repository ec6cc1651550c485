package io.egosecure.core.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicySetsTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final TenantId TENANT = TenantId.of("acme");
  private static final AgentId AGENT = AgentId.of("agent-7");
  private static final Instant ISSUED = Instant.parse("2026-01-02T03:04:05.006Z");
  private static final Instant EXPIRES = Instant.parse("2026-01-09T03:04:05.006Z");
  private static final Duration POLL = Duration.ofSeconds(300);

  private static final KeyPair PAIR = ed25519();
  private static final SigningKey KEY =
      new SigningKey(PublicSigningKey.of(PAIR.getPublic()), PAIR.getPrivate());
  private static final KeyPair OTHER_PAIR = ed25519();
  private static final SigningKey OTHER_KEY =
      new SigningKey(PublicSigningKey.of(OTHER_PAIR.getPublic()), OTHER_PAIR.getPrivate());

  private static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** Settings that exercise the canonical form: unicode, nesting, awkward numbers. */
  private static ObjectNode awkwardSettings() {
    ObjectNode settings = NODES.objectNode();
    settings.put("zLast", "€ \"quoted\" \\ back\nslash 😀 é");
    settings.put("ratio", 1.5);
    settings.put("huge", 1e21);
    settings.put("negativeZero", -0.0);
    settings.put("maxSafe", (1L << 53) - 1);
    settings.put("tiny", 0.0000001);
    settings.put("enabled", true);
    settings.putNull("nothing");
    ObjectNode nested = settings.putObject("nested");
    nested.put("\u00f6", 1).put("\u20ac", 2).put("1", 3).put("\r", 4);
    nested.putArray("list").add(3).add(1).add(2).addObject().put("b", 1).put("a", 2);
    nested.putObject("empty");
    return settings;
  }

  private static List<PolicySet.Entry> entries() {
    return List.of(
        new PolicySet.Entry(
            PolicyId.of("p-1"), "USB — Ünïcødé 😀", "device-control", 3, awkwardSettings()),
        new PolicySet.Entry(PolicyId.of("p-2"), "empty", "firewall", 1, NODES.objectNode()));
  }

  private static SignedPolicySet sign(List<PolicySet.Entry> entries, SigningKey key) {
    return PolicySets.sign(
        TENANT, AGENT, 7, ISSUED, EXPIRES, POLL, CanonicalPolicies.of(entries), key);
  }

  private static SignedPolicySet signed() {
    return sign(entries(), KEY);
  }

  private static byte[] bytes(SignedPolicySet set) {
    ByteBuffer buffer = set.json();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static ObjectNode tree(SignedPolicySet set) {
    return (ObjectNode) Json.readTree(bytes(set));
  }

  private static byte[] canonicalWithoutSignature(ObjectNode tree) {
    ObjectNode copy = tree.deepCopy();
    copy.remove("signature");
    return CanonicalJson.canonicalize(copy);
  }

  private static boolean ed25519Verifies(byte[] message, String base64, SigningKey key)
      throws GeneralSecurityException {
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key.publicKey().publicKey());
    verifier.update(message);
    return verifier.verify(Base64.getDecoder().decode(base64));
  }

  private static String ed25519Sign(byte[] message, SigningKey key)
      throws GeneralSecurityException {
    Signature signer = Signature.getInstance("Ed25519");
    signer.initSign(key.privateKey());
    signer.update(message);
    return Base64.getEncoder().encodeToString(signer.sign());
  }

  // ---- sign(): the assembled bytes are RFC 8785 canonical ----------------------------------

  static Stream<Arguments> selections() {
    return Stream.of(
        Arguments.of("awkward settings", entries()),
        Arguments.of("zero policies", List.of()),
        Arguments.of(
            "empty settings",
            List.of(new PolicySet.Entry(PolicyId.of("p-9"), "n", "k", 0, NODES.objectNode()))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("selections")
  void bodyIsTheCanonicalFormOfItself(String name, List<PolicySet.Entry> entries) {
    SignedPolicySet set = sign(entries, KEY);
    byte[] body = bytes(set);

    assertThat(CanonicalJson.canonicalize(Json.readTree(body))).containsExactly(body);
    assertThat(CanonicalJson.canonicalize(PolicySets.toTree(set.policySet())))
        .containsExactly(body);
    assertThat(set.length()).isEqualTo(body.length);
    assertThat(set.jsonString()).isEqualTo(new String(body, StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("selections")
  void signatureCoversTheCanonicalFormWithoutTheSignatureMember(
      String name, List<PolicySet.Entry> entries) throws GeneralSecurityException {
    SignedPolicySet set = sign(entries, KEY);
    ObjectNode tree = tree(set);
    byte[] unsigned = canonicalWithoutSignature(tree);

    assertThat(ed25519Verifies(unsigned, tree.path("signature").path("value").asText(), KEY))
        .isTrue();
    // The signed bytes are the body with the signature member cut out: it sorts between
    // revision and tenantId.
    String body = set.jsonString();
    int start = body.indexOf(",\"signature\":{");
    int end = body.indexOf('}', start) + 1;
    assertThat(body.substring(0, start) + body.substring(end))
        .isEqualTo(new String(unsigned, StandardCharsets.UTF_8));
  }

  @Test
  void bodyHasTheProtocolMembersInCanonicalOrder() {
    SignedPolicySet set = signed();
    ObjectNode tree = tree(set);

    assertThat(tree.fieldNames())
        .toIterable()
        .containsExactly(
            "agentId", "expiresAt", "issuedAt", "policies", "pollIntervalSeconds", "revision",
            "signature", "tenantId");
    assertThat(tree.path("tenantId").asText()).isEqualTo("acme");
    assertThat(tree.path("agentId").asText()).isEqualTo("agent-7");
    assertThat(tree.path("revision").isIntegralNumber()).isTrue();
    assertThat(tree.path("revision").asLong()).isEqualTo(7);
    assertThat(tree.path("issuedAt").asText()).isEqualTo("2026-01-02T03:04:05.006Z");
    assertThat(tree.path("expiresAt").asText()).isEqualTo("2026-01-09T03:04:05.006Z");
    assertThat(tree.path("pollIntervalSeconds").asLong()).isEqualTo(300);
    assertThat(tree.path("policies").get(0).fieldNames())
        .toIterable()
        .containsExactly("id", "kind", "name", "settings", "version");
    assertThat(tree.path("signature").fieldNames())
        .toIterable()
        .containsExactly("algorithm", "keyId", "value");
    assertThat(tree.path("signature").path("algorithm").asText()).isEqualTo("Ed25519");
    assertThat(tree.path("signature").path("keyId").asText()).isEqualTo(KEY.keyId());
    assertThat(Base64.getDecoder().decode(tree.path("signature").path("value").asText()))
        .hasSize(64);
  }

  @Test
  void settingsAreCanonicalInsideTheBody() {
    String body = signed().jsonString();

    assertThat(body)
        .contains("\"huge\":1e+21")
        .contains("\"maxSafe\":9007199254740991")
        .contains("\"negativeZero\":0,")
        .contains("\"ratio\":1.5")
        .contains("\"tiny\":1e-7")
        .contains("\"nested\":{\"\\r\":4,\"1\":3,\"empty\":{},\"list\":[3,1,2,{\"a\":2,\"b\":1}],"
            + "\"\u00f6\":1,\"\u20ac\":2}")
        .contains("\"zLast\":\"€ \\\"quoted\\\" \\\\ back\\nslash 😀 é\"")
        .contains("\"name\":\"USB — Ünïcødé 😀\"")
        .contains("\"policies\":[{\"id\":\"p-1\",")
        .contains("{\"id\":\"p-2\",\"kind\":\"firewall\",\"name\":\"empty\",\"settings\":{},"
            + "\"version\":1}");
  }

  @Test
  void zeroPoliciesIsAnEmptySignedArray() {
    SignedPolicySet set =
        PolicySets.sign(
            TENANT, AGENT, 0, ISSUED, EXPIRES, POLL, CanonicalPolicies.of(List.of()), KEY);

    assertThat(set.jsonString()).contains("\"policies\":[],").contains("\"revision\":0,");
    assertThat(PolicySets.verify(tree(set), KEY.publicKey())).isTrue();
    assertThat(set.policySet().policies()).isEmpty();
  }

  @Test
  void signReturnsTheRecordItSigned() {
    SignedPolicySet set = signed();
    PolicySet record = set.policySet();

    assertThat(record.tenantId()).isEqualTo(TENANT);
    assertThat(record.agentId()).isEqualTo(AGENT);
    assertThat(record.revision()).isEqualTo(7);
    assertThat(record.issuedAt()).isEqualTo(ISSUED);
    assertThat(record.expiresAt()).isEqualTo(EXPIRES);
    assertThat(record.pollInterval()).isEqualTo(POLL);
    assertThat(record.policies()).isEqualTo(entries());
    assertThat(record.signature().keyId()).isEqualTo(KEY.keyId());
    assertThat(record.signature().algorithm()).isEqualTo("Ed25519");
    assertThat(record.signature().value())
        .isEqualTo(tree(set).path("signature").path("value").asText());
  }

  @Test
  void jsonIsReadOnlyAndEachCallIndependent() {
    SignedPolicySet set = signed();
    ByteBuffer first = set.json();
    first.get(new byte[10]);

    assertThat(first.isReadOnly()).isTrue();
    assertThat(set.json().position()).isZero();
    assertThat(set.json().remaining()).isEqualTo(set.length());
  }

  @Test
  void canonicalPoliciesDigestFollowsTheContent() {
    assertThat(CanonicalPolicies.of(entries()).digest())
        .isEqualTo(CanonicalPolicies.of(entries()).digest())
        .matches("[0-9a-f]{64}");
    assertThat(CanonicalPolicies.of(entries()).digest())
        .isNotEqualTo(CanonicalPolicies.of(List.of(entries().get(1), entries().get(0))).digest())
        .isNotEqualTo(CanonicalPolicies.of(List.of()).digest());
  }

  // ---- verify() ------------------------------------------------------------------------------

  @Test
  void freshlySignedSetVerifies() {
    SignedPolicySet set = signed();

    assertThat(PolicySets.verify(tree(set), KEY.publicKey())).isTrue();
    assertThat(PolicySets.verify(PolicySets.toTree(set.policySet()), KEY.publicKey())).isTrue();
  }

  @Test
  void reformattedBodyStillVerifies() {
    // Whitespace, member order, number spelling and escapes are not covered: the verifier
    // canonicalises what it received.
    String body = signed().jsonString();
    String reformatted =
        reversed(Json.readTree(body.getBytes(StandardCharsets.UTF_8)))
            .toPrettyString()
            .replace("\"ratio\" : 1.5", "\"ratio\" : 15E-1")
            .replace("\"tiny\" : 1.0E-7", "\"tiny\" : 0.0000001")
            .replace("é", "\\u00e9")
            .replace("€", "\\u20AC");
    assertThat(reformatted)
        .contains("15E-1", "0.0000001", "\\u00e9", "\\u20AC")
        .startsWith("{\n  \"tenantId\"");

    JsonNode received = Json.readTree(reformatted.getBytes(StandardCharsets.UTF_8));
    assertThat(PolicySets.verify(received, KEY.publicKey())).isTrue();
  }

  /** A copy with every object's members in reverse order. */
  private static JsonNode reversed(JsonNode node) {
    if (node.isObject()) {
      List<String> names = new ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      ObjectNode copy = NODES.objectNode();
      for (int i = names.size() - 1; i >= 0; i--) {
        copy.set(names.get(i), reversed(node.get(names.get(i))));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = NODES.arrayNode();
      node.forEach(element -> copy.add(reversed(element)));
      return copy;
    }
    return node;
  }

  static Stream<Arguments> tamperings() {
    return Stream.of(
        tamper("revision + 1", t -> t.put("revision", 8)),
        tamper("revision as a string", t -> t.put("revision", "7")),
        tamper("agentId", t -> t.put("agentId", "agent-8")),
        tamper("tenantId", t -> t.put("tenantId", "evil")),
        tamper("issuedAt", t -> t.put("issuedAt", "2026-01-02T03:04:05.007Z")),
        tamper("expiresAt", t -> t.put("expiresAt", "2099-01-01T00:00:00Z")),
        tamper("pollIntervalSeconds", t -> t.put("pollIntervalSeconds", 1)),
        tamper("a setting value", t -> policy(t, 0).with("settings").put("ratio", 1.25)),
        tamper("a nested setting", t -> policy(t, 0).with("settings").with("nested").put("1", 4)),
        tamper("a setting removed", t -> policy(t, 0).with("settings").remove("enabled")),
        tamper("a policy version", t -> policy(t, 0).put("version", 4)),
        tamper("a policy name", t -> policy(t, 1).put("name", "Empty")),
        tamper("an unknown top-level member", t -> t.put("extra", true)),
        tamper("an unknown null member", t -> t.putNull("extra")),
        tamper("an unknown member in a policy", t -> policy(t, 1).put("priority", 1)),
        tamper("a policy removed", t -> ((ArrayNode) t.get("policies")).remove(1)),
        tamper("all policies removed", t -> t.putArray("policies")),
        tamper(
            "policies reordered",
            t -> {
              ArrayNode policies = (ArrayNode) t.get("policies");
              policies.add(policies.remove(0));
            }),
        tamper(
            "a policy duplicated",
            t -> ((ArrayNode) t.get("policies")).add(policy(t, 1).deepCopy())));
  }

  private static Arguments tamper(String name, Consumer<ObjectNode> change) {
    return Arguments.of(name, change);
  }

  private static ObjectNode policy(ObjectNode tree, int index) {
    return (ObjectNode) tree.get("policies").get(index);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tamperings")
  void changingAnythingBreaksTheSignature(String name, Consumer<ObjectNode> change) {
    ObjectNode tree = tree(signed());
    change.accept(tree);

    assertThat(PolicySets.verify(tree, KEY.publicKey())).isFalse();
  }

  @Test
  void anotherKeyDoesNotVerify() {
    assertThat(PolicySets.verify(tree(signed()), OTHER_KEY.publicKey())).isFalse();
  }

  @Test
  void aSetSignedByAnotherKeyClaimingOurKeyIdDoesNotVerify() {
    ObjectNode forged = tree(sign(entries(), OTHER_KEY));
    ((ObjectNode) forged.get("signature")).put("keyId", KEY.keyId());

    assertThat(PolicySets.verify(forged, KEY.publicKey())).isFalse();
  }

  @Test
  void aKeyFakingOurKeyIdDoesNotVerify() {
    PublicSigningKey impostor = new PublicSigningKey(KEY.keyId(), OTHER_PAIR.getPublic());

    assertThat(PolicySets.verify(tree(signed()), impostor)).isFalse();
  }

  @Test
  void ourKeyUnderAnotherKeyIdDoesNotVerify() {
    PublicSigningKey renamed = new PublicSigningKey("ed25519-0000000000000000", PAIR.getPublic());

    assertThat(PolicySets.verify(tree(signed()), renamed)).isFalse();
  }

  static Stream<Arguments> brokenSignatures() {
    return Stream.of(
        tamper("algorithm EdDSA", t -> sig(t).put("algorithm", "EdDSA")),
        tamper("algorithm ed25519", t -> sig(t).put("algorithm", "ed25519")),
        tamper("algorithm missing", t -> sig(t).remove("algorithm")),
        tamper("algorithm not a string", t -> sig(t).put("algorithm", 25519)),
        tamper("keyId missing", t -> sig(t).remove("keyId")),
        tamper("value missing", t -> sig(t).remove("value")),
        tamper("value null", t -> sig(t).putNull("value")),
        tamper("value not a string", t -> sig(t).put("value", 12345)),
        tamper("value not base64", t -> sig(t).put("value", "not base64!")),
        tamper("value empty", t -> sig(t).put("value", "")),
        tamper("value base64url", t -> sig(t).put("value", "-_-_" + sig(t).get("value").asText())),
        tamper(
            "value truncated",
            t -> sig(t).put("value", Base64.getEncoder().encodeToString(new byte[63]))),
        tamper(
            // The JDK's Ed25519 accepts this (S read little-endian, the extra zero is
            // insignificant); RFC 8032 signatures are exactly 64 bytes.
            "value with a zero byte appended",
            t -> {
              byte[] value = Base64.getDecoder().decode(sig(t).get("value").asText());
              byte[] longer = java.util.Arrays.copyOf(value, 65);
              sig(t).put("value", Base64.getEncoder().encodeToString(longer));
            }),
        tamper(
            "value zeros",
            t -> sig(t).put("value", Base64.getEncoder().encodeToString(new byte[64]))),
        tamper(
            "value with a flipped bit",
            t -> {
              byte[] value = Base64.getDecoder().decode(sig(t).get("value").asText());
              value[10] ^= 1;
              sig(t).put("value", Base64.getEncoder().encodeToString(value));
            }),
        tamper("signature missing", t -> t.remove("signature")),
        tamper("signature null", t -> t.putNull("signature")),
        tamper("signature a string", t -> t.put("signature", sig(t).get("value").asText())),
        tamper(
            "signature an array",
            t -> {
              ObjectNode signature = sig(t).deepCopy();
              t.putArray("signature").add(signature);
            }));
  }

  private static ObjectNode sig(ObjectNode tree) {
    return (ObjectNode) tree.get("signature");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenSignatures")
  void aBrokenSignatureIsInvalidAndNeverThrows(String name, Consumer<ObjectNode> change) {
    ObjectNode tree = tree(signed());
    change.accept(tree);

    assertThat(PolicySets.verify(tree, KEY.publicKey())).isFalse();
  }

  @Test
  void nonObjectsAreInvalid() {
    PublicSigningKey key = KEY.publicKey();
    ArrayNode wrapped = NODES.arrayNode().add(tree(signed()));

    assertThat(PolicySets.verify(wrapped, key)).isFalse();
    assertThat(PolicySets.verify(NODES.textNode(signed().jsonString()), key)).isFalse();
    assertThat(PolicySets.verify(NODES.nullNode(), key)).isFalse();
    assertThat(PolicySets.verify(NODES.missingNode(), key)).isFalse();
    assertThat(PolicySets.verify(null, key)).isFalse();
  }

  @Test
  void aSetWithALoneSurrogateIsInvalidNotAnException() {
    ObjectNode tree = tree(signed());
    policy(tree, 0).with("settings").put("zLast", "\ud800");

    assertThat(PolicySets.verify(tree, KEY.publicKey())).isFalse();
  }

  @Test
  void duplicateMembersAreRejectedBeforeVerification() {
    // Otherwise "revision" could be read as 7 by the verifier and as 8 by the agent.
    String body = signed().jsonString();
    String duplicated = body.replace("\"revision\":7,", "\"revision\":7,\"revision\":8,");

    assertThatThrownBy(() -> Json.readTree(duplicated.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(ValidationException.class)
        .hasMessageContaining("Duplicate field 'revision'");
  }

  @Test
  void unknownMembersAreCoveredWhenTheSignerCanonicalisedThem() throws Exception {
    // A future server adds members sign() does not know. The canonical form is written out by
    // hand so the test does not lean on CanonicalJson for what it signs.
    String unsigned =
        "{\"agentId\":\"agent-7\",\"channel\":{\"name\":\"stable\",\"weight\":0.5},"
            + "\"expiresAt\":\"2026-01-09T03:04:05.006Z\",\"issuedAt\":\"2026-01-02T03:04:05.006Z\","
            + "\"policies\":[{\"id\":\"p-1\",\"kind\":\"device-control\",\"name\":\"USB\","
            + "\"priority\":10,\"settings\":{\"block\":true,\"limit\":1e+21},\"version\":3}],"
            + "\"pollIntervalSeconds\":300,\"revision\":7,\"tenantId\":\"acme\"}";
    String value = ed25519Sign(unsigned.getBytes(StandardCharsets.UTF_8), KEY);

    // What arrives: another member order, whitespace and number spelling, plus the signature.
    String received =
        "{ \"tenantId\": \"acme\", \"revision\": 7, \"pollIntervalSeconds\": 300,\n"
            + "  \"policies\": [ { \"version\": 3, \"settings\": { \"limit\": 1E21, \"block\": true },"
            + " \"priority\": 10, \"name\": \"USB\", \"kind\": \"device-control\", \"id\": \"p-1\" } ],\n"
            + "  \"issuedAt\": \"2026-01-02T03:04:05.006Z\", \"expiresAt\": \"2026-01-09T03:04:05.006Z\",\n"
            + "  \"channel\": { \"weight\": 5e-1, \"name\": \"stable\" }, \"agentId\": \"agent-7\",\n"
            + "  \"signature\": { \"value\": \"" + value + "\", \"keyId\": \"" + KEY.keyId()
            + "\", \"algorithm\": \"Ed25519\" } }";
    JsonNode tree = Json.readTree(received.getBytes(StandardCharsets.UTF_8));

    assertThat(CanonicalJson.canonicalize(withoutSignature(tree)))
        .containsExactly(unsigned.getBytes(StandardCharsets.UTF_8));
    assertThat(PolicySets.verify(tree, KEY.publicKey())).isTrue();

    // Dropping the unknown members (what a verifier that re-serialised its record would do)
    // breaks it: they are covered.
    ObjectNode withoutChannel = ((ObjectNode) tree).deepCopy();
    withoutChannel.remove("channel");
    assertThat(PolicySets.verify(withoutChannel, KEY.publicKey())).isFalse();
    ObjectNode withoutPriority = ((ObjectNode) tree).deepCopy();
    policy(withoutPriority, 0).remove("priority");
    assertThat(PolicySets.verify(withoutPriority, KEY.publicKey())).isFalse();

    // parse() ignores them.
    PolicySet set = PolicySets.parse(tree);
    assertThat(set.revision()).isEqualTo(7);
    assertThat(set.policies()).singleElement().satisfies(p -> {
      assertThat(p.id()).isEqualTo(PolicyId.of("p-1"));
      assertThat(p.settings().path("limit").asDouble()).isEqualTo(1e21);
    });
  }

  private static ObjectNode withoutSignature(JsonNode tree) {
    ObjectNode copy = ((ObjectNode) tree).deepCopy();
    copy.remove("signature");
    return copy;
  }

  // ---- parse() -------------------------------------------------------------------------------

  @Test
  void parseReadsBackWhatToTreeWrote() {
    PolicySet original = signed().policySet();

    assertThat(PolicySets.parse(PolicySets.toTree(original))).isEqualTo(original);
  }

  @Test
  void parseReadsTheSignedBody() {
    SignedPolicySet signed = signed();
    PolicySet parsed = PolicySets.parse(tree(signed));
    PolicySet original = signed.policySet();

    assertThat(parsed.tenantId()).isEqualTo(original.tenantId());
    assertThat(parsed.agentId()).isEqualTo(original.agentId());
    assertThat(parsed.revision()).isEqualTo(original.revision());
    assertThat(parsed.issuedAt()).isEqualTo(original.issuedAt());
    assertThat(parsed.expiresAt()).isEqualTo(original.expiresAt());
    assertThat(parsed.pollInterval()).isEqualTo(original.pollInterval());
    assertThat(parsed.signature()).isEqualTo(original.signature());
    assertThat(parsed.policies()).hasSize(2);
    // Numbers come back in their canonical spelling: compare canonical forms, not node types.
    for (int i = 0; i < 2; i++) {
      assertThat(CanonicalJson.canonicalize(parsed.policies().get(i).settings()))
          .containsExactly(CanonicalJson.canonicalize(original.policies().get(i).settings()));
    }
  }

  @Test
  void parseIgnoresUnknownMembers() {
    PolicySet original = signed().policySet();
    ObjectNode tree = PolicySets.toTree(original);
    tree.put("future", "member");
    tree.putObject("more").put("x", 1);
    policy(tree, 0).put("priority", 5);
    ((ObjectNode) tree.get("signature")).put("created", "2026-01-01T00:00:00Z");

    assertThat(PolicySets.parse(tree)).isEqualTo(original);
  }

  static Stream<Arguments> malformedSets() {
    return Stream.of(
        broken("/revision", t -> t.remove("revision")),
        broken("/revision", t -> t.put("revision", "7")),
        broken("/revision", t -> t.put("revision", 7.5)),
        broken("/revision", t -> t.put("revision", -1)),
        broken("/revision", t -> t.putNull("revision")),
        broken("/revision", t -> t.put("revision", new java.math.BigInteger("99999999999999999999"))),
        broken("/tenantId", t -> t.remove("tenantId")),
        broken("/tenantId", t -> t.put("tenantId", 5)),
        broken("/tenantId", t -> t.put("tenantId", "Not An Id")),
        broken("/agentId", t -> t.putArray("agentId")),
        broken("/agentId", t -> t.put("agentId", "")),
        broken("/issuedAt", t -> t.put("issuedAt", "yesterday")),
        broken("/issuedAt", t -> t.put("issuedAt", 1767323045)),
        broken("/expiresAt", t -> t.putNull("expiresAt")),
        broken("/pollIntervalSeconds", t -> t.put("pollIntervalSeconds", "300")),
        broken("/pollIntervalSeconds", t -> t.put("pollIntervalSeconds", 1.5)),
        broken("/policies", t -> t.remove("policies")),
        broken("/policies", t -> t.putObject("policies")),
        broken("/policies/0/settings", t -> policy(t, 0).putArray("settings")),
        broken("/policies/0/settings", t -> policy(t, 0).remove("settings")),
        broken("/policies/1/settings", t -> policy(t, 1).put("settings", "{}")),
        broken("/policies/0/id", t -> policy(t, 0).remove("id")),
        broken("/policies/0/id", t -> policy(t, 0).put("id", "P 1")),
        broken("/policies/1/name", t -> policy(t, 1).put("name", 5)),
        broken("/policies/1/kind", t -> policy(t, 1).putNull("kind")),
        broken("/policies/0/version", t -> policy(t, 0).put("version", "3")),
        broken("/policies/0/version", t -> policy(t, 0).put("version", -3)),
        broken("/signature", t -> t.remove("signature")),
        broken("/signature/keyId", t -> sig(t).remove("keyId")),
        broken("/signature/algorithm", t -> sig(t).put("algorithm", 1)),
        broken("/signature/value", t -> sig(t).putNull("value")));
  }

  private static Arguments broken(String pointer, Consumer<ObjectNode> change) {
    return Arguments.of(pointer, change);
  }

  @ParameterizedTest(name = "{0} #{index}")
  @MethodSource("malformedSets")
  void parseNamesTheMalformedMember(String pointer, Consumer<ObjectNode> change) {
    ObjectNode tree = PolicySets.toTree(signed().policySet());
    change.accept(tree);

    assertThatThrownBy(() -> PolicySets.parse(tree))
        .isInstanceOfSatisfying(
            ValidationException.class, e -> assertThat(e.field()).isEqualTo(pointer));
  }

  @Test
  void parseRejectsNonObjects() {
    for (JsonNode node :
        new JsonNode[] {NODES.arrayNode(), NODES.textNode("{}"), NODES.nullNode(), null}) {
      assertThatThrownBy(() -> PolicySets.parse(node))
          .isInstanceOfSatisfying(
              ValidationException.class, e -> assertThat(e.field()).isEqualTo("/"));
    }
  }

  @Test
  void toTreeWritesEveryMemberOnce() {
    ObjectNode tree = PolicySets.toTree(signed().policySet());
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }

    assertThat(names)
        .containsExactlyInAnyOrder(
            "tenantId", "agentId", "revision", "issuedAt", "expiresAt", "pollIntervalSeconds",
            "policies", "signature");
  }
}
