package io.egosecure.core.wire;

import static io.egosecure.core.wire.Json.Strictness.IGNORE_UNKNOWN_FIELDS;
import static io.egosecure.core.wire.Json.Strictness.REJECT_UNKNOWN_FIELDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Targets;
import io.egosecure.core.wire.AdminMessages.AdminKeyView;
import io.egosecure.core.wire.AdminMessages.AgentGroups;
import io.egosecure.core.wire.AdminMessages.AgentView;
import io.egosecure.core.wire.AdminMessages.CreateAdminKey;
import io.egosecure.core.wire.AdminMessages.CreateEnrollmentToken;
import io.egosecure.core.wire.AdminMessages.CreateTenant;
import io.egosecure.core.wire.AdminMessages.CreatedEnrollmentToken;
import io.egosecure.core.wire.AdminMessages.Items;
import io.egosecure.core.wire.AdminMessages.PolicyBody;
import io.egosecure.core.wire.AdminMessages.PolicyView;
import io.egosecure.core.wire.AdminMessages.Polling;
import io.egosecure.core.wire.AdminMessages.Publish;
import io.egosecure.core.wire.AdminMessages.Published;
import io.egosecure.core.wire.AdminMessages.RevisionView;
import io.egosecure.core.wire.AdminMessages.TargetsBody;
import io.egosecure.core.wire.AdminMessages.TenantView;
import io.egosecure.core.wire.AgentMessages.EnrollRequest;
import io.egosecure.core.wire.AgentMessages.EnrollResponse;
import io.egosecure.core.wire.AgentMessages.Notification;
import io.egosecure.core.wire.AgentMessages.SigningKeyInfo;
import io.egosecure.core.wire.AgentMessages.StatusReport;
import io.egosecure.core.wire.Json.Strictness;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
  private static final Instant AT = Instant.parse("2026-01-02T03:04:05.006Z");

  private static byte[] utf8(String json) {
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static <T> T read(String json, Class<T> type, Strictness strictness) {
    return Json.read(utf8(json), type, strictness);
  }

  /** Reading fails with a ValidationException (never another exception) naming {@code pointer}. */
  private static ValidationException rejects(
      String json, Class<?> type, Strictness strictness, String pointer) {
    Throwable thrown = catchThrowable(() -> read(json, type, strictness));
    assertThat(thrown)
        .as("reading %s as %s", json, type.getSimpleName())
        .isExactlyInstanceOf(ValidationException.class);
    ValidationException e = (ValidationException) thrown;
    assertThat(e.field()).as("pointer of %s", json).isEqualTo(pointer);
    assertThat(e.getMessage()).startsWith(pointer + ": ");
    return e;
  }

  private static ObjectNode tree(Object message) {
    return (ObjectNode) Json.readTree(Json.write(message));
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  // ---- unknown members -----------------------------------------------------------------------

  @Test
  void rejectUnknownFieldsNamesTheUnknownMember() {
    ValidationException e =
        rejects("{\"nmae\":\"acme\",\"name\":\"acme\"}", CreateTenant.class,
            REJECT_UNKNOWN_FIELDS, "/nmae");
    assertThat(e).hasMessageContaining("not a field");
  }

  @Test
  void rejectUnknownFieldsNamesNestedUnknownMembers() {
    rejects(
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true,\"grups\":[]}}",
        PolicyBody.class, REJECT_UNKNOWN_FIELDS, "/targets/grups");
  }

  @Test
  void ignoreUnknownFieldsSkipsThem() {
    assertThat(read("{\"nmae\":\"x\",\"name\":\"acme\",\"more\":{\"a\":[1]}}", CreateTenant.class,
            IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(new CreateTenant("acme"));
    assertThat(read("{\"token\":\"t\",\"name\":\"host-01\",\"os\":\"linux\"}", EnrollRequest.class,
            IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(new EnrollRequest("t", "host-01", Map.of()));
  }

  @Test
  void settingsAreOpaqueSoAnyMemberIsAllowedInThemEvenWhenStrict() {
    PolicyBody body =
        read("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"anything\":{\"x\":null}},"
                + "\"targets\":{\"all\":true}}",
            PolicyBody.class, REJECT_UNKNOWN_FIELDS);
    assertThat(body.settings().path("anything").path("x").isNull()).isTrue();
  }

  // ---- wrong types ---------------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"revision\":\"7\",\"state\":\"APPLIED\"}            | /revision",
        "{\"revision\":7.5,\"state\":\"APPLIED\"}              | /revision",
        "{\"revision\":7.0,\"state\":\"APPLIED\"}              | /revision",
        "{\"revision\":true,\"state\":\"APPLIED\"}             | /revision",
        "{\"revision\":null,\"state\":\"APPLIED\"}             | /revision",
        "{\"revision\":{},\"state\":\"APPLIED\"}               | /revision",
        "{\"revision\":[7],\"state\":\"APPLIED\"}              | /revision",
        "{\"state\":\"APPLIED\"}                               | /revision",
        "{\"revision\":99999999999999999999,\"state\":\"APPLIED\"} | /revision",
        "{\"revision\":-1,\"state\":\"APPLIED\"}               | /revision",
        "{\"revision\":7,\"state\":\"DONE\"}                   | /state",
        "{\"revision\":7,\"state\":\"applied\"}                | /state",
        "{\"revision\":7,\"state\":\"\"}                       | /state",
        "{\"revision\":7,\"state\":0}                          | /state",
        "{\"revision\":7,\"state\":true}                       | /state",
        "{\"revision\":7,\"state\":null}                       | /state",
        "{\"revision\":7}                                      | /state",
        "{\"revision\":7,\"state\":\"FAILED\",\"message\":5}   | /message",
        "{\"revision\":7,\"state\":\"FAILED\",\"message\":{}}  | /message",
      })
  void statusReportRejectsWrongTypes(String json, String pointer) {
    rejects(json, StatusReport.class, IGNORE_UNKNOWN_FIELDS, pointer);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"name\":5}         | /name",
        "{\"name\":5.5}       | /name",
        "{\"name\":true}      | /name",
        "{\"name\":{}}        | /name",
        "{\"name\":[\"a\"]}   | /name",
        "{\"name\":null}      | /name",
        "{}                   | /name",
      })
  void stringMembersTakeOnlyStrings(String json, String pointer) {
    rejects(json, CreateTenant.class, REJECT_UNKNOWN_FIELDS, pointer);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"maxUses\":3000000000}               | /maxUses",
        "{\"maxUses\":-3000000000}              | /maxUses",
        "{\"maxUses\":1.5}                      | /maxUses",
        "{\"maxUses\":\"2\"}                    | /maxUses",
        "{\"maxUses\":true}                     | /maxUses",
        "{\"expiresInSeconds\":99999999999999999999} | /expiresInSeconds",
        "{\"expiresInSeconds\":\"3600\"}        | /expiresInSeconds",
        "{\"expiresInSeconds\":3600.0}          | /expiresInSeconds",
        "{\"expiresInSeconds\":0}               | /expiresInSeconds",
        "{\"expiresInSeconds\":-1}              | /expiresInSeconds",
        "{\"expiresInSeconds\":31622401}        | /expiresInSeconds",
        "{\"groups\":\"sales\"}                 | /groups",
        "{\"groups\":{\"sales\":true}}          | /groups",
        "{\"groups\":[5]}                       | /groups/0",
        "{\"groups\":[\"a\",null]}              | /groups/1",
        "{\"groups\":[[\"a\"]]}                 | /groups/0",
      })
  void createEnrollmentTokenRejectsWrongTypesAndBounds(String json, String pointer) {
    rejects(json, CreateEnrollmentToken.class, REJECT_UNKNOWN_FIELDS, pointer);
  }

  @Test
  void createEnrollmentTokenDefaultsAbsentMembers() {
    CreateEnrollmentToken empty = read("{}", CreateEnrollmentToken.class, REJECT_UNKNOWN_FIELDS);

    assertThat(empty.expiresInSeconds()).isEqualTo(86_400L);
    assertThat(empty.expiresIn()).isEqualTo(Duration.ofDays(1));
    assertThat(empty.maxUses()).isEqualTo(1);
    assertThat(empty.groups()).isEmpty();
    assertThat(read("{\"expiresInSeconds\":null,\"maxUses\":null,\"groups\":null}",
            CreateEnrollmentToken.class, REJECT_UNKNOWN_FIELDS))
        .isEqualTo(empty);
  }

  @Test
  void createEnrollmentTokenTakesItsBounds() {
    assertThat(read("{\"expiresInSeconds\":1}", CreateEnrollmentToken.class,
            REJECT_UNKNOWN_FIELDS).expiresIn())
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(read("{\"expiresInSeconds\":31622400,\"maxUses\":1000000,\"groups\":[\"sales\"]}",
            CreateEnrollmentToken.class, REJECT_UNKNOWN_FIELDS))
        .isEqualTo(new CreateEnrollmentToken(366L * 86_400, 1_000_000, List.of("sales")));
    assertThat(CreateEnrollmentToken.MAX_EXPIRES_IN_SECONDS).isEqualTo(31_622_400L);
  }

  @Test
  void createEnrollmentTokenOutOfRangeMessageStatesTheBound() {
    ValidationException e =
        rejects("{\"expiresInSeconds\":31622401}", CreateEnrollmentToken.class,
            REJECT_UNKNOWN_FIELDS, "/expiresInSeconds");
    assertThat(e).hasMessage("/expiresInSeconds: must be 1 to 31622400, was 31622401");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"intervalSeconds\":60,\"jitterPercent\":3000000000} | /jitterPercent",
        "{\"intervalSeconds\":60,\"jitterPercent\":true}       | /jitterPercent",
        "{\"intervalSeconds\":60,\"jitterPercent\":10.5}       | /jitterPercent",
        "{\"intervalSeconds\":60}                              | /jitterPercent",
        "{\"intervalSeconds\":\"60\",\"jitterPercent\":10}     | /intervalSeconds",
        "{\"intervalSeconds\":null,\"jitterPercent\":10}       | /intervalSeconds",
        "{\"intervalSeconds\":60,\"jitterPercent\":10,\"jitter\":1} | /jitter",
      })
  void pollingRejectsWrongTypes(String json, String pointer) {
    rejects(json, Polling.class, REJECT_UNKNOWN_FIELDS, pointer);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"name\":\"n\",\"role\":\"BOSS\"}     | /role",
        "{\"name\":\"n\",\"role\":\"operator\"} | /role",
        "{\"name\":\"n\",\"role\":1}            | /role",
        "{\"name\":\"n\",\"role\":[\"OPERATOR\"]} | /role",
        "{\"name\":\"n\"}                       | /role",
      })
  void enumsTakeOnlyTheirNames(String json, String pointer) {
    rejects(json, CreateAdminKey.class, REJECT_UNKNOWN_FIELDS, pointer);
  }

  @ParameterizedTest
  @EnumSource(Role.class)
  void everyRoleNameIsAccepted(Role role) {
    assertThat(read("{\"name\":\"n\",\"role\":\"" + role.name() + "\"}", CreateAdminKey.class,
            REJECT_UNKNOWN_FIELDS).role())
        .isEqualTo(role);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":[],\"targets\":{\"all\":true}}  | /settings",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":5,\"targets\":{\"all\":true}}   | /settings",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":\"{}\",\"targets\":{\"all\":true}} | /settings",
        "{\"name\":\"p\",\"kind\":\"k\",\"targets\":{\"all\":true}}                  | /settings",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":[]}              | /targets",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":true}            | /targets",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{}}                             | /targets",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":{}}              | /targets",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":false}} | /targets/all",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":\"true\"}} | /targets/all",
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"groups\":[1]}} | /targets/groups/0",
        "{\"name\":\"p\",\"kind\":5,\"settings\":{},\"targets\":{\"all\":true}}      | /kind",
      })
  void policyBodyRejectsWrongShapes(String json, String pointer) {
    rejects(json, PolicyBody.class, REJECT_UNKNOWN_FIELDS, pointer);
  }

  // ---- targets -------------------------------------------------------------------------------

  @Test
  void targetsAllOrGroups() {
    TargetsBody all = read("{\"all\":true}", TargetsBody.class, REJECT_UNKNOWN_FIELDS);
    TargetsBody groups = read("{\"groups\":[\"a\"]}", TargetsBody.class, REJECT_UNKNOWN_FIELDS);

    assertThat(all.toTargets()).isEqualTo(Targets.allAgents());
    assertThat(groups.toTargets()).isEqualTo(Targets.groups(List.of("a")));
    assertThat(read("{\"groups\":[]}", TargetsBody.class, REJECT_UNKNOWN_FIELDS).toTargets())
        .isEqualTo(Targets.groups(List.of()));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "{\"all\":false}",
        "{\"all\":true,\"groups\":[\"a\"]}",
        "{\"all\":false,\"groups\":[\"a\"]}",
        "{\"all\":null,\"groups\":null}",
      })
  void targetsNeedExactlyAllTrueOrGroups(String json) {
    Throwable thrown = catchThrowable(
        () -> read(json, TargetsBody.class, REJECT_UNKNOWN_FIELDS));
    assertThat(thrown).isExactlyInstanceOf(ValidationException.class);
    assertThat(((ValidationException) thrown).field()).startsWith("/targets");
  }

  @Test
  void targetsWriteBackAsTheyWereGiven() {
    assertThat(new String(Json.write(TargetsBody.of(Targets.allAgents())), StandardCharsets.UTF_8))
        .isEqualTo("{\"all\":true}");
    assertThat(new String(Json.write(TargetsBody.of(Targets.groups(List.of("b", "a")))),
            StandardCharsets.UTF_8))
        .isEqualTo("{\"groups\":[\"a\",\"b\"]}");
  }

  // ---- missing and optional members ----------------------------------------------------------

  @Test
  void missingRequiredMemberIsNamed() {
    ValidationException e =
        rejects("{\"name\":\"host-01\"}", EnrollRequest.class, IGNORE_UNKNOWN_FIELDS, "/token");
    assertThat(e).hasMessageContaining("token").hasMessageContaining("required");
    rejects("{\"token\":\"t\"}", EnrollRequest.class, IGNORE_UNKNOWN_FIELDS, "/name");
    rejects("{\"token\":null,\"name\":\"n\"}", EnrollRequest.class, IGNORE_UNKNOWN_FIELDS,
        "/token");
    rejects("{}", AgentGroups.class, REJECT_UNKNOWN_FIELDS, "/groups");
    rejects("{\"revision\":8}", Notification.class, IGNORE_UNKNOWN_FIELDS, "/type");
  }

  @Test
  void optionalMembersMayBeAbsent() {
    // PROTOCOL.md: enroll labels are optional; status message and publish comment may be absent.
    assertThat(read("{\"token\":\"t\",\"name\":\"host-01\"}", EnrollRequest.class,
            IGNORE_UNKNOWN_FIELDS).labels())
        .isEmpty();
    assertThat(read("{\"token\":\"t\",\"name\":\"host-01\",\"labels\":{\"os\":\"linux\"}}",
            EnrollRequest.class, IGNORE_UNKNOWN_FIELDS).labels())
        .containsExactly(Map.entry("os", "linux"));
    assertThat(read("{\"revision\":7,\"state\":\"APPLIED\"}", StatusReport.class,
            IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(new StatusReport(7, AgentState.APPLIED, ""));
    assertThat(read("{}", Publish.class, REJECT_UNKNOWN_FIELDS).comment()).isEmpty();
    assertThat(read("{\"comment\":\"ship it\"}", Publish.class, REJECT_UNKNOWN_FIELDS).comment())
        .isEqualTo("ship it");
  }

  @Test
  void labelsAreStringsOnly() {
    rejects("{\"token\":\"t\",\"name\":\"n\",\"labels\":{\"os\":5}}", EnrollRequest.class,
        IGNORE_UNKNOWN_FIELDS, "/labels/os");
    rejects("{\"token\":\"t\",\"name\":\"n\",\"labels\":{\"os\":null}}", EnrollRequest.class,
        IGNORE_UNKNOWN_FIELDS, "/labels/os");
    rejects("{\"token\":\"t\",\"name\":\"n\",\"labels\":[\"os\"]}", EnrollRequest.class,
        IGNORE_UNKNOWN_FIELDS, "/labels");
  }

  @Test
  void policyBodiesWithLoneSurrogatesAreValidJsonButNotValidPolicies() {
    // A lone surrogate escape is syntactically JSON but not I-JSON: RFC 8785 cannot
    // canonicalise it, so a policy holding it could never be signed. The model refuses it when
    // the policy is written, not at the next poll.
    PolicyBody inSettings = read(
        "{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"a\":[\"x\\ud800\"]},"
            + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS);
    assertThatThrownBy(inSettings::toSpec)
        .isExactlyInstanceOf(ValidationException.class)
        .hasMessageContaining("lone surrogate");

    // Jackson already refuses a lone surrogate in a member name; trees built in code reach
    // the model's check.
    rejects("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"\\udc00\":1},"
        + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS, "/settings");
    ObjectNode badKey = JsonNodeFactory.instance.objectNode().put("\udc00", 1);
    assertThatThrownBy(() -> new PolicyBody("p", "k", badKey, TargetsBody.of(Targets.allAgents()))
            .toSpec())
        .isExactlyInstanceOf(ValidationException.class)
        .hasMessageContaining("lone surrogate");

    PolicyBody inName = read(
        "{\"name\":\"USB \\ud83d\",\"kind\":\"k\",\"settings\":{},"
            + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS);
    assertThatThrownBy(inName::toSpec)
        .isExactlyInstanceOf(ValidationException.class)
        .extracting(e -> ((ValidationException) e).field())
        .isEqualTo("name");

    PolicyBody paired = read(
        "{\"name\":\"USB \\ud83d\\ude00\",\"kind\":\"k\","
            + "\"settings\":{\"\\ud83d\\ude00\":\"😀\"},\"targets\":{\"all\":true}}",
        PolicyBody.class, REJECT_UNKNOWN_FIELDS);
    assertThat(paired.toSpec().name()).isEqualTo("USB 😀");
  }

  // ---- documents that are not a message ------------------------------------------------------

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(
      strings = {
        "",
        "   ",
        "\n",
        "{",
        "{\"name\":",
        "{\"name\":\"a\"",
        "{\"name\":\"a\",}",
        "{name:\"a\"}",
        "{'name':'a'}",
        "{\"name\":\"a\"} x",
        "{\"name\":\"a\"} {}",
        "{\"name\":\"a\"}{\"name\":\"b\"}",
        "{\"name\":\"a\",\"name\":\"b\"}",
        "null",
        "[]",
        "[{\"name\":\"a\"}]",
        "\"a\"",
        "5",
        "true",
        "{\"name\":\"a\"} // comment",
        "{\"name\":NaN}",
        "\u00ff",
      })
  void documentsThatAreNotOneObjectAreRejectedAtTheRoot(String json) {
    rejects(json, CreateTenant.class, REJECT_UNKNOWN_FIELDS, "/");
    rejects(json, CreateTenant.class, IGNORE_UNKNOWN_FIELDS, "/");
  }

  @Test
  void emptyBodySaysSo() {
    assertThat(rejects("", CreateTenant.class, REJECT_UNKNOWN_FIELDS, "/"))
        .hasMessage("/: the body is empty");
    assertThatThrownBy(() -> Json.read(new byte[0], EnrollRequest.class, IGNORE_UNKNOWN_FIELDS))
        .isExactlyInstanceOf(ValidationException.class)
        .hasMessage("/: the body is empty");
  }

  @Test
  void duplicateKeysAreRejectedAtAnyDepth() {
    assertThat(rejects("{\"name\":\"a\",\"name\":\"b\"}", CreateTenant.class,
            REJECT_UNKNOWN_FIELDS, "/"))
        .hasMessageContaining("Duplicate field 'name'");
    Throwable thrown = catchThrowable(
        () -> read("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"a\":1,\"a\":2},"
                + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS));
    assertThat(thrown).isExactlyInstanceOf(ValidationException.class)
        .hasMessageContaining("Duplicate field 'a'");
  }

  @Test
  void invalidUtf8IsAValidationException() {
    byte[] body = {'{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xc3, '"', '}'};
    assertThatThrownBy(() -> Json.read(body, CreateTenant.class, REJECT_UNKNOWN_FIELDS))
        .isExactlyInstanceOf(ValidationException.class);
  }

  @Test
  void jacksonStreamLimitsAreValidationExceptions() {
    String deep = "[".repeat(2000) + "]".repeat(2000);
    rejects("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"a\":" + deep + "},"
        + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS, "/settings");
    String longNumber = "1" + "0".repeat(2000);
    rejects("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"a\":" + longNumber + "},"
        + "\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS, "/settings");
  }

  @Test
  void detailSpeaksJsonNotJava() {
    // Found by FuzzIT: Jackson's messages named `java.util.ArrayList<java.lang.String>` and
    // JsonToken constants, and the transport sent them to the client as the problem's detail.
    List<ValidationException> rejected = List.of(
        rejects("{\"expiresInSeconds\":60,\"maxUses\":1,\"groups\":1.5}", CreateEnrollmentToken.class,
            REJECT_UNKNOWN_FIELDS, "/groups"),
        rejects("{\"comment\":[]}", Publish.class, REJECT_UNKNOWN_FIELDS, "/comment"),
        rejects("{\"token\":{},\"name\":\"h\"}", EnrollRequest.class, IGNORE_UNKNOWN_FIELDS, "/token"),
        rejects("{\"name\":\"k\",\"role\":\"ROOT\"}", CreateAdminKey.class, REJECT_UNKNOWN_FIELDS, "/role"),
        rejects("{\"revision\":1,\"state\":\"DONE\"}", StatusReport.class, IGNORE_UNKNOWN_FIELDS, "/state"),
        rejects("{\"name\":\"p\",\"kind\":\"k\",\"settings\":{\"a\":" + "[".repeat(2000) + "]".repeat(2000)
            + "},\"targets\":{\"all\":true}}", PolicyBody.class, REJECT_UNKNOWN_FIELDS, "/settings"));
    for (ValidationException e : rejected) {
      assertThat(e.getMessage()).doesNotContainPattern("java\\.|io\\.egosecure|JsonToken|`");
    }
    assertThat(rejected.get(0)).hasMessageContaining("an array");
    assertThat(rejected.get(3)).hasMessageStartingWith("/role: must be one of [OPERATOR, DISTRIBUTOR, TENANT_ADMIN")
        .hasMessageEndingWith("], was ROOT");
  }

  @Test
  void detailIsOneLineAndBounded() {
    String huge = "{\"name\":\"" + "x".repeat(10_000) + "\"} trailing";
    ValidationException e = rejects(huge, CreateTenant.class, REJECT_UNKNOWN_FIELDS, "/");
    assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThan(400);
  }

  // ---- instants ------------------------------------------------------------------------------

  @Test
  void instantsAreReadFromRfc3339Strings() {
    assertThat(read("{\"revision\":3,\"publishedAt\":\"2026-01-02T03:04:05.006Z\"}",
            Published.class, REJECT_UNKNOWN_FIELDS))
        .isEqualTo(new Published(3, AT));
    assertThat(read("{\"revision\":3,\"publishedAt\":\"2026-01-02T05:04:05.006+02:00\"}",
            Published.class, REJECT_UNKNOWN_FIELDS).publishedAt())
        .isEqualTo(AT);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "1767323045",
        "1767323045006",
        "1767323045.006",
        "\"1767323045\"",
        "\"yesterday\"",
        "\"\"",
        "\"2026-01-02\"",
        "\"2026-01-02 03:04:05Z\"",
        "[2026,1,2,3,4,5]",
        "{}",
        "true",
      })
  void instantsInAnyOtherShapeAreRejected(String value) {
    rejects("{\"revision\":3,\"publishedAt\":" + value + "}", Published.class,
        REJECT_UNKNOWN_FIELDS, "/publishedAt");
  }

  @Test
  void instantsAreWrittenAsRfc3339Strings() {
    ObjectNode published = tree(new Published(3, AT));

    assertThat(published.path("publishedAt").isTextual()).isTrue();
    assertThat(published.path("publishedAt").asText()).isEqualTo("2026-01-02T03:04:05.006Z");
    assertThat(tree(new Published(3, Instant.parse("2026-01-02T03:04:05Z")))
            .path("publishedAt").asText())
        .isEqualTo("2026-01-02T03:04:05Z");
  }

  // ---- what the server writes: PROTOCOL.md field names ---------------------------------------

  @Test
  void enrollResponseHasTheProtocolFields() throws Exception {
    PublicKey publicKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
    PublicSigningKey signingKey = PublicSigningKey.of(publicKey);
    EnrollResponse response =
        new EnrollResponse("agent-7", "acme", "secret", 300, 10,
            List.of(SigningKeyInfo.of(signingKey)));

    ObjectNode tree = tree(response);

    assertThat(names(tree))
        .containsExactlyInAnyOrder(
            "agentId", "tenantId", "credential", "pollIntervalSeconds", "pollJitterPercent",
            "signingKeys");
    assertThat(tree.path("agentId").asText()).isEqualTo("agent-7");
    assertThat(tree.path("tenantId").asText()).isEqualTo("acme");
    assertThat(tree.path("credential").asText()).isEqualTo("secret");
    assertThat(tree.path("pollIntervalSeconds").isIntegralNumber()).isTrue();
    assertThat(tree.path("pollIntervalSeconds").asLong()).isEqualTo(300);
    assertThat(tree.path("pollJitterPercent").asInt()).isEqualTo(10);
    JsonNode key = tree.path("signingKeys").path(0);
    assertThat(names(key)).containsExactlyInAnyOrder("keyId", "algorithm", "publicKey");
    assertThat(key.path("keyId").asText()).isEqualTo(signingKey.keyId()).startsWith("ed25519-");
    assertThat(key.path("algorithm").asText()).isEqualTo("Ed25519");
    // Standard, padded base64 of the DER X.509 SubjectPublicKeyInfo.
    byte[] der = Base64.getDecoder().decode(key.path("publicKey").asText());
    PublicKey decoded = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    assertThat(decoded).isEqualTo(publicKey);
    assertThat(PublicSigningKey.keyIdOf(decoded)).isEqualTo(signingKey.keyId());

    // An agent reads it back, tolerating members added later.
    tree.put("added", "later");
    assertThat(Json.read(Json.write(tree), EnrollResponse.class, IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(response);
  }

  @Test
  void itemsWriteNextAsNullOnTheLastPage() {
    ObjectNode last = tree(new Items<>(List.of(new Published(1, AT)), null));

    assertThat(names(last)).containsExactly("items", "next");
    assertThat(last.get("next").isNull()).isTrue();
    assertThat(last.path("items").path(0).path("revision").asLong()).isEqualTo(1);

    ObjectNode more = tree(new Items<>(List.of(), "cursor-2"));
    assertThat(more.path("items").isArray()).isTrue();
    assertThat(more.path("next").asText()).isEqualTo("cursor-2");
  }

  @Test
  void itemsOfAPageCarryItsCursor() {
    var page = new io.egosecure.core.spi.Page<>(List.of(1L, 2L), java.util.Optional.of("c"));
    Items<Published> items = Items.of(page, n -> new Published(n, AT));

    assertThat(items.next()).isEqualTo("c");
    assertThat(items.items()).extracting(Published::revision).containsExactly(1L, 2L);
    assertThat(Items.of(new io.egosecure.core.spi.Page<>(List.of(), java.util.Optional.empty()),
            n -> n).next())
        .isNull();
  }

  @Test
  void adminViewsHaveTheProtocolFields() {
    assertThat(names(tree(new TenantView("acme", "Acme", AT))))
        .containsExactlyInAnyOrder("id", "name", "createdAt");
    assertThat(names(tree(new Published(4, AT))))
        .containsExactlyInAnyOrder("revision", "publishedAt");
    assertThat(names(tree(new RevisionView(4, AT, "c", "operator"))))
        .containsExactlyInAnyOrder("revision", "publishedAt", "comment", "actor");
    assertThat(names(tree(new Polling(60, 10))))
        .containsExactlyInAnyOrder("intervalSeconds", "jitterPercent");
    assertThat(names(tree(new CreatedEnrollmentToken("t-1", "secret", AT, List.of("sales"), 1))))
        .contains("id", "token", "expiresAt");
    assertThat(names(tree(new AdminMessages.AuditView(AT, "operator", "publish", "acme"))))
        .containsExactlyInAnyOrder("at", "actor", "action", "target");
    assertThat(names(tree(new AdminMessages.CreatedAdminKey(
            "k-1", "secret", "console", Role.OPERATOR, null, AT))))
        .contains("id", "key")
        .doesNotContain("tenantId");
    assertThat(names(tree(new AdminKeyView("k-1", "console", Role.TENANT_ADMIN, "acme", AT))))
        .contains("id", "name", "role", "tenantId", "createdAt")
        .doesNotContain("key");
  }

  @Test
  void policyViewHasTheProtocolFields() {
    ObjectNode settings = JsonNodeFactory.instance.objectNode().put("block", true);
    ObjectNode view = tree(new PolicyView("p-1", "USB", "device-control", settings,
        TargetsBody.of(Targets.groups(List.of("sales"))), 3, AT));

    assertThat(names(view))
        .containsExactlyInAnyOrder(
            "id", "name", "kind", "settings", "targets", "version", "updatedAt");
    assertThat(view.path("settings")).isEqualTo(settings);
    assertThat(view.path("targets").toString()).isEqualTo("{\"groups\":[\"sales\"]}");
    assertThat(view.path("version").asLong()).isEqualTo(3);
    assertThat(view.path("updatedAt").asText()).isEqualTo("2026-01-02T03:04:05.006Z");
  }

  @Test
  void agentViewHasTheProtocolFields() {
    ObjectNode view = tree(new AgentView("a-1", "host-01", List.of("sales"), Map.of("os", "linux"),
        AT, 7L, AgentState.APPLIED, "", 7L, AT));

    assertThat(names(view))
        .contains("id", "name", "groups", "labels", "lastSeenAt", "appliedRevision", "state",
            "message");
    assertThat(view.path("state").asText()).isEqualTo("APPLIED");
    assertThat(view.path("lastSeenAt").asText()).isEqualTo("2026-01-02T03:04:05.006Z");

    ObjectNode fresh = tree(new AgentView("a-2", "host-02", List.of(), Map.of(), null, null, null,
        null, null, AT));
    assertThat(fresh.get("lastSeenAt").isNull()).isTrue();
    assertThat(fresh.get("appliedRevision").isNull()).isTrue();
    assertThat(fresh.get("state").isNull()).isTrue();
  }

  @Test
  void notificationIsTypeAndRevision() {
    assertThat(new String(Json.write(Notification.policiesChanged(8)), StandardCharsets.UTF_8))
        .isEqualTo("{\"type\":\"policies-changed\",\"revision\":8}");
    // Agents ignore types they do not know, and members added later.
    assertThat(read("{\"type\":\"keys-rotated\",\"revision\":9,\"keyId\":\"k\"}",
            Notification.class, IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(new Notification("keys-rotated", 9));
  }

  @Test
  void requestsRoundTrip() {
    EnrollRequest enroll = new EnrollRequest("t", "host-01", Map.of("os", "linux"));
    StatusReport status = new StatusReport(7, AgentState.FAILED, "disk full ✗");
    CreateEnrollmentToken token = new CreateEnrollmentToken(3600L, 5, List.of("sales"));
    PolicyBody policy = new PolicyBody("USB", "device-control",
        JsonNodeFactory.instance.objectNode().put("ratio", 1.5),
        TargetsBody.of(Targets.allAgents()));

    assertThat(Json.read(Json.write(enroll), EnrollRequest.class, IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(enroll);
    assertThat(Json.read(Json.write(status), StatusReport.class, IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(status);
    assertThat(Json.read(Json.write(token), CreateEnrollmentToken.class, REJECT_UNKNOWN_FIELDS))
        .isEqualTo(token);
    assertThat(Json.read(Json.write(policy), PolicyBody.class, REJECT_UNKNOWN_FIELDS))
        .isEqualTo(policy);
    assertThat(Json.read(Json.write(new AgentGroups(List.of("a"))), AgentGroups.class,
            REJECT_UNKNOWN_FIELDS))
        .isEqualTo(new AgentGroups(List.of("a")));
  }

  @Test
  void writeProducesUtf8() {
    CreateTenant tenant = new CreateTenant("Ünïcødé € 😀");
    byte[] body = Json.write(tenant);

    assertThat(new String(body, StandardCharsets.UTF_8)).startsWith("{\"name\":\"Ünïcødé € ");
    assertThat(Json.read(body, CreateTenant.class, REJECT_UNKNOWN_FIELDS)).isEqualTo(tenant);
  }

  // ---- trees ---------------------------------------------------------------------------------

  @Test
  void convertAppliesTheSameRules() {
    ObjectNode tree = JsonNodeFactory.instance.objectNode().put("revision", "7").put("state", "APPLIED");
    assertThatThrownBy(() -> Json.convert(tree, StatusReport.class, IGNORE_UNKNOWN_FIELDS))
        .isExactlyInstanceOf(ValidationException.class)
        .extracting(e -> ((ValidationException) e).field())
        .isEqualTo("/revision");

    ObjectNode unknown = JsonNodeFactory.instance.objectNode().put("name", "a").put("nmae", "b");
    assertThatThrownBy(() -> Json.convert(unknown, CreateTenant.class, REJECT_UNKNOWN_FIELDS))
        .isExactlyInstanceOf(ValidationException.class)
        .extracting(e -> ((ValidationException) e).field())
        .isEqualTo("/nmae");
    assertThat(Json.convert(unknown, CreateTenant.class, IGNORE_UNKNOWN_FIELDS))
        .isEqualTo(new CreateTenant("a"));

    ObjectNode missing = JsonNodeFactory.instance.objectNode().put("name", "n");
    assertThatThrownBy(() -> Json.convert(missing, EnrollRequest.class, IGNORE_UNKNOWN_FIELDS))
        .isExactlyInstanceOf(ValidationException.class)
        .extracting(e -> ((ValidationException) e).field())
        .isEqualTo("/token");
  }

  @Test
  void toTreeIsWhatWriteWrites() {
    StatusReport status = new StatusReport(7, AgentState.APPLIED, "ok");
    assertThat(Json.toTree(status).toString())
        .isEqualTo(new String(Json.write(status), StandardCharsets.UTF_8))
        .isEqualTo("{\"revision\":7,\"state\":\"APPLIED\",\"message\":\"ok\"}");
    assertThat(Json.object()).isEmpty();
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {"", "  ", "{", "{\"a\":1,\"a\":2}", "{} x", "{} {}", "[1,]", "{'a':1}"})
  void readTreeRejectsMalformedBodies(String json) {
    assertThatThrownBy(() -> Json.readTree(utf8(json)))
        .isExactlyInstanceOf(ValidationException.class)
        .extracting(e -> ((ValidationException) e).field())
        .isEqualTo("/");
  }

  @Test
  void readTreeKeepsEveryMember() {
    JsonNode tree = Json.readTree(utf8("{\"b\":1e21,\"a\":[null,{\"x\":\"é\"}],\"unknown\":true}"));
    assertThat(names(tree)).containsExactly("b", "a", "unknown");
    assertThat(tree.path("b").asDouble()).isEqualTo(1e21);
  }
}
