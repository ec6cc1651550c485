package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.agent.Verifier.Accepted;
import io.egosecure.agent.Verifier.Baseline;
import io.egosecure.agent.Verifier.Rejected;
import io.egosecure.agent.Verifier.Verdict;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.wire.CanonicalJson;
import io.egosecure.core.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SDK's verifier against every language-neutral conformance fixture of the test kit
 * (docs/conformance.md): the same verdict, the same accept kind or reject reason.
 */
class ConformanceFixturesTest {
  private static final String FOLDER = "/io/egosecure/agent/testkit/conformance/";

  static Stream<String> fixtures() throws IOException {
    List<String> names = new ArrayList<>();
    Json.readTree(read("index.json")).forEach(name -> names.add(name.asText()));
    assertThat(names).hasSizeGreaterThan(30);
    return names.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void reachesTheExpectedVerdict(String file) throws Exception {
    JsonNode fixture = Json.readTree(read(file));
    List<PublicSigningKey> keys = new ArrayList<>();
    for (JsonNode key : fixture.get("trustedKeys")) {
      keys.add(new PublicSigningKey(key.get("keyId").asText(), KeyFactory.getInstance("Ed25519")
          .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(key.get("publicKey").asText())))));
    }
    Verifier verifier = new Verifier(keys, TenantId.of(fixture.at("/agent/tenantId").asText()),
        AgentId.of(fixture.at("/agent/agentId").asText()),
        Duration.ofSeconds(fixture.get("clockSkewSeconds").asLong()));
    JsonNode last = fixture.get("lastApplied");
    Optional<Baseline> baseline = last == null || last.isNull() ? Optional.empty()
        : Optional.of(new Baseline(last.get("revision").asLong(), Instant.parse(last.get("issuedAt").asText()),
            CanonicalJson.canonicalize(last.get("policies"))));

    Verdict verdict = verifier.verify(fixture.get("policySet").asText().getBytes(StandardCharsets.UTF_8), baseline,
        Instant.parse(fixture.get("now").asText()));

    JsonNode expected = fixture.get("expected");
    if ("accept".equals(expected.get("verdict").asText())) {
      assertThat(verdict).as(fixture.get("description").asText()).isInstanceOf(Accepted.class);
      assertThat(((Accepted) verdict).verified().kind().name().toLowerCase(Locale.ROOT))
          .isEqualTo(expected.get("kind").asText());
    } else {
      assertThat(verdict).as(fixture.get("description").asText()).isInstanceOf(Rejected.class);
      assertThat(((Rejected) verdict).rejection().reason().code()).isEqualTo(expected.get("reason").asText());
    }
  }

  private static byte[] read(String name) throws IOException {
    try (InputStream in = ConformanceFixturesTest.class.getResourceAsStream(FOLDER + name)) {
      assertThat(in).as(name + " on the class path").isNotNull();
      return in.readAllBytes();
    }
  }
}
