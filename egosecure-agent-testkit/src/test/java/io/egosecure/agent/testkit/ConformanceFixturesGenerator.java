package io.egosecure.agent.testkit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import io.egosecure.core.wire.CanonicalJson;
import io.egosecure.core.wire.CanonicalPolicies;
import io.egosecure.core.wire.Json;
import io.egosecure.core.wire.PolicySets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * Writes the PolicySet verification conformance fixtures (docs/conformance.md). Everything is
 * fixed — keys, instants, texts — and Ed25519 is deterministic, so every run writes the same
 * bytes; {@code ConformanceFixturesTest} fails when the committed files differ from what this
 * produces.
 *
 * <p>Regenerate, from the repository root:
 *
 * <pre>
 * mvn -B -pl egosecure-agent-testkit test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=io.egosecure.agent.testkit.ConformanceFixturesGenerator \
 *   -Dexec.args=egosecure-agent-testkit/src/main/resources/io/egosecure/agent/testkit/conformance
 * </pre>
 */
public final class ConformanceFixturesGenerator {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ConformanceFixturesGenerator.class);
  static final String RESOURCE_DIRECTORY = "io/egosecure/agent/testkit/conformance/";
  static final String INDEX = "index.json";

  /*
   * TEST-ONLY KEYS. These are the secret keys of RFC 8032 section 7.1, tests 1, 2 and 3: public
   * knowledge, used here so the fixtures are reproducible. They sign nothing but these fixtures
   * and must never be used anywhere else.
   */
  private static final String TRUSTED_TEST_SEED =
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  private static final String SECOND_TRUSTED_TEST_SEED =
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
  private static final String FOREIGN_TEST_SEED =
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7";

  /** DER prefixes of an Ed25519 PKCS#8 private key and X.509 public key (RFC 8410). */
  private static final String PKCS8_PREFIX = "302e020100300506032b657004220420";
  private static final String SPKI_PREFIX = "302a300506032b6570032100";

  static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
  static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
  private static final String TENANT = "tenant-acme";
  private static final String AGENT = "agent-laptop-042";
  private static final Duration POLL_INTERVAL = Duration.ofSeconds(60);
  private static final Instant ISSUED = Instant.parse("2026-06-01T11:00:00Z");
  private static final Duration VALIDITY = Duration.ofDays(7);
  private static final int REVISION = 7;

  private static final SigningKey TRUSTED = signingKey(TRUSTED_TEST_SEED);
  private static final SigningKey SECOND_TRUSTED = signingKey(SECOND_TRUSTED_TEST_SEED);
  private static final SigningKey FOREIGN = signingKey(FOREIGN_TEST_SEED);
  /** A foreign private key that claims to be the trusted key. */
  private static final SigningKey FOREIGN_CLAIMING_TRUSTED_ID =
      new SigningKey(new PublicSigningKey(TRUSTED.keyId(), FOREIGN.publicKey().publicKey()),
          FOREIGN.privateKey());

  private static final PolicySet.Entry FIREWALL =
      entry("firewall", "Firewall baseline", "firewall", 1, "{\"defaultInbound\":\"deny\",\"ports\":[22,443]}");
  private static final PolicySet.Entry USB =
      entry("usb-block", "Block USB storage", "device-control", 3,
          "{\"allowList\":[\"VID_0781\"],\"block\":true}");
  private static final List<PolicySet.Entry> POLICIES = List.of(FIREWALL, USB);

  private static final ObjectWriter WRITER = JsonMapper.builder()
      .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
      .build()
      .writer(new DefaultPrettyPrinter()
          .withSeparators(Separators.createDefaultInstance()
              .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
          .withObjectIndenter(new DefaultIndenter("  ", "\n"))
          .withArrayIndenter(new DefaultIndenter("  ", "\n")))
      .without(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

  private ConformanceFixturesGenerator() {}

  /** Writes every fixture and the index into {@code args[0]}, removing fixtures no longer made. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: ConformanceFixturesGenerator <output directory>");
      System.exit(2);
    }
    Path directory = Path.of(args[0]);
    Files.createDirectories(directory);
    Map<String, byte[]> files = files();
    try (DirectoryStream<Path> existing = Files.newDirectoryStream(directory, "*.json")) {
      for (Path file : existing) {
        if (!files.containsKey(file.getFileName().toString())) {
          Files.delete(file);
          log.info("removed {}", file);
        }
      }
    }
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      Files.write(directory.resolve(file.getKey()), file.getValue());
    }
    log.info("wrote {} files to {}", files.size(), directory.toAbsolutePath());
  }

  /** File name to bytes: every fixture, in index order, then {@value #INDEX}. */
  static Map<String, byte[]> files() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    ArrayNode index = Json.object().arrayNode();
    for (ObjectNode fixture : fixtures()) {
      String file = fixture.get("name").asText() + ".json";
      if (files.put(file, write(fixture)) != null) {
        throw new IllegalStateException("two fixtures are named " + file);
      }
      index.add(file);
    }
    files.put(INDEX, write(index));
    return files;
  }

  static List<ObjectNode> fixtures() {
    List<ObjectNode> fixtures = new ArrayList<>();
    String base = signed(TRUSTED, TENANT, AGENT, REVISION, ISSUED, ISSUED.plus(VALIDITY), POLICIES);

    // ---- accepted ----
    fixtures.add(accept("valid-first-set",
        "A correctly signed set for this tenant and agent, with nothing applied before: apply it.",
        null, base, "new"));
    fixtures.add(accept("valid-revision-zero-empty",
        "Revision 0 with no policies is what an agent gets before the tenant's first publish; it is"
            + " signed like any other set and must be accepted.",
        null, signed(TRUSTED, TENANT, AGENT, 0, ISSUED, ISSUED.plus(VALIDITY), List.of()), "new"));
    fixtures.add(accept("valid-newer-revision",
        "A higher revision than the one applied is an update.",
        lastApplied(6, Instant.parse("2026-05-30T09:00:00Z"), List.of(FIREWALL)), base, "new"));
    fixtures.add(accept("valid-reissue",
        "The same revision with identical policies and a later issuedAt is a re-issue (the server"
            + " renews a set before it expires); accept it to renew the expiry.",
        lastApplied(REVISION, Instant.parse("2026-05-31T11:00:00Z"), POLICIES), base, "reissue"));
    fixtures.add(accept("valid-reissue-equal-after-canonicalisation",
        "A re-issue whose policies equal the applied ones after RFC 8785 canonicalisation (22.0 is"
            + " 22, 4.43e2 is 443, member order is irrelevant): compare canonical forms, not texts.",
        lastAppliedFromText(REVISION, Instant.parse("2026-05-31T11:00:00Z"),
            "[{\"version\":1,\"settings\":{\"ports\":[22.0,4.43e2],\"defaultInbound\":\"deny\"},"
                + "\"name\":\"Firewall baseline\",\"kind\":\"firewall\",\"id\":\"firewall\"},"
                + "{\"settings\":{\"block\":true,\"allowList\":[\"VID_0781\"]},\"version\":3,"
                + "\"kind\":\"device-control\",\"name\":\"Block USB storage\",\"id\":\"usb-block\"}]"),
        base, "reissue"));
    fixtures.add(accept("valid-unchanged",
        "Exactly the applied set again (same revision, policies and issuedAt), as after a restart"
            + " without a stored ETag: nothing to do, but it is not an error.",
        lastApplied(REVISION, ISSUED, POLICIES), base, "unchanged"));
    fixtures.add(accept("valid-unknown-member-signed",
        "A top-level member this agent does not know, covered by the signature, is how v1 grows:"
            + " verify over the received object with it included, and accept.",
        null, signText(TRUSTED, withMember(unsigned(base), "\"deliveryHint\":{\"cdn\":\"eu-1\"}")), "new"));
    fixtures.add(accept("valid-second-trusted-key",
        "Signed by the second of two trusted keys; pick the key by signature.keyId.",
        null, signed(SECOND_TRUSTED, TENANT, AGENT, REVISION, ISSUED, ISSUED.plus(VALIDITY), POLICIES),
        "new", TRUSTED, SECOND_TRUSTED));
    fixtures.add(accept("expired-within-skew",
        "expiresAt passed 4 minutes ago, inside the 5-minute clock skew allowance: still valid.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-05-25T11:56:00Z"),
            Instant.parse("2026-06-01T11:56:00Z"), POLICIES), "new"));
    fixtures.add(accept("expired-at-skew-boundary",
        "now is exactly expiresAt plus the clock skew; only a later now is expired.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-05-25T11:55:00Z"),
            Instant.parse("2026-06-01T11:55:00Z"), POLICIES), "new"));
    fixtures.add(accept("issued-within-skew",
        "issuedAt is 4 minutes in the agent's future, inside the clock skew allowance: the"
            + " server's clock is merely ahead.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-06-01T12:04:00Z"),
            Instant.parse("2026-06-08T12:04:00Z"), POLICIES), "new"));
    fixtures.add(accept("issued-at-skew-boundary",
        "issuedAt is exactly now plus the clock skew; only a later issuedAt is not yet valid.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-06-01T12:05:00Z"),
            Instant.parse("2026-06-08T12:05:00Z"), POLICIES), "new"));

    // ---- canonicalisation: received text is not canonical, the signature is over JCS ----
    fixtures.add(accept("canonical-members-reordered-pretty",
        "Members in another order and pretty-printed: the signature covers the RFC 8785 form, so"
            + " re-canonicalise what was received rather than verifying the raw bytes.",
        null, signText(TRUSTED, """
            {
                "tenantId" : "tenant-acme",
                "revision" : 7,
                "pollIntervalSeconds" : 60,
                "policies" : [
                    {
                        "settings" : { "ports" : [ 22, 443 ], "defaultInbound" : "deny" },
                        "version" : 1,
                        "name" : "Firewall baseline",
                        "kind" : "firewall",
                        "id" : "firewall"
                    },
                    {
                        "id" : "usb-block",
                        "kind" : "device-control",
                        "name" : "Block USB storage",
                        "settings" : {
                            "block" : true,
                            "allowList" : [ "VID_0781" ]
                        },
                        "version" : 3
                    }
                ],
                "issuedAt" : "2026-06-01T11:00:00Z",
                "expiresAt" : "2026-06-08T11:00:00Z",
                "agentId" : "agent-laptop-042"
            }
            """), "new"));
    fixtures.add(accept("canonical-string-escapes",
        "Strings written with escapes (\\u00e9, a surrogate pair for an emoji, \\/, \\t, \\u001f) and"
            + " raw non-ASCII: RFC 8785 writes each string in one way, so decode, then canonicalise.",
        null, signText(TRUSTED, policySetText("""
            {"id":"labels","name":"Caf\\u00e9 labels","kind":"labels","version":2,"settings":{
              "accent":"caf\\u00e9","emoji":"\\ud83d\\ude00","slash":"C:\\/temp\\/x","raw":"Stra\u00dfe",
              "controls":"tab\\there\\u001f\\n","quote":"say \\"hi\\" \\\\ bye","escapedAscii":"\\u0041BC"}}
            """)), "new"));
    fixtures.add(accept("canonical-numbers",
        "Numbers in forms RFC 8785 rewrites: 1e21 becomes 1e+21, 1.0 becomes 1, -0 becomes 0, 1E2"
            + " becomes 100; canonicalise with ECMAScript number formatting, not the received text.",
        null, signText(TRUSTED, policySetText("""
            {"id":"limits","name":"Limits","kind":"limits","version":1,"settings":{
              "huge":1e21,"tenth":0.1,"negativeZero":-0,"oneDotZero":1.0,"hundred":100,
              "exponent":1E2,"small":1e-7,"fraction":2.50,"negative":-12.5e1}}
            """)), "new"));
    fixtures.add(accept("canonical-key-ordering-utf16",
        "Object keys sort by UTF-16 code units (RFC 8785 3.2.3): \\ud83d\\ude00 sorts before"
            + " \\ufb33 although its code point is higher; nested objects sort too.",
        null, signText(TRUSTED, policySetText("""
            {"id":"sorting","name":"Sorting","kind":"labels","version":1,"settings":{
              "nested":{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",
                "1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"},
              "b":{"z":1,"a":{"y":2,"B":3,"A":4}},"a":[{"d":1,"c":2}],"A":null}}
            """)), "new"));

    // ---- bad signatures ----
    fixtures.add(reject("tampered-settings",
        "A policy setting was changed after signing (block true to false): the signature no longer"
            + " verifies, so nothing in the set can be trusted.",
        null, base.replace("\"block\":true", "\"block\":false"), "bad-signature"));
    fixtures.add(reject("tampered-unknown-member-added",
        "A member was added after signing; unknown members are covered by the signature too.",
        null, withMember(base, "\"deliveryHint\":{\"cdn\":\"eu-1\"}"), "bad-signature"));
    String otherSet = signed(TRUSTED, TENANT, AGENT, REVISION + 1, ISSUED, ISSUED.plus(VALIDITY), POLICIES);
    fixtures.add(reject("signature-of-other-set",
        "The signature value is a valid signature by the trusted key, but of another set (revision"
            + " 8): signatures are not transferable.",
        null, base.replace(signatureValue(base), signatureValue(otherSet)), "bad-signature"));
    byte[] longer = Arrays.copyOf(Base64.getDecoder().decode(signatureValue(base)), 65);
    fixtures.add(reject("signature-65-bytes",
        "The valid signature with a zero byte appended: an Ed25519 signature is exactly 64 bytes,"
            + " and some libraries ignore trailing bytes.",
        null, base.replace(signatureValue(base), Base64.getEncoder().encodeToString(longer)),
        "bad-signature"));
    fixtures.add(reject("signature-not-base64",
        "The signature value is not RFC 4648 base64.",
        null, base.replace(signatureValue(base), "%%not-base64%%"), "bad-signature"));
    fixtures.add(reject("algorithm-not-ed25519",
        "signature.algorithm says EdDSA: v1 knows only the exact string Ed25519, even though the"
            + " value would verify.",
        null, base.replace("\"algorithm\":\"Ed25519\"", "\"algorithm\":\"EdDSA\""), "bad-signature"));
    fixtures.add(reject("signed-by-foreign-key-with-known-keyId",
        "Signed by a key the agent does not trust, under the keyId of one it does: the key id only"
            + " selects the key, the signature decides.",
        null, signed(FOREIGN_CLAIMING_TRUSTED_ID, TENANT, AGENT, REVISION, ISSUED, ISSUED.plus(VALIDITY),
            POLICIES), "bad-signature"));
    fixtures.add(reject("precedence-bad-signature-over-wrong-tenant",
        "The tenantId was rewritten to another tenant's after signing: the signature check comes"
            + " first, so the verdict is bad-signature.",
        null, base.replace("\"tenantId\":\"tenant-acme\"", "\"tenantId\":\"tenant-other\""),
        "bad-signature"));

    // ---- keys ----
    fixtures.add(reject("unknown-key",
        "Signed by a key whose keyId is not among the trusted keys.",
        null, signed(FOREIGN, TENANT, AGENT, REVISION, ISSUED, ISSUED.plus(VALIDITY), POLICIES),
        "unknown-key"));

    // ---- addressed elsewhere ----
    fixtures.add(reject("wrong-tenant",
        "Validly signed, but for another tenant: never apply another tenant's policies.",
        null, signed(TRUSTED, "tenant-other", AGENT, REVISION, ISSUED, ISSUED.plus(VALIDITY), POLICIES),
        "wrong-tenant"));
    fixtures.add(reject("wrong-agent",
        "Validly signed for another agent of the same tenant: a set replayed from one agent to"
            + " another is rejected.",
        null, signed(TRUSTED, TENANT, "agent-desktop-007", REVISION, ISSUED, ISSUED.plus(VALIDITY),
            POLICIES), "wrong-agent"));
    fixtures.add(reject("precedence-wrong-tenant-over-expired",
        "For another tenant and long expired: the tenant check comes before the time checks.",
        null, signed(TRUSTED, "tenant-other", AGENT, REVISION, Instant.parse("2026-01-01T00:00:00Z"),
            Instant.parse("2026-01-08T00:00:00Z"), POLICIES), "wrong-tenant"));

    // ---- rollback ----
    fixtures.add(reject("rollback-older-revision",
        "Revision 7 after revision 8 was applied: an attacker replaying an old, validly signed set"
            + " must not undo a newer policy.",
        lastApplied(8, Instant.parse("2026-05-31T00:00:00Z"), List.of(USB)), base, "rollback"));
    fixtures.add(reject("rollback-same-revision-older-issuedAt",
        "The applied revision again, but issued before the applied copy: an older copy, so a"
            + " rollback of the expiry.",
        lastApplied(REVISION, Instant.parse("2026-06-01T11:30:00Z"), POLICIES), base, "rollback"));
    fixtures.add(reject("rollback-same-revision-different-policies",
        "The applied revision number with different policies: a revision never changes content, so"
            + " this is not a re-issue.",
        lastApplied(REVISION, Instant.parse("2026-05-31T11:00:00Z"), List.of(FIREWALL)), base,
        "rollback"));
    fixtures.add(reject("precedence-rollback-over-expired",
        "An older revision that has also expired: the rollback check comes before the time checks.",
        lastApplied(8, Instant.parse("2026-05-31T00:00:00Z"), POLICIES),
        signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-05-01T00:00:00Z"),
            Instant.parse("2026-05-08T00:00:00Z"), POLICIES), "rollback"));

    // ---- time ----
    fixtures.add(reject("expired",
        "expiresAt is 5 days past, far beyond the clock skew: freeze protection, an attacker must"
            + " not keep an agent on an old set by withholding new ones.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-05-20T00:00:00Z"),
            Instant.parse("2026-05-27T00:00:00Z"), POLICIES), "expired"));
    fixtures.add(reject("not-yet-valid",
        "issuedAt is 10 minutes in the future, beyond the clock skew: a set from the future is not"
            + " trusted.",
        null, signed(TRUSTED, TENANT, AGENT, REVISION, Instant.parse("2026-06-01T12:10:00Z"),
            Instant.parse("2026-06-08T12:10:00Z"), POLICIES), "not-yet-valid"));

    // ---- malformed ----
    fixtures.add(reject("malformed-not-json",
        "The body is cut off halfway: not JSON at all.",
        null, base.substring(0, base.length() / 2), "malformed"));
    fixtures.add(reject("malformed-array",
        "A JSON array holding a valid set: the body must be a single object.",
        null, "[" + base + "]", "malformed"));
    fixtures.add(reject("malformed-trailing-data",
        "A valid set followed by a second JSON value: the body must be exactly one object.",
        null, base + "\n{}", "malformed"));
    fixtures.add(reject("malformed-duplicate-member",
        "A second revision member: parsers disagree on which one wins, so the text is rejected"
            + " before anything else (RFC 8785 and I-JSON forbid duplicates).",
        null, "{\"revision\":999," + base.substring(1), "malformed"));
    fixtures.add(reject("malformed-missing-signature",
        "No signature member: without one there is nothing to verify.",
        null, unsigned(base), "malformed"));
    fixtures.add(reject("malformed-missing-revision",
        "Validly signed, but the revision member is missing.",
        null, signText(TRUSTED, edit(base, node -> node.remove("revision"))), "malformed"));
    fixtures.add(reject("malformed-revision-not-integer",
        "Validly signed, but revision is the string \"7\": a wrong type is not coerced.",
        null, signText(TRUSTED, edit(base, node -> node.put("revision", "7"))), "malformed"));
    fixtures.add(reject("malformed-negative-revision",
        "Validly signed, but revision is -1: revisions are integers from 0.",
        null, signText(TRUSTED, edit(base, node -> node.put("revision", -1))), "malformed"));
    fixtures.add(reject("malformed-issuedAt-not-rfc3339",
        "Validly signed, but issuedAt is not an RFC 3339 time.",
        null, signText(TRUSTED, edit(base, node -> node.put("issuedAt", "yesterday"))), "malformed"));
    fixtures.add(reject("malformed-settings-not-object",
        "Validly signed, but a policy's settings is an array: settings is always an object.",
        null, signText(TRUSTED, edit(base, node ->
            ((ObjectNode) node.get("policies").get(0)).putArray("settings").add("deny"))),
        "malformed"));
    return fixtures;
  }

  // ---- fixture documents ----

  private static ObjectNode accept(
      String name, String description, ObjectNode lastApplied, String policySet, String kind,
      SigningKey... trusted) {
    ObjectNode expected = Json.object().put("verdict", "accept").put("kind", kind);
    return fixture(name, description, lastApplied, policySet, expected, trusted);
  }

  private static ObjectNode reject(
      String name, String description, ObjectNode lastApplied, String policySet, String reason) {
    ObjectNode expected = Json.object().put("verdict", "reject").put("reason", reason);
    return fixture(name, description, lastApplied, policySet, expected);
  }

  private static ObjectNode fixture(
      String name, String description, ObjectNode lastApplied, String policySet,
      ObjectNode expected, SigningKey... trusted) {
    ObjectNode fixture = Json.object();
    fixture.put("name", name);
    fixture.put("description", description);
    ArrayNode keys = fixture.putArray("trustedKeys");
    for (SigningKey key : trusted.length == 0 ? new SigningKey[] {TRUSTED} : trusted) {
      keys.addObject()
          .put("keyId", key.keyId())
          .put("algorithm", PublicSigningKey.ALGORITHM)
          .put("publicKey", Base64.getEncoder().encodeToString(key.publicKey().publicKey().getEncoded()));
    }
    fixture.putObject("agent").put("tenantId", TENANT).put("agentId", AGENT);
    fixture.set("lastApplied", lastApplied == null ? fixture.nullNode() : lastApplied);
    fixture.put("now", NOW.toString());
    fixture.put("clockSkewSeconds", CLOCK_SKEW.toSeconds());
    fixture.put("policySet", policySet);
    fixture.set("expected", expected);
    return fixture;
  }

  private static ObjectNode lastApplied(long revision, Instant issuedAt, List<PolicySet.Entry> policies) {
    String canonical = new String(
        CanonicalJson.canonicalize(PolicySets.toTree(dummySet(policies)).get("policies")),
        StandardCharsets.UTF_8);
    return lastAppliedFromText(revision, issuedAt, canonical);
  }

  private static ObjectNode lastAppliedFromText(long revision, Instant issuedAt, String policiesJson) {
    ObjectNode last = Json.object();
    last.put("revision", revision);
    last.put("issuedAt", issuedAt.toString());
    last.set("policies", Json.readTree(policiesJson.getBytes(StandardCharsets.UTF_8)));
    return last;
  }

  /** Only for its policies' tree form. */
  private static PolicySet dummySet(List<PolicySet.Entry> policies) {
    return new PolicySet(TenantId.of(TENANT), AgentId.of(AGENT), 0, ISSUED, ISSUED, POLL_INTERVAL,
        policies, new PolicySet.Signature("k", "Ed25519", "v"));
  }

  // ---- texts ----

  /** The canonical text the server sends, signed by {@code key}, via the production signer. */
  private static String signed(
      SigningKey key, String tenant, String agent, long revision, Instant issuedAt,
      Instant expiresAt, List<PolicySet.Entry> policies) {
    return PolicySets.sign(TenantId.of(tenant), AgentId.of(agent), revision, issuedAt, expiresAt,
        POLL_INTERVAL, CanonicalPolicies.of(policies), key).jsonString();
  }

  /** The base set's members around one hand-written policy, in a non-canonical compact order. */
  private static String policySetText(String policyJson) {
    return "{\"revision\":7,\"tenantId\":\"tenant-acme\",\"agentId\":\"agent-laptop-042\","
        + "\"issuedAt\":\"2026-06-01T11:00:00Z\",\"expiresAt\":\"2026-06-08T11:00:00Z\","
        + "\"pollIntervalSeconds\":60,\"policies\":[" + policyJson.strip() + "]}";
  }

  /**
   * Signs the RFC 8785 form of {@code unsignedText} and adds the signature member as the last
   * member of the text as written, so the received text keeps its own formatting.
   */
  private static String signText(SigningKey key, String unsignedText) {
    byte[] canonical = CanonicalJson.canonicalize(unsignedText);
    String value = Base64.getEncoder().encodeToString(ed25519(key.privateKey(), canonical));
    String signature = "\"signature\":{\"keyId\":\"" + key.keyId()
        + "\",\"algorithm\":\"Ed25519\",\"value\":\"" + value + "\"}";
    int end = unsignedText.lastIndexOf('}');
    String head = unsignedText.substring(0, end).stripTrailing();
    return unsignedText.contains("\n")
        ? head + ",\n    " + signature.replace("\":", "\" : ") + "\n}\n"
        : head + "," + signature + "}";
  }

  /** The text without its signature member, members in the order they came. */
  private static String unsigned(String signedText) {
    ObjectNode node = (ObjectNode) Json.readTree(signedText.getBytes(StandardCharsets.UTF_8));
    node.remove("signature");
    return node.toString();
  }

  /** The unsigned text of {@code signedText} after {@code change}, to be signed again. */
  private static String edit(String signedText, Consumer<ObjectNode> change) {
    ObjectNode node = (ObjectNode) Json.readTree(unsigned(signedText).getBytes(StandardCharsets.UTF_8));
    change.accept(node);
    return node.toString();
  }

  /** Adds {@code member} ({@code "name":value}) as the first member of the object text. */
  private static String withMember(String objectText, String member) {
    return "{" + member + "," + objectText.substring(objectText.indexOf('{') + 1);
  }

  private static String signatureValue(String signedText) {
    JsonNode node = Json.readTree(signedText.getBytes(StandardCharsets.UTF_8));
    return node.get("signature").get("value").asText();
  }

  // ---- keys ----

  private static SigningKey signingKey(String seedHex) {
    try {
      byte[] seed = HexFormat.of().parseHex(seedHex);
      KeyFactory factory = KeyFactory.getInstance("Ed25519");
      PrivateKey privateKey = factory.generatePrivate(
          new PKCS8EncodedKeySpec(HexFormat.of().parseHex(PKCS8_PREFIX + seedHex)));
      // The JDK cannot derive a public key from a private one; BouncyCastle's light API can.
      byte[] publicKeyBytes = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
      PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(
          HexFormat.of().parseHex(SPKI_PREFIX + HexFormat.of().formatHex(publicKeyBytes))));
      return new SigningKey(PublicSigningKey.of(publicKey), privateKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load a fixed test key", e);
    }
  }

  private static byte[] ed25519(PrivateKey key, byte[] message) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(key);
      signer.update(message);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a fixture", e);
    }
  }

  private static PolicySet.Entry entry(String id, String name, String kind, long version, String settings) {
    return new PolicySet.Entry(PolicyId.of(id), name, kind, version,
        (ObjectNode) Json.readTree(settings.getBytes(StandardCharsets.UTF_8)));
  }

  private static byte[] write(JsonNode node) {
    try {
      return (WRITER.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a fixture", e);
    }
  }
}
