package io.egosecure.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A bad value cannot exist: each record refuses it in its constructor, naming the field. */
class ModelValidationTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00.123456Z");

  @ParameterizedTest
  @ValueSource(strings = {"", "-a", "A", "a_b", "a.b", "a b", "é"})
  void idsAreLowercaseLettersDigitsAndDashes(String bad) {
    assertThatThrownBy(() -> TenantId.of(bad))
        .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.field()).isEqualTo("tenantId"));
  }

  @Test
  void idsHaveALengthLimit() {
    assertThat(TenantId.of("a".repeat(64)).value()).hasSize(64);
    assertThatThrownBy(() -> TenantId.of("a".repeat(65))).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> AgentId.of(null)).isInstanceOf(ValidationException.class);
  }

  @Test
  void pollingSettingsAreBounded() {
    assertThat(new PollingSettings(Duration.ofSeconds(5), 0).interval()).hasSeconds(5);
    assertThat(new PollingSettings(Duration.ofDays(1), 50).jitterPercent()).isEqualTo(50);
    assertThatThrownBy(() -> new PollingSettings(Duration.ofSeconds(4), 0))
        .isInstanceOf(ValidationException.class).hasMessageContaining("intervalSeconds");
    assertThatThrownBy(() -> new PollingSettings(Duration.ofSeconds(86_401), 0))
        .isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> new PollingSettings(Duration.ofMillis(5_500), 0))
        .isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> new PollingSettings(Duration.ofSeconds(60), 51))
        .isInstanceOf(ValidationException.class).hasMessageContaining("jitterPercent");
    assertThatThrownBy(() -> new PollingSettings(Duration.ofSeconds(60), -1))
        .isInstanceOf(ValidationException.class);
  }

  @Test
  void namesAreNotBlankNotTooLongAndFreeOfControlCharacters() {
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    assertThatThrownBy(() -> new PolicySpec(" ", "k", settings, Targets.allAgents()))
        .isInstanceOf(ValidationException.class).hasMessage("name: must not be blank");
    assertThatThrownBy(() -> new PolicySpec("x".repeat(201), "k", settings, Targets.allAgents()))
        .isInstanceOf(ValidationException.class).hasMessage("name: is 201 characters long; the limit is 200");
    assertThatThrownBy(() -> new PolicySpec("a\nb", "k", settings, Targets.allAgents()))
        .isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> new PolicySpec("ok", "bad kind", settings, Targets.allAgents()))
        .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.field()).isEqualTo("kind"));
  }

  @Test
  void settingsMustSurviveCanonicalisation() {
    ObjectNode tooBig = JsonNodeFactory.instance.objectNode();
    tooBig.putObject("limits").put("bytes", 1L << 53);
    ObjectNode huge = JsonNodeFactory.instance.objectNode();
    huge.putArray("list").add(BigInteger.TEN.pow(30));
    ObjectNode fine = JsonNodeFactory.instance.objectNode();
    fine.put("max", (1L << 53) - 1).put("ratio", 0.25).putNull("none");

    assertThatThrownBy(() -> new PolicySpec("p", "k", tooBig, Targets.allAgents()))
        .isInstanceOfSatisfying(ValidationException.class,
            e -> assertThat(e.field()).isEqualTo("settings.limits.bytes"));
    assertThatThrownBy(() -> new PolicySpec("p", "k", huge, Targets.allAgents()))
        .isInstanceOfSatisfying(ValidationException.class,
            e -> assertThat(e.field()).isEqualTo("settings.list[0]"));
    assertThat(new PolicySpec("p", "k", fine, Targets.allAgents()).settings()).isEqualTo(fine);
  }

  @Test
  void settingsCannotBeChangedThroughTheRecord() {
    ObjectNode settings = JsonNodeFactory.instance.objectNode().put("usb", "block");
    PolicySpec spec = new PolicySpec("p", "k", settings, Targets.allAgents());

    settings.put("usb", "allow");
    spec.settings().put("usb", "allow");

    assertThat(spec.settings().get("usb").asText()).isEqualTo("block");
  }

  @Test
  void settingsBuiltInJavaEqualTheSameSettingsParsed() throws Exception {
    ObjectNode built = JsonNodeFactory.instance.objectNode().put("n", 3L).put("f", 1.5f);
    ObjectNode parsed = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree("{\"n\": 3, \"f\": 1.5}");

    assertThat(new PolicySpec("p", "k", built, Targets.allAgents()))
        .isEqualTo(new PolicySpec("p", "k", parsed, Targets.allAgents()));
  }

  @Test
  void targetsMatchAgentsByGroup() {
    assertThat(Targets.allAgents().matches(Set.of())).isTrue();
    assertThat(Targets.groups(Set.of("a", "b")).matches(Set.of("b", "c"))).isTrue();
    assertThat(Targets.groups(Set.of("a")).matches(Set.of("c"))).isFalse();
    assertThat(Targets.groups(Set.of()).matches(Set.of("a"))).isFalse();
    Set<String> tooMany = IntStream.range(0, 101).mapToObj(i -> "g" + i).collect(Collectors.toSet());
    assertThatThrownBy(() -> Targets.groups(tooMany)).isInstanceOf(ValidationException.class);
  }

  @Test
  void instantsKeepMilliseconds() {
    Tenant tenant = new Tenant(TenantId.of("t"), "T", AT, Optional.empty(), PollingSettings.DEFAULT);
    assertThat(tenant.createdAt()).isEqualTo(Instant.parse("2026-01-01T00:00:00.123Z"));
  }

  @Test
  void agentLabelsAreBoundedAndSorted() {
    SecretHash hash = SecretHash.of("secret");
    Agent agent = Agent.enrolled(AgentId.of("a"), TenantId.of("t"), "host", Map.of("b", "2", "a", "1"),
        Set.of("g"), hash, AT);
    assertThat(agent.labels().keySet()).containsExactly("a", "b");
    assertThat(agent.publishedGroups()).isEqualTo(agent.groups());
    assertThatThrownBy(() -> Agent.enrolled(AgentId.of("a"), TenantId.of("t"), "host",
        Map.of("bad key", "v"), Set.of(), hash, AT)).isInstanceOf(ValidationException.class);
    assertThatThrownBy(() -> Agent.enrolled(AgentId.of("a"), TenantId.of("t"), "host",
        Map.of("k", "v".repeat(257)), Set.of(), hash, AT)).isInstanceOf(ValidationException.class);
  }

  @Test
  void anAppliedReportMovesTheAppliedRevisionAndAFailedOneDoesNot() {
    Agent agent = Agent.enrolled(AgentId.of("a"), TenantId.of("t"), "host", Map.of(), Set.of(),
        SecretHash.of("s"), AT);
    Agent applied = agent.withStatus(new AgentStatus(3, AgentState.APPLIED, "", AT));
    Agent failed = applied.withStatus(new AgentStatus(4, AgentState.FAILED, "no", AT));

    assertThat(applied.appliedRevision()).isEqualTo(OptionalLong.of(3));
    assertThat(failed.appliedRevision()).isEqualTo(OptionalLong.of(3));
    assertThat(failed.status().orElseThrow().revision()).isEqualTo(4);
  }

  @Test
  void enrollmentTokensAreBounded() {
    SecretHash hash = SecretHash.of("s");
    EnrollmentToken token = new EnrollmentToken(EnrollmentTokenId.of("e"), TenantId.of("t"), hash,
        Set.of(), AT, AT.plusSeconds(60), 1, 0);
    assertThat(token.usableAt(AT)).isTrue();
    assertThat(token.usableAt(AT.plusSeconds(60))).isFalse();
    assertThat(token.withOneMoreUse().usableAt(AT)).isFalse();
    assertThatThrownBy(() -> token.withOneMoreUse().withOneMoreUse()).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EnrollmentToken(EnrollmentTokenId.of("e"), TenantId.of("t"), hash,
        Set.of(), AT, AT.plusSeconds(60), 0, 0)).isInstanceOf(ValidationException.class);
  }

  @Test
  void onlyTenantAdminKeysNameATenant() {
    SecretHash hash = SecretHash.of("s");
    assertThatThrownBy(() -> new AdminKey(AdminKeyId.of("k"), "k", Role.OPERATOR,
        Optional.of(TenantId.of("t")), hash, AT)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AdminKey(AdminKeyId.of("k"), "k", Role.TENANT_ADMIN,
        Optional.empty(), hash, AT)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AdminKey(AdminKeyId.of("k"), "k", Role.AGENT,
        Optional.empty(), hash, AT)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void secretHashesCompareByValueAndNeverPrintTheWholeHash() {
    SecretHash hash = SecretHash.of("s3cret");
    assertThat(hash.matches("s3cret")).isTrue();
    assertThat(hash.matches("s3cre")).isFalse();
    assertThat(hash).isEqualTo(new SecretHash(hash.bytes())).hasSameHashCodeAs(new SecretHash(hash.bytes()));
    assertThat(hash.toString()).hasSizeLessThan(30);
    byte[] bytes = hash.bytes();
    bytes[0] ^= 1;
    assertThat(hash.bytes()[0]).isNotEqualTo(bytes[0]);
  }

  /** The hash is computed from a cloned digest; it must stay SHA-256 and safe to share. */
  @Test
  void secretHashesAreSha256FromAnyNumberOfThreadsAtOnce() {
    SecretHash abc = SecretHash.of("abc");
    assertThat(java.util.HexFormat.of().formatHex(abc.bytes()))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(IntStream.range(0, 20_000).parallel()
        .allMatch(i -> abc.matches("abc") && !abc.matches("abc" + i))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "0", "a-b", "t-4k2x", "0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopq"})
  void idsOfOneToSixtyFourLowerCaseLettersDigitsAndDashesAreValid(String id) {
    assertThat(Checks.isId(id)).isTrue();
    assertThat(TenantId.of(id).value()).isEqualTo(id);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "-a", "A", "a_b", "a.b", "a b", "é", "0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopqr"})
  void otherIdsAreRefused(String id) {
    assertThat(Checks.isId(id)).isFalse();
    assertThatThrownBy(() -> AgentId.of(id)).isInstanceOf(ValidationException.class);
  }
}
